//! The EventBridge event envelope.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ContractError;
use crate::events::DomainEvent;

/// An event as EventBridge delivers it to a target (and as a target DLQ stores it).
///
/// `D` is the detail: raw JSON by default, so that an envelope whose detail does not decode is
/// still readable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EventEnvelope<D = Value> {
    /// Always `"0"` on AWS.
    #[serde(default = "default_envelope_version")]
    pub version: String,
    /// Assigned by EventBridge on `PutEvents`; not stable across a replay.
    pub id: String,
    /// The kind of event, one of [`crate::detail_types`].
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// The publishing service, one of [`crate::sources`].
    pub source: String,
    /// The AWS account of the bus.
    #[serde(default)]
    pub account: String,
    /// When EventBridge received the event.
    pub time: DateTime<Utc>,
    /// The AWS region of the bus.
    #[serde(default)]
    pub region: String,
    /// ARNs the event concerns; unused by this system.
    #[serde(default)]
    pub resources: Vec<String>,
    /// The event itself.
    pub detail: D,
}

fn default_envelope_version() -> String {
    "0".to_owned()
}

impl EventEnvelope<Value> {
    /// The envelope EventBridge would deliver for `event` put on a bus in `account`/`region`.
    pub fn wrap(
        event: &DomainEvent,
        id: String,
        time: DateTime<Utc>,
        account: &str,
        region: &str,
    ) -> Self {
        Self {
            version: default_envelope_version(),
            id,
            detail_type: event.detail_type().to_owned(),
            source: event.source().to_owned(),
            account: account.to_owned(),
            time,
            region: region.to_owned(),
            resources: Vec::new(),
            detail: event.to_detail(),
        }
    }

    /// Read an envelope from JSON text.
    pub fn from_json(text: &str) -> Result<Self, ContractError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ContractError::NotJson(e.to_string()))?;
        Self::from_value(value)
    }

    /// Read an envelope from a JSON value.
    pub fn from_value(value: Value) -> Result<Self, ContractError> {
        serde_json::from_value(value).map_err(|e| ContractError::NotAnEnvelope(e.to_string()))
    }

    /// Decode the detail as the domain event its detail-type names, checking its version.
    pub fn decode(&self) -> Result<DomainEvent, ContractError> {
        DomainEvent::from_detail(&self.detail_type, &self.detail)
    }

    /// The idempotency key: `detail.metadata.eventId`, or the envelope id for v1 events that
    /// predate producer-assigned ids.
    pub fn event_id(&self) -> &str {
        self.detail
            .pointer("/metadata/eventId")
            .and_then(Value::as_str)
            .unwrap_or(&self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(detail: &Value) -> EventEnvelope {
        EventEnvelope::from_value(json!({
            "version": "0", "id": "eb-1", "detail-type": "OrderCreated",
            "source": "ecomm.orders", "account": "123456789012",
            "time": "2026-01-22T11:45:00Z", "region": "us-east-1", "resources": [],
            "detail": detail.clone()
        }))
        .unwrap()
    }

    #[test]
    fn event_id_prefers_the_producer_assigned_id() {
        let e = envelope(&json!({"metadata": {"eventId": "evt-9"}}));
        assert_eq!(e.event_id(), "evt-9");
    }

    #[test]
    fn event_id_falls_back_to_the_envelope_id_for_v1() {
        let e = envelope(&json!({"metadata": {"correlationId": "c"}}));
        assert_eq!(e.event_id(), "eb-1");
    }

    #[test]
    fn text_that_is_not_an_envelope_is_a_typed_error() {
        assert!(matches!(
            EventEnvelope::from_json("{oops"),
            Err(ContractError::NotJson(_))
        ));
        assert!(matches!(
            EventEnvelope::from_json(r#"{"hello":1}"#),
            Err(ContractError::NotAnEnvelope(_))
        ));
    }
}
