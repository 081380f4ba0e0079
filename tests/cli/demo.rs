//! `ecomm demo` and the local stack it runs: the saga, the three failure paths and their DLQ
//! formats, retry counts and timing, idempotency, reproducibility, and two processes on one
//! state file. Every run starts at a fixed time so that the outcome is deterministic.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use ecomm_events::{AttributeValue, DlqKind, DlqRecord, DlqSource, LogRecord, Outcome};
use ecomm_local::sqs::queue_arn;
use ecomm_local::{LocalStack, StackOptions, names};
use serde_json::Value;

use crate::support::{
    Archived, BusEvent, DemoAnswer, Ecomm, START, TARGETS as CONSUMERS, bus_events, count,
    declared, export, log_records, ls, open_state, rows, temp_state,
};

fn demo_json(state: &Path, args: &[&str]) -> DemoAnswer {
    Ecomm::local(state)
        .args("demo --start")
        .arg(START)
        .each(args)
        .json()
}

/// A DLQ's messages as the CLI exports them, with their parsed records.
type Received = Vec<(Archived, DlqRecord)>;

/// Every message of a consumer's DLQ, through `dlq export`, parsed as a DLQ record. Nothing
/// read them before: this is each message's first receive.
fn receive_dlq(state: &Path, consumer: &str) -> Received {
    export(state, consumer, &[])
        .into_iter()
        .map(|message| {
            assert_eq!(message.receive_count, 1, "{message:?}");
            let record = DlqRecord::parse(&message.body, &message.attributes);
            (message, record)
        })
        .collect()
}

/// When a message entered its DLQ, epoch ms.
fn sent_ms(message: &Archived) -> i64 {
    message
        .sent_at
        .unwrap_or_else(|| panic!("no SentTimestamp on {message:?}"))
        .timestamp_millis()
}

fn attribute(message: &Archived, name: &str) -> String {
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
    let submitted = report.orders_submitted;
    assert_eq!(submitted + report.legacy_v1_events, 60);
    assert_eq!(report.orders_accepted + report.orders_rejected, submitted);
    assert_eq!(report.state, state.display().to_string());
    assert!(state.exists());

    let reset: crate::support::Reset = Ecomm::local(&state).args("local reset").json();
    assert_eq!(reset.deleted, state.display().to_string());
    assert!(!state.exists());
}

#[test]
fn the_summary_names_its_state_file_and_has_one_row_per_consumer() {
    let (_dir, state) = temp_state();
    let text = Ecomm::local(&state)
        .args("demo --orders 60 --start")
        .arg(START)
        .stdout();
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
    let expected: Vec<Vec<String>> = report
        .consumers
        .iter()
        .map(|c| {
            let mut row = vec![c.consumer.clone()];
            for number in [
                c.succeeded,
                c.skipped,
                c.failed_attempts,
                c.delivery_failures,
                c.dlq_depth,
            ] {
                row.push(number.to_string());
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
    let order = report.out_of_stock_order.as_deref().unwrap();
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
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM messages WHERE queue LIKE '%-dlq'"
        ),
        0
    );
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
            report.consumer(consumer).dlq_depth,
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
    let outage: Vec<&(Archived, DlqRecord)> = dlq.iter().filter(|(_, r)| !is_poison(r)).collect();
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
        assert_eq!(ms_of(&invocation.timestamp), sent_ms(message));
        // The request payload is the event as the bus delivered it.
        let payload = record.event.as_ref().unwrap();
        assert_eq!(payload, &events[payload["id"].as_str().unwrap()].body);
    }
}

/// Throttled deliveries: EventBridge retried per the target's policy, then its DLQ format.
fn check_throttled_deliveries(dlq: &Received, events: &HashMap<String, BusEvent>) {
    let retry_attempts = declared("analytics", "/retryPolicy/maximumRetryAttempts");
    let throttled: Vec<&(Archived, DlqRecord)> =
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
    assert_eq!(report.consumer("inventory").delivery_failures, 1);
    let conn = open_state(&state);
    let messages = export(&state, "inventory", &[]);
    assert_eq!(messages.len(), 1, "{messages:?}");
    let attributes = messages[0].attributes.clone();
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
    assert_eq!(sent_ms(&messages[0]), event.time_ms);
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
        report.consumer("analytics").delivery_failures,
        20 * attempts
    );
    let orders: HashSet<String> = export(&state, "analytics", &[])
        .iter()
        .map(|m| {
            let record = DlqRecord::parse(&m.body, &m.attributes);
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
    let dead = export(&state, "notification", &[]);
    let (message, record) = dead
        .iter()
        .map(|m| (m, DlqRecord::parse(&m.body, &m.attributes)))
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
    assert_eq!(sent_ms(message), first + 180_000);

    // A throttled delivery: EventBridge retries after 1 s, 2 s, 4 s, ... then the DLQ; the
    // function never runs.
    let events: HashMap<String, BusEvent> = bus_events(&conn)
        .into_iter()
        .map(|e| (e.envelope_id.clone(), e))
        .collect();
    let mut seen = 0;
    for message in &export(&state, "analytics", &[]) {
        let record = DlqRecord::parse(&message.body, &message.attributes);
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
        assert_eq!(sent_ms(message) - event.time_ms, backoff_ms, "{record:?}");
        assert!(log_records(&conn, "analytics", &event.key()).is_empty());
    }
    assert_eq!(seen, 2);
}

/// A table's rows, for before/after comparisons.
fn table(conn: &rusqlite::Connection, name: &str) -> Vec<Vec<String>> {
    rows(conn, &format!("SELECT * FROM {name} ORDER BY 1, 2"))
}

/// An `OrderCreated` of that major version (`2` for 2.0, 2.1, ...).
fn order_created_of_major(event: &BusEvent, major: &str) -> bool {
    event.detail_type == "OrderCreated"
        && event.body["detail"]["eventVersion"]
            .as_str()
            .is_some_and(|v| v.split('.').next() == Some(major))
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
        .filter(|e| order_created_of_major(e, "2"))
        .filter(has_email)
        .find(reserved)
        .expect("a reserved v2 order with an email");
    let order_v1 = events
        .iter()
        .filter(|e| order_created_of_major(e, "1"))
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
            // The audit queue takes every copy; the function behind it appends each event once.
            ("audit", 4),
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

/// Every DLQ message of a demo with this seed, as `dlq export` gives them: `(consumer, body,
/// attributes, sent at)`.
fn demo_dlqs(seed: &str) -> Vec<(String, String, String, i64)> {
    let (_dir, state) = temp_state();
    demo_json(&state, &["--orders", "100", "--seed", seed]);
    let mut messages: Vec<(String, String, String, i64)> = CONSUMERS
        .iter()
        .flat_map(|consumer| {
            export(&state, consumer, &[]).into_iter().map(|m| {
                (
                    (*consumer).to_owned(),
                    m.body.clone(),
                    serde_json::to_string(&m.attributes).unwrap(),
                    sent_ms(&m),
                )
            })
        })
        .collect();
    messages.sort();
    messages
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
        .map(|r| r.orders_accepted + r.legacy_v1_events)
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
        second.consumer("analytics").succeeded,
        second.orders_accepted + second.legacy_v1_events
    );
}

#[test]
fn two_demos_extending_one_state_at_once_leave_it_consistent() {
    let (_dir, state) = temp_state();
    let runs: Vec<_> = ["1", "2"]
        .into_iter()
        .map(|seed| {
            let demo = Ecomm::local(&state)
                .args("demo --extend --faults none --orders 300 --start")
                .arg(START)
                .args("--seed")
                .arg(seed);
            std::thread::spawn(move || demo.json::<DemoAnswer>())
        })
        .collect();
    let reports: Vec<DemoAnswer> = runs.into_iter().map(|run| run.join().unwrap()).collect();

    let conn = open_state(&state);
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let expected: u64 = reports
        .iter()
        .map(|r| r.orders_accepted + r.legacy_v1_events)
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

#[test]
fn an_audit_table_outage_holds_the_fifo_order_and_moves_what_keeps_failing_to_the_queues_own_dlq() {
    let (_dir, state) = temp_state();
    let report = demo_json(
        &state,
        &["--orders", "120", "--faults", "audit-outage=20%..60%"],
    );

    let audit = report.consumer("audit");
    let reader_dlq = audit
        .reader_dlq
        .clone()
        .expect("the audit queue has a function behind it");
    assert_eq!(reader_dlq.queue, "ecomm-local-audit-reader-dlq.fifo");
    assert!(reader_dlq.depth > 0, "{audit:?}");
    assert!(audit.failed_attempts > 0, "{audit:?}");
    assert_eq!(
        audit.dlq_depth, 0,
        "EventBridge delivered every event to the queue"
    );
    // `dlq ls` counts the same records, beside the consumer's own DLQ.
    let row = ls(&state)
        .into_iter()
        .find(|r| r.target == "audit")
        .unwrap();
    let reader = row
        .reader
        .expect("dlq ls shows the function behind the queue");
    assert_eq!(reader.dlq.as_deref(), Some(reader_dlq.queue.as_str()));
    assert_eq!(reader.visible, Some(reader_dlq.depth));

    // Every event the audit rule matches is in the trail or in the redrive DLQ, once.
    let conn = open_state(&state);
    let audited: u64 = count(
        &conn,
        "SELECT COUNT(*) FROM events WHERE detail_type IN ('OrderCreated', 'InventoryReserved', 'InventoryOutOfStock', 'RefundCompleted', 'RefundFailed')",
    );
    let trail: u64 = count(&conn, "SELECT COUNT(*) FROM audit_trail");
    assert_eq!(trail, audit.succeeded);
    assert_eq!(trail + reader_dlq.depth, audited);
    // The trail was written in the queue's order: the function stops a batch at its first
    // failure, so nothing overtakes a record that is waiting for its retry.
    let mut statement = conn
        .prepare("SELECT at FROM audit_trail ORDER BY recorded_ms, rowid")
        .unwrap();
    let times: Vec<DateTime<Utc>> = statement
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|t| t.unwrap().parse().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "the trail is out of order"
    );
    // The demo says where they went.
    let (_text_dir, text_state) = temp_state();
    let text = Ecomm::local(&text_state)
        .args("demo --orders 10 --faults audit-outage=0%..100% --start")
        .arg(START)
        .run()
        .stdout;
    assert!(
        text.contains(
            "record(s) its function kept failing are in ecomm-local-audit-reader-dlq.fifo"
        ),
        "{text}"
    );
}
