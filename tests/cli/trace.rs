//! `ecomm trace` on the local stack: after `ecomm demo`, an order's chain is rebuilt from the
//! log records and the DLQs, stuck steps name the command that replays them, and that command
//! turns them into recovered steps.

use std::io::BufRead as _;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use crate::support::{DemoAnswer, Ecomm, EventNode, ShownMessage, Trace, show, temp_state};

const DEMO_START: &str = "2026-11-25T10:00:00Z";

/// The default demo (200 orders, default faults); returns its JSON report.
fn demo(state: &Path) -> DemoAnswer {
    Ecomm::local(state)
        .args("demo --orders 200 --start")
        .arg(DEMO_START)
        .json()
}

/// The order the demo ran out of stock for.
fn out_of_stock_order(report: &DemoAnswer) -> String {
    report
        .out_of_stock_order
        .clone()
        .expect("the default demo runs an order out of stock")
}

/// A window around the demo's day that also covers what a redrive logs now.
fn window() -> Vec<String> {
    let demo_end: DateTime<Utc> = "2026-11-26T12:00:00Z".parse().unwrap();
    let until = Utc::now().max(demo_end) + Duration::days(1);
    vec![
        "--since".to_owned(),
        "2026-11-24T00:00:00Z".to_owned(),
        "--until".to_owned(),
        until.to_rfc3339(),
    ]
}

/// `trace ID --output json` over the demo's window, expecting exit code 0.
fn trace(state: &Path, id: &str) -> Trace {
    trace_with(state, id, &window())
}

fn trace_with(state: &Path, id: &str, window: &[String]) -> Trace {
    let trace: Trace = Ecomm::local(state)
        .args("trace")
        .arg(id)
        .each(window)
        .json();
    assert_eq!(trace.query, id);
    assert!(trace.problems.is_empty(), "{:?}", trace.problems);
    assert!(!trace.partial);
    trace
}

/// The human tree of `trace ID`.
fn trace_text(state: &Path, id: &str) -> String {
    Ecomm::local(state)
        .args("trace")
        .arg(id)
        .each(window())
        .stdout()
}

/// The messages of a consumer's DLQ as `dlq show` lists them.
fn dlq(state: &Path, target: &str) -> Vec<ShownMessage> {
    show(state, target, &[])
}

/// Run the exact command the trace printed (`ecomm redrive ...`) against this state.
fn run_printed(state: &Path, command: &str) {
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words.first(), Some(&"ecomm"), "{command}");
    Ecomm::local(state).each(&words[1..]).run();
}

/// Times never go backwards along a chain.
fn assert_non_decreasing(steps: &[(&str, DateTime<Utc>)]) {
    for pair in steps.windows(2) {
        assert!(
            pair[0].1 <= pair[1].1,
            "{} at {} comes after {} at {}",
            pair[0].0,
            pair[0].1,
            pair[1].0,
            pair[1].1
        );
    }
}

fn at(event: &EventNode) -> DateTime<Utc> {
    event
        .at
        .unwrap_or_else(|| panic!("{} has no time", event.detail_type))
}

#[test]
fn an_out_of_stock_order_shows_the_refund_saga_in_causal_order() {
    let (_dir, state) = temp_state();
    let report = demo(&state);
    let order = out_of_stock_order(&report);

    let trace = trace(&state, &order);
    assert_eq!(trace.order_ids, vec![order.clone()]);
    assert_eq!(
        trace.correlation_ids.len(),
        1,
        "{:?}",
        trace.correlation_ids
    );

    let created = trace.order_created();
    assert_eq!(created.published_by.as_deref(), Some("order-producer"));
    assert!(created.missing.is_empty(), "{:?}", created.missing);
    let mut consumers: Vec<&str> = created
        .invocations
        .iter()
        .map(|i| i.consumer.as_str())
        .collect();
    consumers.sort_unstable();
    // The audit function behind its queue records every order event too.
    assert_eq!(
        consumers,
        ["analytics", "audit", "inventory", "notification"]
    );

    let inventory = created.by("inventory");
    assert_eq!(inventory.outcome, "succeeded");
    let out_of_stock = inventory.only_emitted();
    assert_eq!(out_of_stock.detail_type, "InventoryOutOfStock");
    assert_eq!(out_of_stock.published_by.as_deref(), Some("inventory"));
    assert!(
        out_of_stock.missing.is_empty(),
        "{:?}",
        out_of_stock.missing
    );

    let refund = out_of_stock.by("refund");
    assert_eq!(refund.outcome, "succeeded");
    let settled = refund.only_emitted();
    assert_eq!(settled.published_by.as_deref(), Some("refund"));
    let mut chain = vec![
        ("OrderCreated", at(created)),
        ("inventory", inventory.first_at()),
        ("InventoryOutOfStock", at(out_of_stock)),
        ("refund", refund.first_at()),
        (settled.detail_type.as_str(), at(settled)),
    ];
    match settled.detail_type.as_str() {
        "RefundCompleted" => {
            let notification = settled.by("notification");
            assert_eq!(notification.outcome, "succeeded");
            chain.push(("notification", notification.first_at()));
        }
        "RefundFailed" => {
            // Only the audit trail subscribes to RefundFailed.
            let consumers: Vec<&str> = settled
                .invocations
                .iter()
                .map(|i| i.consumer.as_str())
                .collect();
            assert_eq!(consumers, ["audit"], "{settled:#?}");
            assert!(settled.missing.is_empty(), "{settled:#?}");
        }
        other => panic!("refund emitted {other}"),
    }
    assert_non_decreasing(&chain);

    // Every event of the chain is this order's: nothing of another order leaks in.
    assert_eq!(trace.all_events().len(), 3);
}

#[test]
fn a_notification_in_the_dlq_is_stuck_with_its_redrive_command_and_recovers_after_it() {
    let (_dir, state) = temp_state();
    demo(&state);
    let message = dlq(&state, "notification")
        .into_iter()
        .find(|m| {
            m.detail_type.as_deref() == Some("OrderCreated")
                && m.order_id
                    .as_deref()
                    .is_some_and(|o| !o.starts_with("ord-poison"))
        })
        .expect("the default faults leave order confirmations in the notification DLQ");
    let order = message.order_id.clone().unwrap();
    let message_id = message.message_id.clone();

    let before = trace(&state, &order);
    let notification = before.order_created().by("notification");
    assert_eq!(notification.outcome, "stuck");
    let stuck = notification.stuck.as_ref().expect("the DLQ message");
    assert_eq!(stuck.consumer, "notification");
    assert_eq!(stuck.message_id, message_id);
    assert!(stuck.queue.ends_with("notification-dlq"), "{}", stuck.queue);
    assert_eq!(
        stuck.redrive,
        format!("ecomm redrive --target notification --message-id {message_id}")
    );
    assert_eq!(stuck.error_code, message.error_code);
    assert!(!notification.attempts.is_empty());
    for attempt in &notification.attempts {
        assert_eq!(attempt.outcome, "failed", "{attempt:?}");
        let error = attempt.error.as_deref().unwrap_or_default();
        assert!(
            error.starts_with(message.error_code.as_deref().unwrap()),
            "{error}"
        );
    }
    let failures = notification.attempts.len();
    let tree = trace_text(&state, &order);
    assert!(tree.contains("STUCK in"), "{tree}");
    assert!(tree.contains(&stuck.redrive), "{tree}");

    run_printed(&state, &stuck.redrive);

    let after = trace(&state, &order);
    let notification = after.order_created().by("notification");
    assert_eq!(notification.outcome, "succeeded");
    assert_eq!(notification.stuck, None);
    // The history is kept: the failed attempts, then the one that worked.
    let (last, earlier) = notification.attempts.split_last().unwrap();
    assert_eq!(earlier.len(), failures, "{:#?}", notification.attempts);
    assert!(earlier.iter().all(|a| a.outcome == "failed"));
    assert_eq!(last.outcome, "succeeded");
    assert!(last.at >= earlier.last().unwrap().at);
    let tree = trace_text(&state, &order);
    assert!(
        tree.contains(&format!("recovered after {failures} failure(s)")),
        "{tree}"
    );
    assert!(!tree.contains("STUCK"), "{tree}");
}

#[test]
fn an_order_id_its_correlation_id_and_any_of_its_event_ids_give_the_same_chain() {
    let (_dir, state) = temp_state();
    let report = demo(&state);
    let order = out_of_stock_order(&report);
    let by_order = trace(&state, &order);
    let [correlation] = by_order.correlation_ids.as_slice() else {
        panic!("{:?}", by_order.correlation_ids);
    };
    let event_ids: Vec<String> = by_order
        .all_events()
        .iter()
        .map(|e| e.event_id.clone())
        .collect();
    assert_eq!(event_ids.len(), 3);

    for id in std::iter::once(correlation).chain(&event_ids) {
        let other = trace(&state, id);
        assert_eq!(other.correlation_ids, by_order.correlation_ids, "by {id}");
        assert_eq!(other.order_ids, by_order.order_ids, "by {id}");
        assert_eq!(other.events, by_order.events, "by {id}");
    }
}

#[test]
fn a_refund_in_the_dlq_is_stuck_ends_the_chain_and_completes_after_its_redrive() {
    let (_dir, state) = temp_state();
    demo(&state);
    let messages = dlq(&state, "refund");
    let [message] = messages.as_slice() else {
        panic!("the default faults leave one refund in its DLQ: {messages:#?}");
    };
    let order = message.order_id.clone().unwrap();
    let message_id = message.message_id.clone();

    let before = trace(&state, &order);
    let out_of_stock = before.order_created().by("inventory").only_emitted();
    assert_eq!(out_of_stock.detail_type, "InventoryOutOfStock");
    let refund = out_of_stock.by("refund");
    assert_eq!(refund.outcome, "stuck");
    assert!(refund.emitted.is_empty(), "a failed refund emits nothing");
    let stuck = refund.stuck.as_ref().unwrap();
    assert_eq!(stuck.message_id, message_id);
    assert_eq!(
        stuck.redrive,
        format!("ecomm redrive --target refund --message-id {message_id}")
    );
    assert_eq!(
        stuck.attempts,
        Some(refund.attempts.len().try_into().unwrap())
    );

    Ecomm::local(&state).args("redrive --target refund").run();

    let after = trace(&state, &order);
    let created = after.order_created();
    let inventory = created.by("inventory");
    let out_of_stock = inventory.only_emitted();
    let refund = out_of_stock.by("refund");
    assert_eq!(refund.outcome, "succeeded");
    assert_eq!(refund.stuck, None);
    assert!(refund.attempts.iter().any(|a| a.outcome == "failed"));
    let settled = refund.only_emitted();
    let mut chain = vec![
        ("OrderCreated", at(created)),
        ("inventory", inventory.first_at()),
        ("InventoryOutOfStock", at(out_of_stock)),
        ("refund", refund.first_at()),
        ("refund's success", refund.attempts.last().unwrap().at),
        (settled.detail_type.as_str(), at(settled)),
    ];
    if settled.detail_type == "RefundCompleted" {
        let notification = settled.by("notification");
        assert_eq!(notification.outcome, "succeeded");
        chain.push(("notification", notification.first_at()));
    } else {
        assert_eq!(settled.detail_type, "RefundFailed");
    }
    assert_non_decreasing(&chain);
}

#[test]
fn the_poison_order_shows_unsupported_event_version_failures_in_the_three_consumers() {
    let (_dir, state) = temp_state();
    let report = demo(&state);
    assert_eq!(report.poison_events, 1);
    let order = dlq(&state, "inventory")
        .iter()
        .filter_map(|m| m.order_id.clone())
        .find(|o| o.starts_with("ord-poison-"))
        .expect("the poison event is in the inventory DLQ");

    let trace = trace(&state, &order);
    assert_eq!(trace.order_ids, vec![order]);
    let created = trace.order_created();
    let mut consumers: Vec<&str> = created
        .invocations
        .iter()
        .map(|i| i.consumer.as_str())
        .collect();
    consumers.sort_unstable();
    // The audit function behind its queue records every order event too.
    assert_eq!(
        consumers,
        ["analytics", "audit", "inventory", "notification"]
    );
    // The audit trail takes the poison event as it takes any: its version is no concern of
    // a record of ids, type and time.
    assert_eq!(created.by("audit").outcome, "succeeded");
    for inv in created.invocations.iter().filter(|i| i.consumer != "audit") {
        assert_eq!(inv.outcome, "stuck", "{inv:#?}");
        assert!(inv.emitted.is_empty());
        let stuck = inv.stuck.as_ref().unwrap();
        assert_eq!(stuck.error_code.as_deref(), Some("UnsupportedEventVersion"));
        assert_eq!(
            stuck.redrive,
            format!(
                "ecomm redrive --target {} --message-id {}",
                inv.consumer, stuck.message_id
            )
        );
        assert!(!inv.attempts.is_empty());
        for attempt in &inv.attempts {
            assert_eq!(attempt.outcome, "failed");
            assert!(
                attempt
                    .error
                    .as_deref()
                    .is_some_and(|e| e.starts_with("UnsupportedEventVersion: ")),
                "{attempt:?}"
            );
        }
    }
}

#[test]
fn a_step_that_did_not_happen_in_the_window_is_flagged_missing() {
    let (_dir, state) = temp_state();
    let report = demo(&state);
    let order = out_of_stock_order(&report);
    let full = trace(&state, &order);
    let out_of_stock = full.order_created().by("inventory").only_emitted();
    let refund_at = out_of_stock.by("refund").first_at();
    assert!(
        at(out_of_stock) < refund_at,
        "the bus delivers after a delay"
    );

    // Stop the window before the refund ran: the rules say it should have, the logs do not.
    let cut = vec![
        "--since".to_owned(),
        "2026-11-24T00:00:00Z".to_owned(),
        "--until".to_owned(),
        refund_at.to_rfc3339(),
    ];
    let partial = trace_with(&state, &order, &cut);
    let out_of_stock = partial.order_created().by("inventory").only_emitted();
    assert!(
        out_of_stock
            .invocations
            .iter()
            .all(|i| i.consumer != "refund"),
        "{out_of_stock:#?}"
    );
    assert_eq!(out_of_stock.missing, ["refund"]);

    let tree = Ecomm::local(&state)
        .args("trace")
        .arg(&order)
        .each(&cut)
        .stdout();
    assert!(tree.contains("MISSING: no invocation of refund"), "{tree}");
}

#[test]
fn mermaid_output_is_a_sequence_diagram_declaring_every_participant_it_uses() {
    let (_dir, state) = temp_state();
    let report = demo(&state);
    let order = out_of_stock_order(&report);
    let diagram = Ecomm::local(&state)
        .args("trace")
        .arg(&order)
        .args("--output mermaid")
        .each(window())
        .stdout();
    let mut lines = diagram.lines();
    assert_eq!(lines.next(), Some("sequenceDiagram"), "{diagram}");

    let mut declared = Vec::new();
    let mut arrows = Vec::new();
    for line in lines {
        let line = line
            .strip_prefix("    ")
            .unwrap_or_else(|| panic!("statements are indented: {line:?}"));
        assert!(
            !line.contains(';') && !line.contains('#'),
            "`;` and `#` break Mermaid: {line}"
        );
        if line == "autonumber" || line.starts_with("Note over ") {
            continue;
        }
        if let Some(name) = line.strip_prefix("participant ") {
            declared.push(name.split(" as ").next().unwrap().to_owned());
            continue;
        }
        let (ends, message) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("not a message: {line}"));
        let (from, to) = ends
            .split_once("->>")
            .or_else(|| ends.split_once("-x"))
            .unwrap_or_else(|| panic!("no arrow in {line}"));
        for end in [from, to] {
            assert!(
                declared.iter().any(|d| d == end),
                "{end} used before it is declared: {diagram}"
            );
        }
        arrows.push(format!("{from} {to} {message}"));
    }
    for name in [
        "order-producer",
        "bus",
        "inventory",
        "refund",
        "notification",
        "analytics",
    ] {
        assert!(declared.iter().any(|d| d == name), "{name}: {diagram}");
    }
    let position = |prefix: &str| {
        arrows
            .iter()
            .position(|a| a.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in {arrows:#?}"))
    };
    // Top to bottom is time order.
    assert!(position("order-producer bus OrderCreated") < position("bus inventory OrderCreated"));
    assert!(position("bus inventory OrderCreated") < position("inventory bus InventoryOutOfStock"));
    assert!(
        position("inventory bus InventoryOutOfStock") < position("bus refund InventoryOutOfStock")
    );
    assert!(position("bus refund InventoryOutOfStock") < position("refund bus Refund"));
}

#[test]
fn an_id_nothing_mentions_exits_1_and_says_so() {
    let (_dir, state) = temp_state();
    demo(&state);
    let session = Ecomm::local(&state)
        .args("trace ord-99999 -o json")
        .each(window())
        .code(1)
        .run();
    assert!(session.stdout.is_empty(), "{}", session.transcript());
    let stderr = &session.stderr;
    assert!(
        stderr.contains("no log record or DLQ message mentions ord-99999 in the window"),
        "{stderr}"
    );
    assert!(stderr.contains("--since"), "{stderr}");
}

#[test]
fn follow_prints_the_chain_as_it_is_now_keeps_polling_and_ends_cleanly_on_ctrl_c() {
    let (_dir, state) = temp_state();
    let report = demo(&state);
    let order = out_of_stock_order(&report);
    let expected = trace(&state, &order);

    let mut child = Ecomm::local(&state)
        .args("trace")
        .arg(&order)
        .args("--follow --interval 1 -o ndjson")
        .each(window())
        .process()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The first state of the chain, one line of NDJSON, as soon as it is known.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let shown: Trace = serde_json::from_str(&first).unwrap();
    assert_eq!(shown.events, expected.events);
    assert!(
        child.try_wait().unwrap().is_none(),
        "--follow runs until interrupted"
    );
    crate::support::interrupt(&child);
    assert_eq!(
        child.wait().unwrap().code(),
        Some(0),
        "Ctrl-C ends --follow"
    );
}
