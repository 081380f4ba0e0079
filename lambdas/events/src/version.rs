//! `detail.eventVersion`: `MAJOR.MINOR`, where a new minor only adds optional fields and a new
//! major may break readers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The version of an event's detail, e.g. `2.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventVersion {
    /// Breaking changes bump the major.
    pub major: u32,
    /// Additive changes bump the minor.
    pub minor: u32,
}

impl EventVersion {
    /// `major.minor`.
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }
}

impl fmt::Display for EventVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for EventVersion {
    type Err = String;

    /// Accepts `2`, `2.0` and `2.1`; anything else is an error.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (major, minor) = s.split_once('.').unwrap_or((s, "0"));
        let parse = |part: &str| {
            part.parse::<u32>()
                .map_err(|_| format!("bad eventVersion {s:?}"))
        };
        Ok(Self::new(parse(major)?, parse(minor)?))
    }
}

impl Serialize for EventVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventVersion {
    /// Reads `"2.0"` and, leniently, the JSON number `2.0` or `2`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) => text.parse().map_err(serde::de::Error::custom),
            serde_json::Value::Number(n) => n.to_string().parse().map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!(
                "eventVersion must be a string, not {other}"
            ))),
        }
    }
}

impl schemars::JsonSchema for EventVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EventVersion".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]+\\.[0-9]+$",
            "description": "MAJOR.MINOR; readers reject an unknown major"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_major_minor() {
        let v: EventVersion = "2.1".parse().unwrap();
        assert_eq!(v, EventVersion::new(2, 1));
        assert_eq!(v.to_string(), "2.1");
        assert_eq!(
            "3".parse::<EventVersion>().unwrap(),
            EventVersion::new(3, 0)
        );
        assert!("two".parse::<EventVersion>().is_err());
        assert!("1.x".parse::<EventVersion>().is_err());
    }

    #[test]
    fn a_numeric_version_is_read_leniently() {
        let v: EventVersion = serde_json::from_str("2.0").unwrap();
        assert_eq!(v, EventVersion::new(2, 0));
        let v: EventVersion = serde_json::from_str("1").unwrap();
        assert_eq!(v, EventVersion::new(1, 0));
        assert!(serde_json::from_str::<EventVersion>("true").is_err());
    }
}
