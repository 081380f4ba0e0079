//! The inventory handler over in-memory ports.

use std::sync::Arc;

use ecomm_events::Outcome;
use ecomm_events::{DomainEvent, detail_types};
use ecomm_ports::consumer::ConsumerRuntime;
use ecomm_ports::memory::{MemoryStock, TestBed, fixture};
use ecomm_ports::{ConsumerError, Invocation, Processed};
use inventory::Inventory;
use serde_json::Value;

fn runtime(bed: &TestBed, stock: &Arc<MemoryStock>) -> ConsumerRuntime<Inventory> {
    ConsumerRuntime::new(Inventory::new(stock.clone()), bed.deps())
}

async fn run(rt: &ConsumerRuntime<Inventory>, event: Value) -> Result<Processed, ConsumerError> {
    rt.process(event, &Invocation::default()).await
}

#[tokio::test]
async fn a_v2_order_in_stock_is_reserved_and_announced() {
    let bed = TestBed::default();
    let stock = Arc::new(MemoryStock::with(&[("sku-abc", 5), ("sku-def", 1)]));
    let rt = runtime(&bed, &stock);
    let result = run(&rt, fixture("order_created_v2")).await.unwrap();
    assert_eq!(result.outcome, Outcome::Succeeded);
    assert_eq!(stock.available.lock().unwrap()["sku-abc"], 3);
    assert_eq!(stock.available.lock().unwrap()["sku-def"], 0);
    let published = bed.published();
    assert_eq!(published.len(), 1);
    let DomainEvent::InventoryReserved(reserved) = &published[0] else {
        panic!("{published:?}")
    };
    assert_eq!(reserved.order_id, "ord-123");
    assert_eq!(reserved.metadata.correlation_id, "req-7f9c");
    assert_eq!(
        reserved.metadata.causation_id.as_deref(),
        Some("0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a")
    );
}

#[tokio::test]
async fn a_v1_order_is_reserved_with_the_envelope_id_as_key() {
    let bed = TestBed::default();
    let stock = Arc::new(MemoryStock::with(&[("sku-mug", 3)]));
    let rt = runtime(&bed, &stock);
    run(&rt, fixture("order_created_v1")).await.unwrap();
    assert_eq!(stock.available.lock().unwrap()["sku-mug"], 0);
    assert!(
        bed.idempotency
            .is_completed("inventory#1a2b3c4d-1111-4222-8333-444455556666")
    );
    let DomainEvent::InventoryReserved(reserved) = &bed.published()[0] else {
        panic!()
    };
    assert_eq!(
        reserved.metadata.causation_id.as_deref(),
        Some("1a2b3c4d-1111-4222-8333-444455556666")
    );
}

#[tokio::test]
async fn a_replay_is_a_no_op() {
    let bed = TestBed::default();
    let stock = Arc::new(MemoryStock::with(&[("sku-abc", 5), ("sku-def", 5)]));
    let rt = runtime(&bed, &stock);
    run(&rt, fixture("order_created_v2")).await.unwrap();
    let again = run(&rt, fixture("order_created_v2")).await.unwrap();
    assert_eq!(again.outcome, Outcome::Duplicate);
    assert_eq!(
        stock.available.lock().unwrap()["sku-abc"],
        3,
        "stock is reserved once"
    );
    assert_eq!(bed.published().len(), 1, "the event is announced once");
}

#[tokio::test]
async fn out_of_stock_reserves_nothing_and_says_what_is_missing_and_what_to_refund() {
    let bed = TestBed::default();
    let stock = Arc::new(MemoryStock::with(&[("sku-abc", 5)]));
    let rt = runtime(&bed, &stock);
    run(&rt, fixture("order_created_v2")).await.unwrap();
    assert_eq!(
        stock.available.lock().unwrap()["sku-abc"],
        5,
        "all or nothing"
    );
    let DomainEvent::InventoryOutOfStock(out) = &bed.published()[0] else {
        panic!()
    };
    assert_eq!(out.missing.len(), 1);
    assert_eq!(
        (
            out.missing[0].sku.as_str(),
            out.missing[0].requested,
            out.missing[0].available
        ),
        ("sku-def", 1, 0)
    );
    assert_eq!(out.refund.amount.to_string(), "599.99");
    assert!(out.refund.is_refund_eligible);
    assert_eq!(out.metadata.correlation_id, "req-7f9c");
}

#[tokio::test]
async fn an_unknown_major_version_fails_as_poison_and_touches_nothing() {
    let bed = TestBed::default();
    let stock = Arc::new(MemoryStock::with(&[("sku-abc", 5), ("sku-def", 5)]));
    let rt = runtime(&bed, &stock);
    let mut event = fixture("order_created_v2");
    event["detail"]["eventVersion"] = "3.0".into();
    let err = run(&rt, event).await.unwrap_err();
    assert_eq!(err.error_type(), "UnsupportedEventVersion");
    assert!(err.is_poison());
    assert_eq!(stock.available.lock().unwrap()["sku-abc"], 5);
    assert!(bed.published().is_empty());
}

#[tokio::test]
async fn a_publish_failure_fails_the_invocation_and_a_retry_finishes_the_job_once() {
    let bed = TestBed::default();
    let stock = Arc::new(MemoryStock::with(&[("sku-abc", 5), ("sku-def", 5)]));
    let rt = runtime(&bed, &stock);
    *bed.publisher.reject.lock().unwrap() = true;
    let err = run(&rt, fixture("order_created_v2")).await.unwrap_err();
    assert_eq!(err.error_type(), "PublishFailed");
    assert!(
        !bed.idempotency
            .is_held("inventory#0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"),
        "the claim is released"
    );

    *bed.publisher.reject.lock().unwrap() = false;
    let retry = run(&rt, fixture("order_created_v2")).await.unwrap();
    assert_eq!(retry.outcome, Outcome::Succeeded);
    assert_eq!(
        stock.available.lock().unwrap()["sku-abc"],
        3,
        "the retry does not reserve again"
    );
    let published = bed.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].detail_type(), detail_types::INVENTORY_RESERVED);
}

#[tokio::test]
async fn the_emitted_event_id_is_the_same_on_every_attempt() {
    let first = TestBed::default();
    let second = TestBed::default();
    for bed in [&first, &second] {
        let stock = Arc::new(MemoryStock::with(&[("sku-abc", 5), ("sku-def", 5)]));
        run(&runtime(bed, &stock), fixture("order_created_v2"))
            .await
            .unwrap();
    }
    assert_eq!(
        first.published()[0].metadata().event_id,
        second.published()[0].metadata().event_id
    );
}

#[tokio::test]
async fn a_store_outage_fails_the_invocation_for_lambda_to_retry() {
    let bed = TestBed::default();
    let stock = Arc::new(MemoryStock::default());
    *stock.fail.lock().unwrap() = true;
    let err = run(&runtime(&bed, &stock), fixture("order_created_v2"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "DependencyUnavailable");
    assert!(!err.is_poison());
}

#[tokio::test]
async fn an_event_it_does_not_handle_is_rejected() {
    let bed = TestBed::default();
    let stock = Arc::new(MemoryStock::default());
    let err = run(&runtime(&bed, &stock), fixture("refund_completed"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "UnexpectedDetailType");
}

#[tokio::test]
async fn a_tenants_order_reserves_from_that_tenants_stock_only() {
    let bed = TestBed::default();
    // The default tenant has the stock; brand-a has its own, smaller.
    let stock = Arc::new(MemoryStock::with(&[
        ("sku-abc", 5),
        ("sku-def", 1),
        ("tenant#brand-a#sku-abc", 2),
        ("tenant#brand-a#sku-def", 0),
    ]));
    let rt = runtime(&bed, &stock);
    let result = run(&rt, fixture("order_created_v2_1_tenant"))
        .await
        .unwrap();
    assert_eq!(result.outcome, Outcome::Succeeded);
    let published = bed.published();
    let DomainEvent::InventoryOutOfStock(out) = &published[0] else {
        panic!("brand-a has no sku-def: {published:?}")
    };
    assert_eq!(out.metadata.tenant_id.as_deref(), Some("brand-a"));
    let levels = stock.available.lock().unwrap().clone();
    assert_eq!(
        (
            levels["sku-abc"],
            levels["sku-def"],
            levels["tenant#brand-a#sku-abc"]
        ),
        (5, 1, 2),
        "nothing reserved, and the default tenant's stock untouched"
    );
    // The same order of the default tenant is another order, served from its own stock.
    let result = run(&rt, fixture("order_created_v2")).await.unwrap();
    assert_eq!(result.outcome, Outcome::Succeeded);
    assert_eq!(stock.available.lock().unwrap()["sku-abc"], 3);
}
