//! The bus's own log on the local stack: after `ecomm demo`, every delivery the bus made is in
//! its log group in the documented schema (eb-event-logs-schema), every delivery fault of the
//! demo shows there with its DLQ send, and `trace` and `dlq show` read the attempts back.

use std::collections::BTreeSet;

use ecomm_events::buslog::{BusLogRecord, BusStep, bus_log_group};
use ecomm_events::{DlqRecord, DlqSource};

use crate::support::{
    Ecomm, Shown, TARGETS, Trace, declared, demo_state, export, open_state, rows,
};

/// Every record of the local bus's log.
fn bus_log(state: &std::path::Path) -> Vec<BusLogRecord> {
    rows(
        &open_state(state),
        &format!(
            "SELECT line FROM logs WHERE log_group = '{}' ORDER BY ts_ms, seq",
            bus_log_group("ecomm-local")
        ),
    )
    .into_iter()
    .map(|row| {
        BusLogRecord::parse(&row[0]).unwrap_or_else(|| panic!("not a bus log record: {}", row[0]))
    })
    .collect()
}

/// The delivery failures in the demo's DLQs: `(bus event id, target ARN, error code)`.
fn delivery_failures(state: &std::path::Path) -> BTreeSet<(String, String, String)> {
    TARGETS
        .iter()
        .flat_map(|consumer| export(state, consumer, &[]))
        .filter_map(|message| {
            let record = DlqRecord::parse(&message.body, &message.attributes);
            let DlqSource::EventbridgeTarget(failure) = &record.source else {
                return None;
            };
            let id = record.event.as_ref()?.get("id")?.as_str()?.to_owned();
            Some((id, failure.target_arn.clone()?, failure.error_code.clone()?))
        })
        .collect()
}

/// How often EventBridge retries a delivery to analytics, per its declaration.
fn retries_of_analytics() -> usize {
    usize::try_from(declared("analytics", "/retryPolicy/maximumRetryAttempts")).unwrap()
}

#[test]
fn every_delivery_fault_of_the_demo_is_in_the_buss_log_with_its_attempts_and_dlq_send() {
    let (_dir, state) = demo_state();
    let log = bus_log(&state);
    assert!(
        log.iter().any(|r| r.message_type == BusStep::RuleMatch)
            && log
                .iter()
                .any(|r| r.message_type == BusStep::InvocationSuccess),
        "matches and deliveries are logged"
    );
    let failures = delivery_failures(&state);
    assert!(
        failures.iter().any(|(_, _, code)| code == "THROTTLING")
            && failures.iter().any(|(_, _, code)| code == "NO_PERMISSIONS"),
        "the default faults: {failures:?}"
    );
    // Each DLQ send the bus logged is a message in a DLQ, and each such message was logged.
    let sent: BTreeSet<(String, String)> = log
        .iter()
        .filter(|r| r.message_type == BusStep::InvocationDlq)
        .map(|r| (r.event_id.clone(), r.target_arn().unwrap().to_owned()))
        .collect();
    let in_dlqs: BTreeSet<(String, String)> = failures
        .iter()
        .map(|(id, target, _)| (id.clone(), target.clone()))
        .collect();
    assert_eq!(sent, in_dlqs);
    for (id, target, code) in &failures {
        let attempts: Vec<&BusLogRecord> = log
            .iter()
            .filter(|r| r.event_id == *id && r.target_arn() == Some(target.as_str()))
            .filter(|r| r.failure().is_some())
            .collect();
        assert!(
            attempts.iter().all(|r| r.failure() == Some(code.as_str())),
            "{code}: {attempts:?}"
        );
        let expected = match code.as_str() {
            // Retried per the consumer's retry policy, then sent to the DLQ.
            "THROTTLING" => retries_of_analytics() + 1,
            // Not retried.
            _ => 1,
        };
        assert_eq!(attempts.len(), expected, "{code} of {id}");
    }
}

#[test]
fn trace_and_dlq_show_read_a_throttled_deliverys_attempts_from_the_buss_log() {
    let (_dir, state) = demo_state();
    let shown: Shown = Ecomm::local(&state)
        .args("dlq show analytics --error-code THROTTLING --raw")
        .json();
    let message = &shown.messages[0];
    let retries = retries_of_analytics();
    let delivery = message.delivery.as_ref().expect("the bus's log of it");
    assert_eq!(delivery.attempts.len(), retries + 1);
    assert!(
        delivery
            .attempts
            .iter()
            .all(|a| a.result == "throttled" && a.error.as_deref() == Some("THROTTLING")),
        "{delivery:?}"
    );
    assert!(
        delivery.attempts.windows(2).all(|w| w[0].at < w[1].at),
        "EventBridge backs off between attempts: {delivery:?}"
    );
    assert_eq!(delivery.ended.as_deref(), Some("sent-to-dlq"));
    assert_eq!(delivery.rule.as_deref(), Some("ecomm-local-analytics"));
    let raw = message.bus_log.as_ref().expect("--raw keeps the records");
    assert!(
        raw.iter().all(|r| BusLogRecord::parse(r).is_some()),
        "{raw:?}"
    );
    let table = Ecomm::local(&state)
        .args("dlq show analytics --error-code THROTTLING")
        .stdout();
    assert!(
        table.contains(&format!(
            "{} attempts over 15 s: THROTTLING ×{}, sent to DLQ",
            retries + 1,
            retries + 1
        )),
        "{table}"
    );

    let order = message.order_id.clone().unwrap();
    let trace: Trace = Ecomm::local(&state)
        .args("trace --since 30d")
        .arg(&order)
        .json();
    let created = trace.order_created();
    assert!(
        created
            .matched_rules
            .contains(&"ecomm-local-analytics".to_owned()),
        "{:?}",
        created.matched_rules
    );
    let by = |consumer: &str| {
        created
            .invocations
            .iter()
            .find(|i| i.consumer == consumer)
            .unwrap_or_else(|| panic!("no {consumer}"))
    };
    let analytics = by("analytics");
    assert_eq!(analytics.outcome, "stuck");
    assert_eq!(
        analytics.delivery.as_ref(),
        Some(delivery),
        "the same attempts"
    );
    let inventory = by("inventory").delivery.as_ref().unwrap();
    assert_eq!(inventory.attempts.len(), 1);
    assert_eq!(inventory.ended.as_deref(), Some("delivered"));
    let tree = Ecomm::local(&state)
        .args("trace --since 30d")
        .arg(&order)
        .stdout();
    assert!(tree.contains("bus: "), "{tree}");
    assert!(tree.contains("delivery 1 at "), "{tree}");
}
