//! The notification handler over in-memory ports.

use std::sync::Arc;

use ecomm_events::Outcome;
use ecomm_ports::consumer::ConsumerRuntime;
use ecomm_ports::memory::{MemoryMailer, TestBed, fixture};
use ecomm_ports::{ConsumerError, Invocation, Processed};
use notification::Notification;
use serde_json::Value;

fn setup() -> (TestBed, Arc<MemoryMailer>, ConsumerRuntime<Notification>) {
    let bed = TestBed::default();
    let mailer = Arc::new(MemoryMailer::default());
    let runtime = ConsumerRuntime::new(Notification::new(mailer.clone()), bed.deps());
    (bed, mailer, runtime)
}

async fn run(rt: &ConsumerRuntime<Notification>, event: Value) -> Result<Processed, ConsumerError> {
    rt.process(event, &Invocation::default()).await
}

#[tokio::test]
async fn an_order_confirmation_is_sent_once() {
    let (bed, mailer, rt) = setup();
    run(&rt, fixture("order_created_v2")).await.unwrap();
    let replay = run(&rt, fixture("order_created_v2")).await.unwrap();
    assert_eq!(replay.outcome, Outcome::Duplicate);
    let sent = mailer.sent.lock().unwrap();
    assert_eq!(sent.len(), 1, "a replay never emails twice");
    assert_eq!(sent[0].to, "ada@example.com");
    assert!(sent[0].subject.contains("ord-123"));
    assert!(
        sent[0].body.contains("Total: 599.99 USD"),
        "{}",
        sent[0].body
    );
    assert!(bed.published().is_empty());
}

#[tokio::test]
async fn a_v1_order_without_an_address_is_skipped_not_failed() {
    let (_bed, mailer, rt) = setup();
    let result = run(&rt, fixture("order_created_v1")).await.unwrap();
    assert_eq!(result.outcome, Outcome::Skipped);
    assert!(mailer.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_refund_notice_is_sent_for_refund_completed() {
    let (_bed, mailer, rt) = setup();
    run(&rt, fixture("refund_completed")).await.unwrap();
    let sent = mailer.sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body.contains("599.99 USD"));
    assert!(sent[0].body.contains("re_3MtwBwLkdIwHu7ix28a3tqPa"));
}

#[tokio::test]
async fn a_mail_outage_fails_the_invocation_and_the_retry_sends() {
    let (_bed, mailer, rt) = setup();
    *mailer.fail.lock().unwrap() = true;
    let err = run(&rt, fixture("order_created_v2")).await.unwrap_err();
    assert_eq!(err.error_type(), "DependencyUnavailable");
    *mailer.fail.lock().unwrap() = false;
    run(&rt, fixture("order_created_v2")).await.unwrap();
    assert_eq!(mailer.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn events_it_does_not_handle_and_unknown_versions_fail() {
    let (_bed, mailer, rt) = setup();
    let err = run(&rt, fixture("inventory_reserved")).await.unwrap_err();
    assert_eq!(err.error_type(), "UnexpectedDetailType");
    let mut event = fixture("order_created_v2");
    event["detail"]["eventVersion"] = "9.1".into();
    assert_eq!(
        run(&rt, event).await.unwrap_err().error_type(),
        "UnsupportedEventVersion"
    );
    let err = run(&rt, serde_json::json!({"not": "an event"}))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "NotAnEnvelope");
    assert!(mailer.sent.lock().unwrap().is_empty());
}
