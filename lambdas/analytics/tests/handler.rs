//! The analytics handler over in-memory ports.

use std::str::FromStr;
use std::sync::Arc;

use analytics::Analytics;
use ecomm_ports::Invocation;
use ecomm_ports::consumer::ConsumerRuntime;
use ecomm_ports::memory::{MemoryAnalytics, TestBed, fixture};
use rust_decimal::Decimal;

#[tokio::test]
async fn orders_are_counted_once_per_day_channel_and_currency() {
    let bed = TestBed::default();
    let sink = Arc::new(MemoryAnalytics::default());
    let rt = ConsumerRuntime::new(Analytics::new(sink.clone()), bed.deps());
    let inv = Invocation::default();
    rt.process(fixture("order_created_v2"), &inv).await.unwrap();
    rt.process(fixture("order_created_v2"), &inv).await.unwrap();
    rt.process(fixture("order_created_v1"), &inv).await.unwrap();

    let counters = sink.counters.lock().unwrap();
    let web = &counters[&("2026-01-22".to_owned(), "WEB".to_owned(), "USD".to_owned())];
    assert_eq!(web.0, 1, "the replay is not counted");
    assert_eq!(web.1, Decimal::from_str("599.99").unwrap());
    let v1 = &counters[&(
        "2025-06-01".to_owned(),
        "UNKNOWN".to_owned(),
        "EUR".to_owned(),
    )];
    assert_eq!(*v1, (1, Decimal::from(30)));
    assert!(bed.published().is_empty(), "analytics only observes");
}

#[tokio::test]
async fn an_unknown_version_is_not_counted() {
    let bed = TestBed::default();
    let sink = Arc::new(MemoryAnalytics::default());
    let rt = ConsumerRuntime::new(Analytics::new(sink.clone()), bed.deps());
    let mut event = fixture("order_created_v1");
    event["detail"]["eventVersion"] = "0.9".into();
    let err = rt.process(event, &Invocation::default()).await.unwrap_err();
    assert_eq!(err.error_type(), "UnsupportedEventVersion");
    assert!(sink.counters.lock().unwrap().is_empty());
}
