//! Events and DLQ messages built from the contract's fixtures (`lambdas/events/tests/fixtures`),
//! with fresh ids, and the conversion of message attributes to and from the SDK's.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use aws_sdk_sqs::types::MessageAttributeValue;
use base64::Engine as _;
use ecomm_events::dlq::FunctionDlqFailure;
use ecomm_events::{AttributeValue, DlqMessage, MessageAttributes};
use serde_json::{Value, json};

use super::moto::unique;

fn fixture(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lambdas/events/tests/fixtures")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A DLQ message fixture, verbatim.
pub(crate) fn dlq_fixture(name: &str) -> DlqMessage {
    serde_json::from_str(&fixture(&format!("dlq/{name}.json"))).expect("a DLQ message fixture")
}

fn event_fixture(name: &str) -> Value {
    serde_json::from_str(&fixture(&format!("events/{name}.json"))).expect("an event fixture")
}

/// Fresh ids for an event.
fn fresh_ids(event: &mut Value) {
    event["id"] = json!(unique("env"));
    if event["detail"]["metadata"].get("eventId").is_some() {
        event["detail"]["metadata"]["eventId"] = json!(unique("evt"));
    }
}

/// An `OrderCreated` v2 event of this order and correlation id.
pub(crate) fn order_created(order: &str, correlation: &str) -> Value {
    let mut event = event_fixture("order_created_v2");
    event["detail"]["order"]["orderId"] = json!(order);
    event["detail"]["metadata"]["correlationId"] = json!(correlation);
    fresh_ids(&mut event);
    event
}

/// A legacy `OrderCreated` v1 event (no `metadata.eventId`).
pub(crate) fn order_created_v1(order: &str, correlation: &str) -> Value {
    let mut event = event_fixture("order_created_v1");
    event["detail"]["order"]["orderId"] = json!(order);
    event["detail"]["metadata"]["correlationId"] = json!(correlation);
    fresh_ids(&mut event);
    event
}

/// An `InventoryOutOfStock` event of this order and correlation id.
pub(crate) fn out_of_stock(order: &str, correlation: &str) -> Value {
    let mut event = event_fixture("inventory_out_of_stock");
    event["detail"]["orderId"] = json!(order);
    event["detail"]["metadata"]["correlationId"] = json!(correlation);
    fresh_ids(&mut event);
    event
}

/// `detail.metadata.eventId`.
pub(crate) fn event_id(event: &Value) -> String {
    event["detail"]["metadata"]["eventId"]
        .as_str()
        .expect("an event with metadata.eventId")
        .to_owned()
}

/// What a legacy function DLQ receives.
pub(crate) fn lambda_dlq(event: &Value, error_code: &str) -> DlqMessage {
    DlqMessage::lambda_dlq(
        event,
        &FunctionDlqFailure {
            request_id: Some(unique("req")),
            error_code: Some(error_code.to_owned()),
            error_message: Some("unsupported eventVersion".to_owned()),
        },
    )
}

/// A hand-written body, not JSON, with a binary attribute.
pub(crate) fn garbage(text: &str) -> DlqMessage {
    DlqMessage {
        body: text.to_owned(),
        attributes: MessageAttributes::from([(
            "note".to_owned(),
            AttributeValue::binary(b"\x00\x01 not text"),
        )]),
    }
}

/// JSON in no known DLQ format.
pub(crate) fn unknown_json() -> DlqMessage {
    DlqMessage {
        body: json!({"note": "replay me by hand", "ticket": "OPS-42"}).to_string(),
        attributes: MessageAttributes::new(),
    }
}

/// A contract attribute as the SDK sends it.
pub(crate) fn sdk_attribute(value: &AttributeValue) -> MessageAttributeValue {
    let builder = MessageAttributeValue::builder().data_type(value.data_type());
    match value {
        AttributeValue::String { value } | AttributeValue::Number { value } => {
            builder.string_value(value)
        }
        AttributeValue::Binary { base64 } => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(base64)
                .unwrap_or_else(|e| panic!("{base64:?} is not base64: {e}"));
            builder.binary_value(aws_sdk_sqs::primitives::Blob::new(bytes))
        }
    }
    .build()
    .expect("a complete attribute")
}

/// SDK attributes as the contract (and the CLI's JSON) holds them.
pub(crate) fn cli_attributes(
    raw: Option<&HashMap<String, MessageAttributeValue>>,
) -> MessageAttributes {
    raw.into_iter()
        .flatten()
        .map(|(name, value)| {
            let converted = match value.data_type() {
                "Number" => AttributeValue::number(value.string_value().unwrap_or_default()),
                "Binary" => AttributeValue::binary(
                    value
                        .binary_value()
                        .map(aws_sdk_sqs::primitives::Blob::as_ref)
                        .unwrap_or_default(),
                ),
                _ => AttributeValue::string(value.string_value().unwrap_or_default()),
            };
            (name.clone(), converted)
        })
        .collect()
}

/// The payloads delivered, as a multiset keyed by `metadata.eventId` (or the envelope id).
pub(crate) fn by_event_id(
    payloads: impl IntoIterator<Item = Value>,
) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for payload in payloads {
        let key = payload["detail"]["metadata"]["eventId"]
            .as_str()
            .or_else(|| payload["id"].as_str())
            .unwrap_or_default()
            .to_owned();
        out.entry(key).or_default().push(payload);
    }
    out
}
