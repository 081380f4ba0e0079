//! The forward of a tenant account: the rule on the tenant's bus whose target is the central
//! bus, declared once in `terraform/modules/tenant/forward.json` (its event pattern and retry
//! policy). The tenant module reads the file with `jsondecode(file(...))`; the local stack
//! routes a tenant bus's events with it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ConfigError, RetryPolicy, check_retry_policy};

/// The declaration file, embedded: `(file name, contents)`.
pub const DECLARATION: (&str, &str) = (
    "terraform/modules/tenant/forward.json",
    include_str!("../../../terraform/modules/tenant/forward.json"),
);

/// The forward, as declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForwardDecl {
    /// The target id, and what `ecomm` calls the forward (`forward@<tenant account>`).
    pub name: String,
    /// What it does.
    pub description: String,
    /// The rule's event pattern, on the tenant's bus.
    pub event_pattern: Value,
    /// The bus target's retry policy, before an event goes to the forward DLQ.
    pub retry_policy: RetryPolicy,
}

/// The forward with its pattern loaded.
pub struct Forward {
    /// The declaration.
    pub decl: ForwardDecl,
    matcher: quamina::Quamina<()>,
}

impl std::fmt::Debug for Forward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forward")
            .field("decl", &self.decl)
            .finish_non_exhaustive()
    }
}

impl Forward {
    /// The embedded declaration.
    pub fn embedded() -> Result<Self, ConfigError> {
        Self::from_file(DECLARATION.0, DECLARATION.1)
    }

    /// A declaration read from `text` (named `file` in errors).
    pub fn from_file(file: &str, text: &str) -> Result<Self, ConfigError> {
        let decl: ForwardDecl =
            serde_json::from_str(text).map_err(|e| ConfigError::Unreadable {
                file: file.to_owned(),
                reason: e.to_string(),
            })?;
        check_retry_policy(file, decl.retry_policy)?;
        let mut matcher = quamina::Quamina::new();
        matcher
            .add_pattern((), &decl.event_pattern.to_string())
            .map_err(|e| ConfigError::BadPattern {
                file: file.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self { decl, matcher })
    }

    /// Whether the rule forwards `event` (the envelope JSON).
    pub fn forwards(&self, event: &Value) -> bool {
        self.matcher
            .matches_for_event(event.to_string().as_bytes())
            .is_ok_and(|m| !m.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_order_systems_events_are_forwarded_and_nothing_else() {
        let forward = Forward::embedded().unwrap();
        assert_eq!(forward.decl.name, "forward");
        let event =
            |source: &str| json!({"source": source, "detail-type": "OrderCreated", "detail": {}});
        assert!(forward.forwards(&event("ecomm.orders")));
        assert!(forward.forwards(&event("ecomm.inventory")));
        assert!(!forward.forwards(&event("aws.ec2")));
        assert!(!forward.forwards(&event("shop.orders")));
    }

    #[test]
    fn a_declaration_out_of_eventbridges_bounds_is_an_error_naming_the_file() {
        let text = DECLARATION.1.replace("86400", "90000");
        let error = Forward::from_file("forward.json", &text).unwrap_err();
        assert!(error.to_string().contains("forward.json"), "{error}");
        assert!(error.to_string().contains("60–86400"), "{error}");
    }
}
