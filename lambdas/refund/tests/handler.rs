//! The refund handler over in-memory ports.

use std::sync::Arc;

use ecomm_events::{DomainEvent, Outcome, RefundFailureReason};
use ecomm_ports::consumer::ConsumerRuntime;
use ecomm_ports::memory::{MemoryGateway, MemoryRefunds, TestBed, fixture};
use ecomm_ports::{ConsumerError, Invocation, Processed};
use refund::Refund;
use serde_json::Value;

struct Setup {
    bed: TestBed,
    gateway: Arc<MemoryGateway>,
    ledger: Arc<MemoryRefunds>,
    runtime: ConsumerRuntime<Refund>,
}

fn setup() -> Setup {
    let bed = TestBed::default();
    let gateway = Arc::new(MemoryGateway::default());
    let ledger = Arc::new(MemoryRefunds::default());
    let runtime = ConsumerRuntime::new(Refund::new(gateway.clone(), ledger.clone()), bed.deps());
    Setup {
        bed,
        gateway,
        ledger,
        runtime,
    }
}

async fn run(s: &Setup, event: Value) -> Result<Processed, ConsumerError> {
    s.runtime.process(event, &Invocation::default()).await
}

const EVENT_ID: &str = "4e3d2c1b-0a9f-4e8d-9c7b-6a5948372615";

#[tokio::test]
async fn a_paid_eligible_order_is_refunded_once_with_the_event_id_as_idempotency_key() {
    let s = setup();
    run(&s, fixture("inventory_out_of_stock")).await.unwrap();
    let refunds = s.gateway.refunds.lock().unwrap().clone();
    assert_eq!(refunds.keys().collect::<Vec<_>>(), vec![EVENT_ID]);
    assert_eq!(refunds[EVENT_ID].amount.to_string(), "599.99");
    assert_eq!(
        s.ledger.by_order.lock().unwrap()["ord-123"].refund_id,
        format!("re_{EVENT_ID}")
    );
    let DomainEvent::RefundCompleted(done) = &s.bed.published()[0] else {
        panic!()
    };
    assert_eq!(done.email.as_deref(), Some("ada@example.com"));
    assert_eq!(done.metadata.causation_id.as_deref(), Some(EVENT_ID));

    let replay = run(&s, fixture("inventory_out_of_stock")).await.unwrap();
    assert_eq!(replay.outcome, Outcome::Duplicate);
    assert_eq!(s.gateway.refunds.lock().unwrap().len(), 1);
    assert_eq!(s.bed.published().len(), 1);
}

#[tokio::test]
async fn an_ineligible_customer_gets_refund_failed_and_no_money_moves() {
    let s = setup();
    let mut event = fixture("inventory_out_of_stock");
    event["detail"]["refund"]["isRefundEligible"] = false.into();
    run(&s, event).await.unwrap();
    assert!(s.gateway.refunds.lock().unwrap().is_empty());
    let DomainEvent::RefundFailed(failed) = &s.bed.published()[0] else {
        panic!()
    };
    assert_eq!(failed.reason, RefundFailureReason::NotEligible);
}

#[tokio::test]
async fn an_unpaid_order_is_not_refunded() {
    let s = setup();
    let mut event = fixture("inventory_out_of_stock");
    event["detail"]["refund"]["paymentStatus"] = "PENDING".into();
    run(&s, event).await.unwrap();
    assert!(s.gateway.refunds.lock().unwrap().is_empty());
    let DomainEvent::RefundFailed(failed) = &s.bed.published()[0] else {
        panic!()
    };
    assert_eq!(failed.reason, RefundFailureReason::NotPaid);
}

#[tokio::test]
async fn a_declined_refund_is_a_business_outcome_not_an_error() {
    let s = setup();
    *s.gateway.decline.lock().unwrap() = Some("charge disputed".into());
    let result = run(&s, fixture("inventory_out_of_stock")).await.unwrap();
    assert_eq!(result.outcome, Outcome::Succeeded);
    let DomainEvent::RefundFailed(failed) = &s.bed.published()[0] else {
        panic!()
    };
    assert_eq!(failed.reason, RefundFailureReason::Declined);
    assert!(failed.message.contains("charge disputed"));
}

#[tokio::test]
async fn a_gateway_timeout_fails_the_invocation_and_the_retry_refunds_once() {
    let s = setup();
    *s.gateway.fail.lock().unwrap() = true;
    let err = run(&s, fixture("inventory_out_of_stock"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "DependencyUnavailable");
    assert!(s.bed.published().is_empty());
    *s.gateway.fail.lock().unwrap() = false;
    run(&s, fixture("inventory_out_of_stock")).await.unwrap();
    assert_eq!(s.gateway.refunds.lock().unwrap().len(), 1);
    assert_eq!(s.bed.published().len(), 1);
}

#[tokio::test]
async fn a_publish_failure_after_the_refund_does_not_refund_twice_on_retry() {
    let s = setup();
    *s.bed.publisher.reject.lock().unwrap() = true;
    run(&s, fixture("inventory_out_of_stock"))
        .await
        .unwrap_err();
    *s.bed.publisher.reject.lock().unwrap() = false;
    run(&s, fixture("inventory_out_of_stock")).await.unwrap();
    assert_eq!(
        s.gateway.refunds.lock().unwrap().len(),
        1,
        "same idempotency key, one refund"
    );
    assert_eq!(s.ledger.by_order.lock().unwrap().len(), 1);
    assert_eq!(s.bed.published().len(), 1);
}

#[tokio::test]
async fn an_unknown_version_is_poison() {
    let s = setup();
    let mut event = fixture("inventory_out_of_stock");
    event["detail"]["eventVersion"] = "2.0".into();
    let err = run(&s, event).await.unwrap_err();
    assert_eq!(err.error_type(), "UnsupportedEventVersion");
    assert!(s.gateway.refunds.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_order_already_in_the_ledger_is_not_sent_to_the_gateway_again() {
    // A redrive after the gateway forgot its idempotency key must not refund twice.
    let s = setup();
    run(&s, fixture("inventory_out_of_stock")).await.unwrap();
    let mut later = fixture("inventory_out_of_stock");
    later["detail"]["metadata"]["eventId"] = "a-different-event-for-the-same-order".into();
    s.gateway.refunds.lock().unwrap().clear();
    run(&s, later).await.unwrap();
    assert!(
        s.gateway.refunds.lock().unwrap().is_empty(),
        "the gateway was not asked again"
    );
    let published = s.bed.published();
    let DomainEvent::RefundCompleted(again) = &published[1] else {
        panic!("{published:?}")
    };
    assert_eq!(again.refund_id, format!("re_{EVENT_ID}"));
}
