//! The one structured log line every function emits.
//!
//! One JSON object per line, on stdout, so CloudWatch Logs stores it verbatim and `ecomm trace`
//! can rebuild an order's event chain from the log groups. The schema is in
//! `docs/events/LogRecord.schema.json`.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Severity.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    /// Detail for debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that did not fail the invocation.
    Warn,
    /// The invocation failed.
    Error,
}

/// How an invocation, or one step of it, ended. The serde names are the wire names; every
/// writer logs them through [`Outcome::as_str`], and every reader parses them with serde.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Done, with its side effects.
    Succeeded,
    /// A replay of an event already processed: nothing done.
    Duplicate,
    /// Failed; Lambda retries, then the DLQ.
    Failed,
    /// Bad input answered with a client error (the producer's 400).
    Rejected,
    /// Nothing to do (e.g. no email address to notify).
    Skipped,
    /// An event was published to the bus (the record's `eventId` is the new event's).
    Published,
    /// An outcome this build does not know (a newer function wrote it), kept verbatim.
    #[serde(untagged)]
    Other(String),
}

impl Outcome {
    /// Every outcome this build knows.
    pub const KNOWN: [Self; 6] = [
        Self::Succeeded,
        Self::Duplicate,
        Self::Failed,
        Self::Rejected,
        Self::Skipped,
        Self::Published,
    ];

    /// The wire name, as serialized (a test holds the two together).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Duplicate => "duplicate",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::Skipped => "skipped",
            Self::Published => "published",
            Self::Other(name) => name,
        }
    }

    /// Whether this build knows the outcome.
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogRecord {
    /// When the line was written.
    pub timestamp: DateTime<Utc>,
    /// Severity.
    pub level: LogLevel,
    /// The function, e.g. `inventory`.
    pub service: String,
    /// What happened, for people.
    pub message: String,
    /// The order journey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The event the line is about: the one being handled, or for `published`, the new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// The bus's id of `eventId` (its envelope's `id`), which the bus's own log is keyed by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus_event_id: Option<String>,
    /// The event that caused `eventId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    /// The detail-type of `eventId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_type: Option<String>,
    /// How it ended; absent on the start line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// Lambda's attempt number (1 = first try), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Time since the invocation started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The error, when the outcome is `failed` or `rejected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl LogRecord {
    /// A bare line; fill in the optional fields as known.
    pub fn new(timestamp: DateTime<Utc>, level: LogLevel, service: &str, message: &str) -> Self {
        Self {
            timestamp,
            level,
            service: service.to_owned(),
            message: message.to_owned(),
            correlation_id: None,
            order_id: None,
            event_id: None,
            bus_event_id: None,
            causation_id: None,
            detail_type: None,
            outcome: None,
            attempt: None,
            duration_ms: None,
            error: None,
        }
    }

    /// The line as printed: one JSON object, no newline.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("log records always serialize")
    }

    /// Read a line; `None` for lines that are not ours (Lambda's `START`/`REPORT`, say).
    pub fn parse(line: &str) -> Option<Self> {
        let line = line.trim();
        if !line.starts_with('{') {
            return None;
        }
        serde_json::from_str(line).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_foreign_lines_are_skipped() {
        let mut rec = LogRecord::new(
            "2026-01-22T11:45:00.250Z".parse().unwrap(),
            LogLevel::Info,
            "inventory",
            "reserved",
        );
        rec.correlation_id = Some("c-1".into());
        rec.outcome = Some(Outcome::Succeeded);
        rec.duration_ms = Some(12);
        let line = rec.to_json_line();
        assert!(line.contains(r#""correlationId":"c-1""#), "{line}");
        assert!(
            !line.contains("causationId"),
            "absent fields are omitted: {line}"
        );
        assert_eq!(LogRecord::parse(&line), Some(rec));
        assert_eq!(
            LogRecord::parse("START RequestId: 1 Version: $LATEST"),
            None
        );
        assert_eq!(LogRecord::parse(r#"{"unrelated": true}"#), None);
    }

    #[test]
    fn as_str_is_the_wire_name_and_unknown_outcomes_are_kept_verbatim() {
        for outcome in Outcome::KNOWN {
            assert_eq!(
                serde_json::to_value(&outcome).unwrap(),
                serde_json::Value::String(outcome.as_str().to_owned())
            );
            let parsed: Outcome = serde_json::from_value(outcome.as_str().into()).unwrap();
            assert_eq!(parsed, outcome);
        }
        let line = r#"{"timestamp":"2026-01-22T11:45:00.250Z","level":"INFO","service":"inventory","message":"m","outcome":"deferred"}"#;
        let record = LogRecord::parse(line).expect("a record of a newer function is still read");
        assert_eq!(record.outcome, Some(Outcome::Other("deferred".to_owned())));
        assert!(!record.outcome.as_ref().unwrap().is_known());
        assert_eq!(record.to_json_line(), line);
    }
}
