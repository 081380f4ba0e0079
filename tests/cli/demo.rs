//! `ecomm demo` and the local stack it runs: the saga, the three failure paths and their DLQ
//! formats, retry counts and timing, idempotency, reproducibility, and two processes on one
//! state file. Every run starts at a fixed time so that the outcome is deterministic.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use ecomm_events::{AttributeValue, DlqKind, DlqRecord, DlqSource, LogRecord, Outcome};
use ecomm_local::sqs::{ReceivedMessage, queue_arn};
use ecomm_local::{LocalStack, StackOptions, names};
use serde_json::Value;

use crate::support::{
    BusEvent, all_messages, bus_events, count, declared, dlq_messages, ecomm_on, log_records,
    open_state, rows, temp_state,
};

const START: &str = "2026-11-25T10:00:00Z";
const CONSUMERS: [&str; 4] = ["inventory", "notification", "analytics", "refund"];

fn demo_json(state: &Path, args: &[&str]) -> Value {
    let out = ecomm_on(state)
        .args(["demo", "--output", "json", "--start", START])
        .args(args)
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

fn number(report: &Value, field: &str) -> u64 {
    report[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field} in {report}"))
}

/// The report's row for `consumer`.
fn consumer_row<'a>(report: &'a Value, consumer: &str) -> &'a Value {
    report["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["consumer"] == consumer)
        .unwrap_or_else(|| panic!("no row for {consumer} in {report}"))
}

/// A DLQ's messages as received, with their parsed records.
type Received = Vec<(ReceivedMessage, DlqRecord)>;

/// Every message of a consumer's DLQ, received through the queue API as the CLI would (with a
/// visibility timeout that covers the scan), parsed as a DLQ record.
fn receive_dlq(state: &Path, consumer: &str) -> Received {
    let queues = ecomm_local::sqs::Queues::new(ecomm_local::store::Db::open(state).unwrap());
    let now = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .unwrap()
        .timestamp_millis();
    let mut receipts = 0_u32;
    let mut next_receipt = || {
        receipts += 1;
        format!("receipt-{receipts}")
    };
    let mut out = Vec::new();
    loop {
        let batch = queues
            .receive(&names::dlq(consumer), 10, 300, now, &mut next_receipt)
            .unwrap();
        if batch.is_empty() {
            return out;
        }
        for message in batch {
            assert_eq!(message.receive_count, 1, "{message:?}");
            let record = DlqRecord::parse(&message.body, &message.attributes);
            out.push((message, record));
        }
    }
}

fn attribute(message: &ReceivedMessage, name: &str) -> String {
    message
        .attributes
        .get(name)
        .and_then(AttributeValue::as_text)
        .unwrap_or_else(|| panic!("no {name} attribute on {message:?}"))
        .to_owned()
}

fn invocation_record(record: &DlqRecord) -> &ecomm_events::dlq::InvocationRecord {
    match &record.source {
        DlqSource::LambdaDestination(r) => r,
        other => panic!("not an on-failure destination record: {other:?}"),
    }
}

fn ms_of(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

#[test]
fn the_demo_accounts_for_every_order_and_reset_deletes_the_state() {
    let (_dir, state) = temp_state();
    let report = demo_json(&state, &["--orders", "60"]);
    let submitted = report["ordersSubmitted"].as_u64().unwrap();
    let legacy = report["legacyV1Events"].as_u64().unwrap();
    assert_eq!(submitted + legacy, 60);
    assert_eq!(
        report["ordersAccepted"].as_u64().unwrap() + report["ordersRejected"].as_u64().unwrap(),
        submitted
    );
    assert!(state.exists());

    ecomm_on(&state).args(["local", "reset"]).assert().success();
    assert!(!state.exists());
}

#[test]
fn the_summary_names_its_state_file_and_has_one_row_per_consumer() {
    let (_dir, state) = temp_state();
    let out = ecomm_on(&state)
        .args(["demo", "--orders", "60", "--start", START])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        format!("local stack: {} (seed 42)", state.display()),
        "{text}"
    );

    let cells = |line: &str| -> Vec<String> {
        line.trim_matches('│')
            .split('┆')
            .map(|c| c.trim().to_owned())
            .collect()
    };
    let header = lines
        .iter()
        .position(|l| l.contains("consumer") && l.contains("DLQ depth"))
        .unwrap_or_else(|| panic!("no table header in\n{text}"));
    assert_eq!(
        cells(lines[header]),
        [
            "consumer",
            "succeeded",
            "skipped",
            "failed attempts",
            "delivery failures",
            "DLQ depth"
        ]
    );
    let body: Vec<Vec<String>> = lines[header + 1..]
        .iter()
        .take_while(|l| !l.starts_with('└'))
        .filter(|l| l.starts_with('│'))
        .map(|l| cells(l))
        .collect();

    // The same run as JSON: the table shows exactly its numbers, one line per consumer.
    let (_json_dir, json_state) = temp_state();
    let report = demo_json(&json_state, &["--orders", "60"]);
    let expected: Vec<Vec<String>> = report["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut row = vec![c["consumer"].as_str().unwrap().to_owned()];
            for field in [
                "succeeded",
                "skipped",
                "failedAttempts",
                "deliveryFailures",
                "dlqDepth",
            ] {
                row.push(c[field].to_string());
            }
            row
        })
        .collect();
    assert_eq!(body, expected, "{text}");
    assert_eq!(
        body.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(),
        CONSUMERS
    );
    assert!(text.contains("\nnext:\n"), "{text}");
}

#[test]
fn an_out_of_stock_order_runs_the_refund_saga_with_causation_links() {
    let (_dir, state) = temp_state();
    let report = demo_json(&state, &["--faults", "none", "--orders", "200"]);
    let conn = open_state(&state);
    let events = bus_events(&conn);
    let by_key: HashMap<String, &BusEvent> = events.iter().map(|e| (e.key(), e)).collect();
    let caused_by = |cause: &BusEvent| -> Vec<&BusEvent> {
        let key = cause.key();
        events
            .iter()
            .filter(|e| e.causation_id() == Some(key.as_str()))
            .collect()
    };

    // The order the report points at: OrderCreated → InventoryOutOfStock → Refund*.
    let order = report["outOfStockOrder"].as_str().unwrap();
    let created: Vec<&BusEvent> = events
        .iter()
        .filter(|e| e.detail_type == "OrderCreated" && e.order_id() == order)
        .collect();
    assert_eq!(created.len(), 1, "{created:?}");
    let chain = caused_by(created[0]);
    assert_eq!(chain.len(), 1, "{chain:?}");
    assert_eq!(chain[0].detail_type, "InventoryOutOfStock");
    let refund = caused_by(chain[0]);
    assert_eq!(refund.len(), 1, "{refund:?}");
    assert!(
        ["RefundCompleted", "RefundFailed"].contains(&refund[0].detail_type.as_str()),
        "{refund:?}"
    );
    for event in [chain[0], refund[0]] {
        assert_eq!(event.order_id(), order);
        assert_eq!(event.correlation_id(), created[0].correlation_id());
    }

    // Every out-of-stock order of the run: exactly one refund outcome, caused by it; a completed
    // refund is one gateway refund and, with an email on file, one refund notice.
    let mut completed_with_email = 0;
    for out_of_stock in events
        .iter()
        .filter(|e| e.detail_type == "InventoryOutOfStock")
    {
        let cause = by_key[out_of_stock.causation_id().unwrap()];
        assert_eq!(cause.detail_type, "OrderCreated");
        let order = out_of_stock.order_id();
        assert_eq!(cause.order_id(), order);
        let outcome = caused_by(out_of_stock);
        assert_eq!(outcome.len(), 1, "{order}: {outcome:?}");
        let gateway: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM gateway_refunds WHERE order_id = ?1",
                [&order],
                |r| r.get(0),
            )
            .unwrap();
        let notices: Vec<Vec<String>> = rows(
            &conn,
            &format!(
                "SELECT recipient FROM outbox WHERE subject = 'Refund for order {order}' ORDER BY seq"
            ),
        );
        match outcome[0].detail_type.as_str() {
            "RefundCompleted" => {
                assert_eq!(gateway, 1, "{order}");
                match cause.body["detail"]["customer"]["email"].as_str() {
                    Some(email) => {
                        assert_eq!(notices, [[email]], "{order}");
                        completed_with_email += 1;
                    }
                    None => assert!(notices.is_empty(), "{order}: {notices:?}"),
                }
            }
            "RefundFailed" => {
                assert_eq!(gateway, 0, "{order}");
                assert!(notices.is_empty(), "{order}: {notices:?}");
            }
            other => panic!("{order}: an out-of-stock order ended in {other}"),
        }
    }
    assert!(
        completed_with_email > 0,
        "the run should refund someone with an email"
    );
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM messages"), 0);
}

fn is_poison(record: &DlqRecord) -> bool {
    record.summary.event_version.as_deref() == Some("3.0")
}

#[test]
fn each_failure_kind_leaves_its_own_dlq_format() {
    let (_dir, state) = temp_state();
    let report = demo_json(&state, &["--orders", "200"]);
    let events: HashMap<String, BusEvent> = bus_events(&open_state(&state))
        .into_iter()
        .map(|e| (e.envelope_id.clone(), e))
        .collect();
    let dlqs: BTreeMap<&str, Received> = CONSUMERS
        .iter()
        .map(|c| (*c, receive_dlq(&state, c)))
        .collect();
    for (consumer, messages) in &dlqs {
        assert_eq!(
            messages.len() as u64,
            number(consumer_row(&report, consumer), "dlqDepth"),
            "{consumer}"
        );
        // Nothing in any DLQ is unreadable, and every DLQ has an AWS-shaped ARN.
        for (message, record) in messages {
            assert_ne!(record.kind(), DlqKind::Unknown, "{consumer}: {message:?}");
        }
        assert_eq!(
            queue_arn(&names::dlq(consumer)),
            format!("arn:aws:sqs:local:000000000000:ecomm-local-{consumer}-dlq")
        );
    }
    check_poison(&dlqs);
    check_function_errors(&dlqs["notification"], &events);
    check_throttled_deliveries(&dlqs["analytics"], &events);
    check_gateway_timeout(&dlqs["refund"], &state);
}

/// The poison event: the function rejects it on every attempt, in each consumer it reaches.
fn check_poison(dlqs: &BTreeMap<&str, Received>) {
    for (consumer, expected) in [
        ("inventory", 1),
        ("notification", 1),
        ("analytics", 1),
        ("refund", 0),
    ] {
        let poison: Vec<&DlqRecord> = dlqs[consumer]
            .iter()
            .map(|(_, r)| r)
            .filter(|r| is_poison(r))
            .collect();
        assert_eq!(poison.len(), expected, "{consumer}");
        for record in poison {
            assert_eq!(record.kind(), DlqKind::LambdaDestination);
            assert_eq!(record.error_code(), Some("UnsupportedEventVersion"));
            assert_eq!(
                invocation_record(record).request_context.function_arn,
                format!("{}:$LATEST", names::function_arn(consumer))
            );
        }
    }
}

/// The notification outage: function errors, retried by Lambda, then the on-failure record.
fn check_function_errors(dlq: &Received, events: &HashMap<String, BusEvent>) {
    let retries = declared("notification", "/asyncInvoke/maximumRetryAttempts");
    let outage: Vec<&(ReceivedMessage, DlqRecord)> =
        dlq.iter().filter(|(_, r)| !is_poison(r)).collect();
    assert!(!outage.is_empty());
    for (message, record) in outage {
        assert!(message.attributes.is_empty(), "{message:?}");
        assert_eq!(record.kind(), DlqKind::LambdaDestination);
        assert_eq!(record.error_code(), Some("DependencyUnavailable"));
        assert_eq!(record.exhausted_condition(), Some("RetriesExhausted"));
        assert_eq!(record.attempts(), Some(u32::try_from(1 + retries).unwrap()));
        let invocation = invocation_record(record);
        assert_eq!(invocation.version, "1.0");
        assert_eq!(
            invocation.response_context.function_error.as_deref(),
            Some("Unhandled")
        );
        assert_eq!(ms_of(&invocation.timestamp), message.sent_ms);
        // The request payload is the event as the bus delivered it.
        let payload = record.event.as_ref().unwrap();
        assert_eq!(payload, &events[payload["id"].as_str().unwrap()].body);
    }
}

/// Throttled deliveries: EventBridge retried per the target's policy, then its DLQ format.
fn check_throttled_deliveries(dlq: &Received, events: &HashMap<String, BusEvent>) {
    let retry_attempts = declared("analytics", "/retryPolicy/maximumRetryAttempts");
    let throttled: Vec<&(ReceivedMessage, DlqRecord)> =
        dlq.iter().filter(|(_, r)| !is_poison(r)).collect();
    assert_eq!(throttled.len(), 2, "throttle=analytics:2 is two orders");
    for (message, record) in throttled {
        assert_eq!(record.kind(), DlqKind::EventbridgeTarget);
        assert_eq!(
            attribute(message, "RULE_ARN"),
            "arn:aws:events:local:000000000000:rule/ecomm-local/ecomm-local-analytics"
        );
        assert_eq!(
            attribute(message, "TARGET_ARN"),
            "arn:aws:lambda:local:000000000000:function:ecomm-local-analytics"
        );
        assert_eq!(attribute(message, "ERROR_CODE"), "THROTTLING");
        assert!(!attribute(message, "ERROR_MESSAGE").is_empty());
        assert_eq!(
            attribute(message, "EXHAUSTED_RETRY_CONDITION"),
            "MaximumRetryAttempts"
        );
        assert_eq!(
            attribute(message, "RETRY_ATTEMPTS"),
            retry_attempts.to_string()
        );
        // The body is the event verbatim, every envelope field included.
        let body: Value = serde_json::from_str(&message.body).unwrap();
        for field in [
            "version",
            "id",
            "detail-type",
            "source",
            "account",
            "time",
            "region",
            "resources",
            "detail",
        ] {
            assert!(body.get(field).is_some(), "{field} missing in {body}");
        }
        assert_eq!(body, events[body["id"].as_str().unwrap()].body);
    }
}

/// The gateway timeout: the refund function fails every attempt, and no refund is made.
fn check_gateway_timeout(dlq: &Received, state: &Path) {
    assert_eq!(dlq.len(), 1);
    let (_, record) = &dlq[0];
    assert_eq!(record.kind(), DlqKind::LambdaDestination);
    assert_eq!(record.error_code(), Some("DependencyUnavailable"));
    assert!(
        record.error_message().unwrap().contains("timed out"),
        "{record:?}"
    );
    assert_eq!(
        record.summary.detail_type.as_deref(),
        Some("InventoryOutOfStock")
    );
    let order = record.summary.order_id.clone().unwrap();
    let gateway: i64 = open_state(state)
        .query_row(
            "SELECT COUNT(*) FROM gateway_refunds WHERE order_id = ?1",
            [&order],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(gateway, 0, "{order} timed out: no refund was made");
}

#[test]
fn a_missing_permission_is_dead_lettered_without_retries() {
    let (_dir, state) = temp_state();
    let report = demo_json(
        &state,
        &["--faults", "no-permissions=inventory:1", "--orders", "60"],
    );
    assert_eq!(
        number(consumer_row(&report, "inventory"), "deliveryFailures"),
        1
    );
    let conn = open_state(&state);
    let messages = dlq_messages(&conn, "inventory");
    assert_eq!(messages.len(), 1, "{messages:?}");
    let attributes = messages[0].attributes();
    let record = DlqRecord::parse(&messages[0].body, &attributes);
    assert_eq!(record.kind(), DlqKind::EventbridgeTarget);
    assert_eq!(record.error_code(), Some("NO_PERMISSIONS"));
    assert_eq!(
        attributes["RETRY_ATTEMPTS"].as_text(),
        Some("0"),
        "EventBridge does not retry a missing permission"
    );
    assert_eq!(record.exhausted_condition(), Some("MaximumRetryAttempts"));
    // Dead-lettered at once, and the function never saw the event.
    let event = bus_events(&conn)
        .into_iter()
        .find(|e| Some(e.envelope_id.as_str()) == record.event.as_ref().unwrap()["id"].as_str())
        .unwrap();
    assert_eq!(messages[0].sent_ms, event.time_ms);
    assert!(log_records(&conn, "inventory", &event.key()).is_empty());
    assert!(!log_records(&conn, "analytics", &event.key()).is_empty());
}

#[test]
fn a_delivery_fault_hits_as_many_distinct_orders_as_asked() {
    let (_dir, state) = temp_state();
    let report = demo_json(
        &state,
        &["--faults", "throttle=analytics:20", "--orders", "60"],
    );
    let attempts = 1 + declared("analytics", "/retryPolicy/maximumRetryAttempts");
    assert_eq!(
        number(consumer_row(&report, "analytics"), "deliveryFailures"),
        20 * attempts
    );
    let conn = open_state(&state);
    let orders: HashSet<String> = dlq_messages(&conn, "analytics")
        .iter()
        .map(|m| {
            let record = DlqRecord::parse(&m.body, &m.attributes());
            assert_eq!(record.error_code(), Some("THROTTLING"));
            record.summary.order_id.unwrap()
        })
        .collect();
    assert_eq!(orders.len(), 20, "{orders:?}");
}

#[test]
fn retries_happen_as_often_and_as_late_as_configured() {
    let (_dir, state) = temp_state();
    demo_json(&state, &["--orders", "200"]);
    let conn = open_state(&state);

    // A function error: Lambda's async retries after 1 and 2 more minutes, then the DLQ.
    let retries = declared("notification", "/asyncInvoke/maximumRetryAttempts");
    let dead = dlq_messages(&conn, "notification");
    let (message, record) = dead
        .iter()
        .map(|m| (m, DlqRecord::parse(&m.body, &m.attributes())))
        .find(|(_, r)| r.error_code() == Some("DependencyUnavailable"))
        .expect("the mail outage dead-letters some notification");
    let event_id = record.summary.event_id.clone().unwrap();
    let lines = log_records(&conn, "notification", &event_id);
    let failed: Vec<&(i64, LogRecord)> = lines
        .iter()
        .filter(|(_, r)| r.outcome == Some(Outcome::Failed))
        .collect();
    assert_eq!(failed.len() as u64, 1 + retries, "{lines:#?}");
    assert_eq!(
        failed.iter().map(|(_, r)| r.attempt).collect::<Vec<_>>(),
        [Some(1), Some(2), Some(3)]
    );
    let first = failed[0].0;
    assert_eq!(
        failed.iter().map(|(ts, _)| ts - first).collect::<Vec<_>>(),
        [0, 60_000, 180_000]
    );
    for (ts, line) in &failed {
        assert_eq!(line.timestamp.timestamp_millis(), *ts);
        assert!(
            line.error
                .as_deref()
                .unwrap()
                .starts_with("DependencyUnavailable"),
            "{line:?}"
        );
    }
    assert!(
        lines
            .iter()
            .all(|(_, r)| r.outcome != Some(Outcome::Succeeded)),
        "{lines:#?}"
    );
    assert_eq!(message.sent_ms, first + 180_000);

    // A throttled delivery: EventBridge retries after 1 s, 2 s, 4 s, ... then the DLQ; the
    // function never runs.
    let events: HashMap<String, BusEvent> = bus_events(&conn)
        .into_iter()
        .map(|e| (e.envelope_id.clone(), e))
        .collect();
    let mut seen = 0;
    for message in dlq_messages(&conn, "analytics") {
        let record = DlqRecord::parse(&message.body, &message.attributes());
        if record.error_code() != Some("THROTTLING") {
            continue;
        }
        seen += 1;
        let DlqSource::EventbridgeTarget(failure) = &record.source else {
            panic!("{record:?}")
        };
        let retries = failure.retry_attempts.unwrap();
        assert_eq!(
            u64::from(retries),
            declared("analytics", "/retryPolicy/maximumRetryAttempts")
        );
        // 1 s before the first retry, doubling, at most 5 minutes.
        let backoff_ms: i64 = (0..retries).map(|r| 1000 * (1_i64 << r).min(300)).sum();
        let event = &events[record.event.as_ref().unwrap()["id"].as_str().unwrap()];
        assert_eq!(message.sent_ms - event.time_ms, backoff_ms, "{record:?}");
        assert!(log_records(&conn, "analytics", &event.key()).is_empty());
    }
    assert_eq!(seen, 2);
}

/// A table's rows, for before/after comparisons.
fn table(conn: &rusqlite::Connection, name: &str) -> Vec<Vec<String>> {
    rows(conn, &format!("SELECT * FROM {name} ORDER BY 1, 2"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn an_event_delivered_twice_has_its_effects_once() {
    let (_dir, state) = temp_state();
    demo_json(&state, &["--faults", "none", "--orders", "120"]);
    let conn = open_state(&state);
    let events = bus_events(&conn);
    let has_email = |e: &&BusEvent| e.body["detail"]["customer"]["email"].is_string();
    let reserved = |e: &&BusEvent| {
        count(
            &conn,
            &format!(
                "SELECT COUNT(*) FROM reservations WHERE order_id = '{}'",
                e.order_id()
            ),
        ) == 1
    };
    let order_v2 = events
        .iter()
        .filter(|e| e.detail_type == "OrderCreated" && e.body["detail"]["eventVersion"] == "2.0")
        .filter(has_email)
        .find(reserved)
        .expect("a reserved v2 order with an email");
    let order_v1 = events
        .iter()
        .filter(|e| e.detail_type == "OrderCreated" && e.body["detail"]["eventVersion"] == "1.0")
        .filter(has_email)
        .find(reserved)
        .expect("a reserved legacy order with an email");
    let refunded = events
        .iter()
        .find(|e| e.detail_type == "RefundCompleted")
        .expect("a completed refund");
    let out_of_stock = events
        .iter()
        .find(|e| Some(e.key().as_str()) == refunded.causation_id())
        .unwrap();

    let effects = |conn: &rusqlite::Connection| {
        [
            "stock",
            "reservations",
            "analytics",
            "outbox",
            "gateway_refunds",
            "refunds",
        ]
        .map(|t| table(conn, t))
    };
    let before = effects(&conn);
    let events_before = events.len();

    let at = "2026-11-25T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let stack = LocalStack::open(&state, &StackOptions { seed: 7, start: at }).unwrap();
    // PutEvents again (every consumer whose rule matches gets it), and one more direct async
    // invoke of inventory, as a redrive would do.
    for event in [order_v2, order_v1, out_of_stock, refunded] {
        stack.put_event(at, event.body.clone());
    }
    stack
        .invoke_async(at, "inventory", order_v2.body.clone())
        .unwrap();
    let run_stats = stack.run(|_, _| {}).await.unwrap();
    drop(stack);

    let duplicates: BTreeMap<&str, u64> = run_stats
        .consumers
        .iter()
        .map(|(name, c)| (name.as_str(), c.duplicates))
        .collect();
    assert_eq!(
        duplicates,
        BTreeMap::from([
            ("analytics", 2),
            ("inventory", 3),
            ("notification", 3),
            ("refund", 1)
        ])
    );
    for c in run_stats.consumers.values() {
        assert_eq!(c.succeeded + c.failed_attempts + c.skipped, 0, "{c:?}");
    }
    assert_eq!(run_stats.events_put, 4, "a duplicate publishes nothing new");

    let conn = open_state(&state);
    assert_eq!(effects(&conn), before, "stock, emails, counters, refunds");
    assert_eq!(bus_events(&conn).len(), events_before + 4);
    for (consumer, event, expected) in [
        ("inventory", order_v2, 2),
        ("notification", order_v2, 1),
        ("analytics", order_v2, 1),
        ("inventory", order_v1, 1),
        ("notification", order_v1, 1),
        ("analytics", order_v1, 1),
        ("refund", out_of_stock, 1),
        ("notification", refunded, 1),
    ] {
        let lines = log_records(&conn, consumer, &event.key());
        let duplicate = lines
            .iter()
            .filter(|(_, r)| r.outcome == Some(Outcome::Duplicate))
            .count();
        assert_eq!(duplicate, expected, "{consumer}: {lines:#?}");
    }
}

fn demo_dlqs(seed: &str) -> Vec<crate::support::StoredMessage> {
    let (_dir, state) = temp_state();
    demo_json(&state, &["--orders", "100", "--seed", seed]);
    all_messages(&open_state(&state))
}

#[test]
fn the_same_seed_reproduces_the_same_dlq_contents() {
    let first = demo_dlqs("7");
    assert!(first.len() >= 4, "{first:?}");
    assert_eq!(demo_dlqs("7"), first);
    assert_ne!(demo_dlqs("8"), first);
}

#[test]
fn extending_a_state_with_the_same_seed_reuses_no_id() {
    let (_dir, state) = temp_state();
    let first = demo_json(&state, &["--faults", "none", "--orders", "100"]);
    let second = demo_json(&state, &["--faults", "none", "--orders", "100", "--extend"]);
    let conn = open_state(&state);
    let events = bus_events(&conn);
    let orders: Vec<&BusEvent> = events
        .iter()
        .filter(|e| e.detail_type == "OrderCreated")
        .collect();
    let expected = [&first, &second]
        .iter()
        .map(|r| number(r, "ordersAccepted") + number(r, "legacyV1Events"))
        .sum::<u64>();
    assert_eq!(orders.len() as u64, expected);
    let distinct = |f: &dyn Fn(&BusEvent) -> String| {
        orders.iter().map(|e| f(e)).collect::<HashSet<_>>().len() as u64
    };
    assert_eq!(distinct(&|e| e.order_id()), expected, "order ids");
    assert_eq!(distinct(&|e| e.key()), expected, "event ids");
    assert_eq!(
        distinct(&|e| e.correlation_id().unwrap().to_owned()),
        expected,
        "correlation ids"
    );
    // So no consumer mistook a new order for a replay.
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM logs WHERE line LIKE '%\"outcome\":\"duplicate\"%'"
        ),
        0
    );
    assert_eq!(
        number(consumer_row(&second, "analytics"), "succeeded"),
        number(&second, "ordersAccepted") + number(&second, "legacyV1Events")
    );
}

#[test]
fn two_demos_extending_one_state_at_once_leave_it_consistent() {
    let (_dir, state) = temp_state();
    let runs: Vec<_> = ["1", "2"]
        .into_iter()
        .map(|seed| {
            let mut cmd = ecomm_on(&state);
            cmd.args([
                "demo", "--extend", "--faults", "none", "--orders", "300", "--output", "json",
                "--start", START, "--seed", seed,
            ]);
            std::thread::spawn(move || cmd.output().unwrap())
        })
        .collect();
    let reports: Vec<Value> = runs
        .into_iter()
        .map(|run| {
            let out = run.join().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect();

    let conn = open_state(&state);
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let expected: u64 = reports
        .iter()
        .map(|r| number(r, "ordersAccepted") + number(r, "legacyV1Events"))
        .sum();
    let orders: Vec<String> = bus_events(&conn)
        .iter()
        .filter(|e| e.detail_type == "OrderCreated")
        .map(BusEvent::order_id)
        .collect();
    assert_eq!(orders.len() as u64, expected, "one OrderCreated per order");
    assert_eq!(
        orders.iter().collect::<HashSet<_>>().len() as u64,
        expected,
        "no order id used by both runs"
    );
    // Every order was reserved or found out of stock exactly once, none taken for a replay.
    let inventory_outcomes = count(
        &conn,
        "SELECT COUNT(*) FROM logs WHERE log_group = '/aws/lambda/ecomm-local-inventory' \
         AND line LIKE '%\"outcome\":\"succeeded\"%'",
    );
    assert_eq!(inventory_outcomes, expected);
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM logs WHERE line LIKE '%\"outcome\":\"duplicate\"%'"
        ),
        0
    );
}
