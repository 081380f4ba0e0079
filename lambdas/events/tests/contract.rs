//! The contract pinned by JSON fixtures: every event and version, every DLQ format.

use std::path::{Path, PathBuf};

use ecomm_events::dlq::{IDENTIFYING_ATTRIBUTES, InvocationRecord, MessageAttributes};
use ecomm_events::{
    DlqKind, DlqMessage, DlqRecord, DlqSource, DomainEvent, EventEnvelope, OrderCreated,
    PaymentStatus,
};
use pretty_assertions::assert_eq;
use serde_json::Value;

fn fixture(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn dlq_fixture(name: &str) -> DlqMessage {
    serde_json::from_str(&fixture(&format!("dlq/{name}"))).unwrap()
}

#[test]
fn every_event_fixture_round_trips_through_its_type() {
    for name in [
        "order_created_v1",
        "order_created_v2",
        "order_created_v2_1_tenant",
        "inventory_reserved",
        "inventory_out_of_stock",
        "refund_completed",
        "refund_failed",
    ] {
        let text = fixture(&format!("events/{name}.json"));
        let envelope = EventEnvelope::from_json(&text).unwrap();
        let event = envelope.decode().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(event.detail_type(), envelope.detail_type, "{name}");
        assert_eq!(event.source(), envelope.source, "{name}");
        assert_eq!(
            event.to_detail(),
            envelope.detail,
            "{name}: detail changed in a round trip"
        );
        let back: Value = serde_json::to_value(&envelope).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<Value>(&text).unwrap(),
            "{name}: envelope changed"
        );
    }
}

#[test]
fn v1_and_v2_order_created_read_into_one_type() {
    let v1 = EventEnvelope::from_json(&fixture("events/order_created_v1.json")).unwrap();
    let v2 = EventEnvelope::from_json(&fixture("events/order_created_v2.json")).unwrap();
    let (DomainEvent::OrderCreated(o1), DomainEvent::OrderCreated(o2)) =
        (v1.decode().unwrap(), v2.decode().unwrap())
    else {
        panic!("both fixtures are OrderCreated")
    };
    assert_eq!(o1.event_version.major, 1);
    assert_eq!(o2.event_version.major, 2);
    assert!(
        o1.is_refund_eligible(),
        "v1 has no flag and counts as eligible"
    );
    assert_eq!(o1.channel(), "UNKNOWN");
    assert_eq!(o2.channel(), "WEB");
    assert_eq!(v1.event_id(), v1.id, "v1 falls back to the envelope id");
    assert_eq!(v2.event_id(), "0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a");
    assert_eq!(o2.payment.status, PaymentStatus::Paid);
    assert_eq!(o2.order.total_amount.to_string(), "599.99");
}

#[test]
fn a_2_1_event_names_its_tenant_and_an_older_one_belongs_to_the_default_tenant() {
    let older = EventEnvelope::from_json(&fixture("events/order_created_v2.json")).unwrap();
    let tenant =
        EventEnvelope::from_json(&fixture("events/order_created_v2_1_tenant.json")).unwrap();
    let (DomainEvent::OrderCreated(older), DomainEvent::OrderCreated(tenant)) =
        (older.decode().unwrap(), tenant.decode().unwrap())
    else {
        panic!("both fixtures are OrderCreated")
    };
    assert_eq!(older.metadata.tenant(), ecomm_events::DEFAULT_TENANT);
    assert_eq!(older.metadata.tenant_id, None);
    assert_eq!(tenant.metadata.tenant(), "brand-a");
    assert_eq!(
        (tenant.event_version.major, tenant.event_version.minor),
        (2, 1)
    );
    // Written back, an event without a tenant still has no tenantId field: 2.0 readers and
    // the fixtures of 2.0 stay byte for byte the same.
    let detail = serde_json::to_value(&older).unwrap();
    assert!(detail["metadata"].get("tenantId").is_none(), "{detail}");
}

#[test]
fn eventbridge_target_dlq_messages_are_read_and_written_back_exactly() {
    let message = dlq_fixture("eventbridge_target.json");
    let record = DlqRecord::parse(&message.body, &message.attributes);
    assert_eq!(record.kind(), DlqKind::EventbridgeTarget);
    assert_eq!(record.error_code(), Some("NO_PERMISSIONS"));
    assert_eq!(record.exhausted_condition(), Some("MaximumRetryAttempts"));
    assert_eq!(
        record.attempts(),
        Some(1),
        "EventBridge does not retry a missing permission"
    );
    assert_eq!(
        record.failed_arn(),
        Some("arn:aws:lambda:us-east-1:123456789012:function:ecomm-prod-inventory")
    );
    assert_eq!(record.summary.order_id.as_deref(), Some("ord-123"));
    assert_eq!(record.summary.correlation_id.as_deref(), Some("req-7f9c"));
    assert!(matches!(
        record.decode(),
        Some(Ok(DomainEvent::OrderCreated(_)))
    ));
    assert_same_message(&record.to_message().unwrap(), &message);
}

#[test]
fn number_typed_attributes_are_read_too() {
    let message = dlq_fixture("eventbridge_target_number_attributes.json");
    let record = DlqRecord::parse(&message.body, &message.attributes);
    assert_eq!(record.kind(), DlqKind::EventbridgeTarget);
    assert_eq!(record.error_code(), Some("THROTTLING"));
    assert_eq!(record.attempts(), Some(13));
    assert_eq!(
        record.exhausted_condition(),
        Some("MaximumEventAgeInSeconds")
    );
}

#[test]
fn lambda_destination_records_are_read_and_written_back_exactly() {
    let message = dlq_fixture("lambda_destination.json");
    let record = DlqRecord::parse(&message.body, &message.attributes);
    assert_eq!(record.kind(), DlqKind::LambdaDestination);
    assert_eq!(record.error_code(), Some("GatewayTimeout"));
    assert_eq!(
        record.error_message(),
        Some("payment gateway timed out after 10s")
    );
    assert_eq!(record.attempts(), Some(3));
    assert_eq!(record.exhausted_condition(), Some("RetriesExhausted"));
    assert_eq!(
        record.summary.detail_type.as_deref(),
        Some("InventoryOutOfStock")
    );
    assert_eq!(
        record.summary.event_id.as_deref(),
        Some("4e3d2c1b-0a9f-4e8d-9c7b-6a5948372615")
    );
    assert_eq!(
        record.summary.causation_id.as_deref(),
        Some("0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a")
    );
    assert!(matches!(
        record.decode(),
        Some(Ok(DomainEvent::InventoryOutOfStock(_)))
    ));
    assert_same_message(&record.to_message().unwrap(), &message);
}

#[test]
fn legacy_function_dlq_messages_are_read_and_written_back_exactly() {
    let message = dlq_fixture("lambda_dlq.json");
    let record = DlqRecord::parse(&message.body, &message.attributes);
    assert_eq!(record.kind(), DlqKind::LambdaDlq);
    assert_eq!(record.error_code(), Some("200"));
    assert_eq!(
        record.error_message(),
        Some("unsupported OrderCreated eventVersion 9.0")
    );
    assert_eq!(record.summary.order_id.as_deref(), Some("ord-123"));
    assert_same_message(&record.to_message().unwrap(), &message);
}

#[test]
fn the_identifying_attributes_alone_keep_each_record_s_format_error_code_rule_and_event() {
    // What a redrive asks SQS for instead of every attribute: it must read each record as it
    // would have with all of them.
    for name in [
        "eventbridge_target.json",
        "eventbridge_target_number_attributes.json",
        "lambda_dlq.json",
        "lambda_destination.json",
    ] {
        let message = dlq_fixture(name);
        let identifying: MessageAttributes = message
            .attributes
            .iter()
            .filter(|(n, _)| IDENTIFYING_ATTRIBUTES.contains(&n.as_str()))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        if name.starts_with("eventbridge_target") {
            assert!(
                identifying.len() < message.attributes.len(),
                "{name}: nothing left out"
            );
        }
        let whole = DlqRecord::parse(&message.body, &message.attributes);
        let narrow = DlqRecord::parse(&message.body, &identifying);
        assert_eq!(narrow.kind(), whole.kind(), "{name}");
        assert_eq!(narrow.error_code(), whole.error_code(), "{name}");
        let rule = |r: &DlqRecord| match &r.source {
            DlqSource::EventbridgeTarget(f) => f.rule_arn.clone(),
            _ => None,
        };
        assert_eq!(rule(&narrow), rule(&whole), "{name}");
        assert_eq!(narrow.event, whole.event, "{name}");
        assert_eq!(narrow.summary, whole.summary, "{name}");
    }
}

#[test]
fn bodies_in_no_known_format_are_unknown_records_that_keep_their_text() {
    let message = dlq_fixture("not_json.json");
    let record = DlqRecord::parse(&message.body, &message.attributes);
    assert_eq!(record.kind(), DlqKind::Unknown);
    assert!(record.error_message().unwrap().contains("not JSON"));
    assert_eq!(record.event, None);
    assert!(
        record.to_message().is_none(),
        "an unknown body is never rewritten"
    );

    let record = DlqRecord::parse(
        r#"{"hello": "world"}"#,
        &ecomm_events::MessageAttributes::new(),
    );
    assert_eq!(record.kind(), DlqKind::Unknown);

    let truncated = dlq_fixture("truncated.json");
    let record = DlqRecord::parse(&truncated.body, &truncated.attributes);
    assert_eq!(
        record.kind(),
        DlqKind::EventbridgeTarget,
        "the attributes still say who failed"
    );
    assert_eq!(record.error_code(), Some("TIMEOUT"));
    assert_eq!(record.event, None, "a truncated body has no readable event");
    assert!(record.decode().is_none());
}

#[test]
fn an_event_of_an_unknown_major_still_shows_its_order_and_is_labelled() {
    let mut event: Value = serde_json::from_str(&fixture("events/order_created_v2.json")).unwrap();
    event["detail"]["eventVersion"] = "9.0".into();
    let message = DlqMessage::lambda_destination(&InvocationRecord::failed(
        "2026-01-22T11:48:17.652Z".into(),
        "req-1".into(),
        "arn:aws:lambda:us-east-1:123456789012:function:ecomm-prod-inventory:$LATEST".into(),
        "RetriesExhausted",
        3,
        event,
        "UnsupportedEventVersion",
        "OrderCreated eventVersion 9.0 is not supported",
    ));
    let record = DlqRecord::parse(&message.body, &message.attributes);
    assert_eq!(record.summary.order_id.as_deref(), Some("ord-123"));
    assert_eq!(record.summary.event_version.as_deref(), Some("9.0"));
    assert_eq!(record.error_code(), Some("UnsupportedEventVersion"));
    let err = record.decode().unwrap().unwrap_err();
    assert_eq!(err.code(), "UnsupportedEventVersion");
}

#[test]
fn order_created_decodes_from_the_seed_sample() {
    // The sample event of the original design: no eventId, a v2 detail.
    let detail: Value = serde_json::json!({
        "eventVersion": "2.0",
        "order": {"orderId": "ord-123", "totalAmount": 599.99, "currency": "USD",
                  "items": [{"sku": "sku-abc", "quantity": 2, "price": 199.99}], "channel": "WEB"},
        "customer": {"userId": "usr-42", "isRefundEligible": true},
        "payment": {"method": "CARD", "status": "PAID"},
        "metadata": {"createdAt": "2026-01-22T11:45:00Z", "correlationId": "req-7f9c"}
    });
    let decoded: OrderCreated = ecomm_events::events::Detail::decode(&detail).unwrap();
    assert_eq!(decoded.metadata.correlation_id, "req-7f9c");
}

fn assert_same_message(written: &DlqMessage, original: &DlqMessage) {
    assert_eq!(written.attributes, original.attributes);
    let a: Value = serde_json::from_str(&written.body).unwrap();
    let b: Value = serde_json::from_str(&original.body).unwrap();
    assert_eq!(a, b);
}

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/events")
}

/// Regenerate with `ECOMM_BLESS=1 cargo test -p ecomm-events --test contract`.
#[test]
fn published_json_schemas_are_up_to_date() {
    let bless = std::env::var_os("ECOMM_BLESS").is_some();
    let mut stale = Vec::new();
    for (name, contents) in ecomm_events::schema::all() {
        let path = schema_dir().join(&name);
        if bless {
            std::fs::write(&path, &contents).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(contents.as_str()) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas in docs/events: {stale:?}; run ECOMM_BLESS=1 cargo test -p ecomm-events --test contract"
    );
}
