//! The audit handler over the in-memory trail: what the function behind the FIFO queue does
//! with a batch.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use audit::{Audit, QueueMessage, RecordResult};
use ecomm_ports::memory::MemoryAuditTrail;

/// A body as the rule's input transformer writes it (`terraform/consumers/audit.json`).
fn record(event_id: &str, created_order: Option<&str>, order_id: Option<&str>) -> String {
    let text = |v: Option<&str>| v.map_or("null".to_owned(), |v| format!("\"{v}\""));
    format!(
        r#"{{"eventId":"{event_id}","correlationId":"corr-1","type":"OrderCreated","orderId":{},"createdOrder":{},"at":"2026-03-01T10:00:00Z"}}"#,
        text(order_id),
        text(created_order)
    )
}

fn message(id: &str, body: String) -> QueueMessage {
    QueueMessage {
        message_id: id.to_owned(),
        body,
    }
}

fn setup() -> (Arc<MemoryAuditTrail>, Audit) {
    let trail = Arc::new(MemoryAuditTrail::default());
    (trail.clone(), Audit::new(trail))
}

#[tokio::test]
async fn a_batch_is_appended_once_per_event_id_with_the_order_from_either_field() {
    let (trail, audit) = setup();
    let batch = [
        message("m1", record("evt-1", Some("ord-1"), None)),
        message("m2", record("evt-2", None, Some("ord-2"))),
        message("m3", record("evt-1", Some("ord-1"), None)),
    ];

    let outcome = audit.handle_batch(&batch).await;

    assert!(outcome.failed_message_ids().is_empty());
    assert!(matches!(outcome.results[0].1, RecordResult::Appended(_)));
    assert!(matches!(
        outcome.results[2].1,
        RecordResult::AlreadyThere(_)
    ));
    let entries = trail.entries.lock().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries["evt-1"].order_id.as_deref(), Some("ord-1"));
    assert_eq!(entries["evt-2"].order_id.as_deref(), Some("ord-2"));
    assert_eq!(entries["evt-1"].detail_type, "OrderCreated");
}

#[tokio::test]
async fn the_first_failure_fails_it_and_every_later_message_so_the_fifo_order_holds() {
    let (trail, audit) = setup();
    audit
        .handle_batch(&[message("m0", record("evt-0", None, None))])
        .await;
    trail.down.store(true, Ordering::SeqCst);
    let batch = [
        message("m1", record("evt-0", Some("ord-0"), None)),
        message("m2", record("evt-2", Some("ord-2"), None)),
        message("m3", record("evt-3", Some("ord-3"), None)),
    ];

    let outcome = audit.handle_batch(&batch).await;

    assert_eq!(outcome.failed_message_ids(), ["m1", "m2", "m3"]);
    assert!(matches!(outcome.results[2].1, RecordResult::NotTried));
    trail.down.store(false, Ordering::SeqCst);
    let outcome = audit.handle_batch(&batch[1..]).await;
    assert!(outcome.failed_message_ids().is_empty());
    let entries = trail.entries.lock().unwrap();
    assert_eq!(
        entries.keys().collect::<Vec<_>>(),
        ["evt-0", "evt-2", "evt-3"]
    );
}

#[tokio::test]
async fn a_body_that_is_no_audit_record_is_let_go_and_does_not_hold_the_group() {
    let (trail, audit) = setup();
    let batch = [
        message("m1", record("evt-1", Some("ord-1"), None)),
        message(
            "m2",
            r#"{"eventId": null, "type": "OrderCreated"}"#.to_owned(),
        ),
        message("m3", record("evt-3", Some("ord-3"), None)),
    ];

    let outcome = audit.handle_batch(&batch).await;

    assert!(outcome.failed_message_ids().is_empty());
    match &outcome.results[1].1 {
        RecordResult::Rejected(e) => assert_eq!(e.error_type(), "MalformedAuditRecord"),
        other => panic!("{other:?}"),
    }
    let entries = trail.entries.lock().unwrap();
    assert_eq!(entries.keys().collect::<Vec<_>>(), ["evt-1", "evt-3"]);
}

#[tokio::test]
async fn an_event_without_metadata_is_keyed_by_eventbridges_own_id() {
    let (trail, audit) = setup();
    let body = r#"{"eventId":null,"envelopeId":"eb-1","correlationId":null,"type":"OrderCreated","orderId":null,"createdOrder":"ord-9","at":"2026-03-01T10:00:00Z"}"#;

    let outcome = audit.handle_batch(&[message("m1", body.to_owned())]).await;

    assert!(outcome.failed_message_ids().is_empty());
    assert_eq!(
        trail.entries.lock().unwrap()["eb-1"].order_id.as_deref(),
        Some("ord-9")
    );
}

#[tokio::test]
async fn a_trail_outage_fails_the_whole_batch_and_nothing_is_appended() {
    let (trail, audit) = setup();
    trail.down.store(true, Ordering::SeqCst);
    let batch = [
        message("m1", record("evt-1", Some("ord-1"), None)),
        message("m2", record("evt-2", Some("ord-2"), None)),
    ];

    let outcome = audit.handle_batch(&batch).await;

    assert_eq!(outcome.failed_message_ids(), ["m1", "m2"]);
    match &outcome.results[0].1 {
        RecordResult::Failed(e) => assert_eq!(e.error_type(), "DependencyUnavailable"),
        other => panic!("{other:?}"),
    }
    assert!(trail.entries.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_body_with_a_field_the_transformer_does_not_write_is_rejected() {
    let (trail, audit) = setup();
    let body = r#"{"eventId":"evt-1","type":"OrderCreated","at":"2026-03-01T10:00:00Z","customer":{"email":"a@b.c"}}"#;

    let outcome = audit.handle_batch(&[message("m1", body.to_owned())]).await;

    assert!(matches!(outcome.results[0].1, RecordResult::Rejected(_)));
    assert!(trail.entries.lock().unwrap().is_empty());
}
