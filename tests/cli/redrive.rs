//! `ecomm redrive` on the local stack after `ecomm demo` with the default faults: the transient
//! failures are replayed and their sagas complete, exactly once; the poison event comes back;
//! nothing is lost or done twice, also on Ctrl-C; every run is journaled. DLQ contents and what
//! each consumer did with an event are read through the CLI (`dlq`, `trace`); the effects the
//! CLI does not show (emails sent, refunds, counters) are read from the state file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ecomm_events::MessageAttributes;
use serde_json::Value;

use crate::support::{
    Archived, Ecomm, JournalLine, RedriveReport, ShownMessage, Trace, assert_session_snapshot,
    demo_state, depth, dlq_ids, export, ids, ls, open_state, recent_demo_state, send_to_dlq, show,
};

/// `ecomm ARGS --output json` (a redrive), expecting exit `code`.
fn run_redrive(state: &Path, args: &[&str], code: i32) -> RedriveReport {
    Ecomm::local(state).each(args).code(code).json()
}

/// `SELECT COUNT(*)` of a table the consumers write, with one text parameter.
fn count(state: &Path, sql: &str, param: &str) -> u64 {
    open_state(state)
        .query_row(sql, [param], |r| r.get(0))
        .unwrap()
}

/// Order confirmations sent for an order.
fn confirmations(state: &Path, order_id: &str) -> u64 {
    count(
        state,
        "SELECT COUNT(*) FROM outbox WHERE subject = ?1",
        &format!("Your order {order_id}"),
    )
}

/// What `ecomm trace ORDER` shows each consumer did with the order's events since `since`:
/// `(consumer, outcome)` per attempt.
fn outcomes(state: &Path, order_id: &str, since: DateTime<Utc>) -> Vec<(String, String)> {
    let trace: Trace = Ecomm::local(state)
        .args("trace")
        .arg(order_id)
        .args("--since 2026-11-24T00:00:00Z")
        .json();
    trace
        .all_events()
        .iter()
        .flat_map(|event| &event.invocations)
        .flat_map(|invocation| {
            invocation
                .attempts
                .iter()
                .filter(|a| a.at >= since)
                .map(|a| (invocation.consumer.clone(), a.outcome.clone()))
        })
        .collect()
}

/// How many attempts of `consumer` ended with `outcome` for the order since `since`.
fn logged(
    state: &Path,
    order_id: &str,
    since: DateTime<Utc>,
    consumer: &str,
    outcome: &str,
) -> usize {
    outcomes(state, order_id, since)
        .iter()
        .filter(|(c, o)| c == consumer && o == outcome)
        .count()
}

/// Put exported messages back into a DLQ under new message ids: the same failures, delivered
/// twice, as a standard queue or a second EventBridge attempt may do.
fn resend(state: &Path, target: &str, lines: &[Archived]) -> Vec<String> {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let id = format!("resent-{i}-{}", line.message_id);
            send_to_dlq(state, target, &id, &line.body, &line.attributes);
            id
        })
        .collect()
}

fn journal_path(state: &Path) -> PathBuf {
    state.parent().unwrap().join("redrive-journal.ndjson")
}

fn journal(state: &Path) -> Vec<JournalLine> {
    std::fs::read_to_string(journal_path(state))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn orders(messages: &[ShownMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m.order_id.clone().unwrap())
        .collect()
}

/// Nothing of the consumer's DLQ is left in flight: every message read is visible again.
fn none_in_flight(state: &Path, target: &str) {
    assert_eq!(
        depth(state, target).1,
        0,
        "{target}: messages left in flight"
    );
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

#[test]
fn redriving_notification_sends_each_missing_email_once_and_the_poison_event_returns() {
    let (_dir, state) = demo_state();
    let before = show(&state, "notification", &[]);
    let transient = show(
        &state,
        "notification",
        &["--error-code", "DependencyUnavailable"],
    );
    let poison = show(
        &state,
        "notification",
        &["--error-code", "UnsupportedEventVersion"],
    );
    assert_eq!(transient.len() + poison.len(), before.len());
    assert!(!transient.is_empty());
    assert_eq!(poison.len(), 1);
    // The outage covered a v1 event too: it is replayed through `invoke` like the others.
    assert!(
        transient
            .iter()
            .any(|m| m.event_version.as_deref() == Some("1.0"))
    );
    for order in orders(&transient) {
        assert_eq!(confirmations(&state, &order), 0, "{order}");
    }
    let exported = export(
        &state,
        "notification",
        &["--error-code", "DependencyUnavailable"],
    );

    // The poison's redelivery was accepted (202), so it counts as redriven and the run
    // succeeds; the consumer rejects it again, and that new failure is a new DLQ message.
    let report = run_redrive(&state, &["redrive", "--target", "notification"], 0);
    assert_eq!(report.redriven, before.len() as u64);
    assert_eq!(report.failed, 0);
    assert_eq!(report.skipped, 0);
    assert_eq!(report.delivered_not_deleted, 0);
    assert!(!report.interrupted);
    assert_eq!(report.left_in_queue, Some(1));
    assert_eq!(report.via, "target");

    for order in orders(&transient) {
        assert_eq!(confirmations(&state, &order), 1, "{order}");
    }
    let after = show(&state, "notification", &[]);
    assert_eq!(after.len(), 1);
    let returned = &after[0];
    assert_ne!(returned.message_id, poison[0].message_id, "a new message");
    assert_eq!(returned.event_id, poison[0].event_id, "the same event");
    assert_eq!(
        returned.error_code.as_deref(),
        Some("UnsupportedEventVersion")
    );
    assert_eq!(returned.kind, "lambda-destination");
    assert!(!dlq_ids(&state, "notification").contains(&poison[0].message_id));

    // The same failures delivered to the DLQ again: the replay is absorbed by idempotency.
    let since = now();
    let resent = resend(&state, "notification", &exported);
    let report = run_redrive(
        &state,
        &[
            "redrive",
            "--target",
            "notification",
            "--error-code",
            "DependencyUnavailable",
        ],
        0,
    );
    assert_eq!(report.redriven, resent.len() as u64);
    for order in orders(&transient) {
        assert_eq!(confirmations(&state, &order), 1, "{order}: no second email");
        assert_eq!(
            logged(&state, &order, since, "notification", "duplicate"),
            1,
            "{order}"
        );
    }
    assert_eq!(
        dlq_ids(&state, "notification"),
        BTreeSet::from([returned.message_id.clone()])
    );
}

#[test]
fn redriving_refund_refunds_once_and_a_duplicate_does_not_refund_again() {
    let (_dir, state) = demo_state();
    let failed = show(&state, "refund", &[]);
    assert_eq!(failed.len(), 1);
    let order = failed[0].order_id.clone().unwrap();
    assert_eq!(
        failed[0].detail_type.as_deref(),
        Some("InventoryOutOfStock")
    );
    assert_eq!(
        failed[0].error_code.as_deref(),
        Some("DependencyUnavailable")
    );
    let refunds = |state: &Path| {
        count(
            state,
            "SELECT COUNT(*) FROM gateway_refunds WHERE order_id = ?1",
            &order,
        )
    };
    let notices = |state: &Path| {
        count(
            state,
            "SELECT COUNT(*) FROM outbox WHERE subject = ?1",
            &format!("Refund for order {order}"),
        )
    };
    assert_eq!(refunds(&state), 0);
    let exported = export(&state, "refund", &[]);

    let report = run_redrive(&state, &["redrive", "--target", "refund"], 0);
    assert_eq!(report.redriven, 1);
    assert_eq!(report.left_in_queue, Some(0));
    assert_eq!(refunds(&state), 1);
    assert_eq!(
        count(
            &state,
            "SELECT COUNT(*) FROM refunds WHERE order_id = ?1",
            &order
        ),
        1
    );
    // The saga went on: RefundCompleted reached notification, which told the customer.
    assert_eq!(notices(&state), 1);
    assert!(dlq_ids(&state, "refund").is_empty());

    let since = now();
    resend(&state, "refund", &exported);
    let report = run_redrive(&state, &["redrive", "--target", "refund"], 0);
    assert_eq!(report.redriven, 1);
    assert_eq!(refunds(&state), 1, "no second refund");
    assert_eq!(notices(&state), 1, "no second notice");
    assert_eq!(logged(&state, &order, since, "refund", "duplicate"), 1);
    assert!(dlq_ids(&state, "refund").is_empty());
}

fn analytics_orders(state: &Path) -> i64 {
    open_state(state)
        .query_row(
            "SELECT COALESCE(SUM(order_count), 0) FROM analytics",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn redriving_through_the_bus_reaches_every_rule_and_idempotency_absorbs_it() {
    let (_dir, state) = demo_state();
    let throttled = show(&state, "analytics", &["--error-code", "THROTTLING"]);
    assert_eq!(throttled.len(), 2, "the default faults throttle two orders");
    assert!(throttled.iter().all(|m| m.kind == "eventbridge-target"));
    let others_before: Vec<BTreeSet<String>> = ["inventory", "notification"]
        .iter()
        .map(|t| dlq_ids(&state, t))
        .collect();
    let counted_before = analytics_orders(&state);
    let exported = export(&state, "analytics", &["--error-code", "THROTTLING"]);

    let since = now();
    let report = run_redrive(
        &state,
        &[
            "redrive",
            "--target",
            "analytics",
            "--via",
            "bus",
            "--error-code",
            "throttling",
        ],
        0,
    );
    assert_eq!(report.via, "bus");
    assert_eq!(report.redriven, 2);
    assert_eq!(report.not_selected, 1, "the poison event stays");
    assert_eq!(analytics_orders(&state), counted_before + 2);
    for order in orders(&throttled) {
        // Analytics never saw these orders: now it counts them, once.
        assert_eq!(logged(&state, &order, since, "analytics", "succeeded"), 1);
        // Every other rule matched the event again; their idempotency recognised it.
        assert_eq!(logged(&state, &order, since, "inventory", "duplicate"), 1);
        assert_eq!(
            logged(&state, &order, since, "notification", "duplicate"),
            1
        );
        assert!(
            !outcomes(&state, &order, since)
                .iter()
                .any(|(_, o)| o == "failed"),
            "{order}"
        );
    }
    let left = show(&state, "analytics", &[]);
    assert_eq!(left.len(), 1);
    assert_eq!(
        left[0].error_code.as_deref(),
        Some("UnsupportedEventVersion")
    );
    for (target, before) in ["inventory", "notification"].iter().zip(&others_before) {
        assert_eq!(&dlq_ids(&state, target), before, "{target}");
    }

    // Replayed twice: counted once.
    let since = now();
    resend(&state, "analytics", &exported);
    let report = run_redrive(
        &state,
        &[
            "redrive",
            "--target",
            "analytics",
            "--via",
            "bus",
            "--error-code",
            "THROTTLING",
        ],
        0,
    );
    assert_eq!(report.redriven, 2);
    assert_eq!(analytics_orders(&state), counted_before + 2);
    for order in orders(&throttled) {
        assert_eq!(logged(&state, &order, since, "analytics", "duplicate"), 1);
    }
}

#[test]
fn v1_events_are_skipped_through_the_bus_and_kept() {
    let (_dir, state) = demo_state();
    let v1 = show(&state, "notification", &[])
        .into_iter()
        .find(|m| m.event_version.as_deref() == Some("1.0"))
        .expect("the mail outage covers a v1 event");
    let before = dlq_ids(&state, "notification");
    let report = run_redrive(
        &state,
        &[
            "redrive",
            "--target",
            "notification",
            "--via",
            "bus",
            "--message-id",
            &v1.message_id,
        ],
        3,
    );
    assert_eq!(report.redriven, 0);
    assert_eq!(report.skipped, 1);
    let reason = &report.not_redriven[0].reason;
    assert_eq!(report.not_redriven[0].outcome, "skipped");
    assert!(
        reason.contains("v1") && reason.contains("--via target"),
        "{reason}"
    );
    assert_eq!(dlq_ids(&state, "notification"), before);
    none_in_flight(&state, "notification");
}

#[test]
fn a_dry_run_lists_what_would_be_redriven_and_changes_nothing() {
    let (_dir, state) = demo_state();
    let before = export(&state, "notification", &[]);
    let transient = show(
        &state,
        "notification",
        &["--error-code", "DependencyUnavailable"],
    );
    let report = run_redrive(
        &state,
        &["redrive", "--target", "notification", "--dry-run"],
        0,
    );
    assert!(report.dry_run);
    assert_eq!(report.redriven, 0);
    let all: Vec<String> = before.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(report.would(), all);

    let after = export(&state, "notification", &[]);
    assert_eq!(
        after.iter().map(|m| &m.body).collect::<Vec<_>>(),
        before.iter().map(|m| &m.body).collect::<Vec<_>>()
    );
    none_in_flight(&state, "notification");
    for order in orders(&transient) {
        assert_eq!(confirmations(&state, &order), 0);
    }
    // Filters and --max narrow a dry run as they narrow a real one.
    let report = run_redrive(
        &state,
        &[
            "redrive",
            "--target",
            "notification",
            "--dry-run",
            "--error-code",
            "DependencyUnavailable",
            "--max",
            "2",
        ],
        0,
    );
    assert_eq!(report.would(), ids(&transient[..2]));
}

#[test]
fn max_message_id_and_filters_redrive_exactly_the_selected_messages() {
    let (_dir, state) = demo_state();
    let transient = show(
        &state,
        "notification",
        &["--error-code", "DependencyUnavailable"],
    );
    assert!(transient.len() >= 3);
    let mut left: BTreeSet<String> = dlq_ids(&state, "notification");

    // --max 1: one message, the oldest.
    let report = run_redrive(
        &state,
        &[
            "redrive",
            "--target",
            "notification",
            "--error-code",
            "DependencyUnavailable",
            "--max",
            "1",
        ],
        0,
    );
    assert_eq!(report.redriven, 1);
    left.remove(&transient[0].message_id);
    assert_eq!(dlq_ids(&state, "notification"), left);
    assert_eq!(confirmations(&state, &orders(&transient)[0]), 1);
    assert_eq!(confirmations(&state, &orders(&transient)[1]), 0);

    // --limit caps a redrive as --max does.
    let report = run_redrive(
        &state,
        &[
            "redrive",
            "--target",
            "notification",
            "--error-code",
            "DependencyUnavailable",
            "--limit",
            "1",
            "--dry-run",
        ],
        0,
    );
    assert_eq!(report.would_redrive.len(), 1, "{report:?}");

    // --message-id: exactly that one.
    let report = run_redrive(
        &state,
        &[
            "redrive",
            "--target",
            "notification",
            "--message-id",
            &transient[2].message_id,
        ],
        0,
    );
    assert_eq!(report.redriven, 1);
    left.remove(&transient[2].message_id);
    assert_eq!(dlq_ids(&state, "notification"), left);

    // --order-id: exactly that order's message.
    let order = transient[1].order_id.clone().unwrap();
    let report = run_redrive(
        &state,
        &["redrive", "--target", "notification", "--order-id", &order],
        0,
    );
    assert_eq!(report.redriven, 1);
    left.remove(&transient[1].message_id);
    assert_eq!(dlq_ids(&state, "notification"), left);
    for order in orders(&transient[..3]) {
        assert_eq!(confirmations(&state, &order), 1, "{order}");
    }
    for order in orders(&transient[3..]) {
        assert_eq!(confirmations(&state, &order), 0, "{order}");
    }
}

#[test]
fn bodies_in_no_known_format_are_skipped_and_kept_unless_named() {
    let (_dir, state) = demo_state();
    let transient = export(
        &state,
        "notification",
        &["--error-code", "DependencyUnavailable"],
    );
    // An order event pasted into the queue by hand (no DLQ attributes), and garbage.
    let record: Value = serde_json::from_str(&transient[0].body).unwrap();
    let event = record["requestPayload"].to_string();
    send_to_dlq(
        &state,
        "notification",
        "hand-written",
        &event,
        &MessageAttributes::new(),
    );
    send_to_dlq(
        &state,
        "notification",
        "garbage",
        "{\"truncated\": ",
        &MessageAttributes::new(),
    );
    let unknown: Vec<ShownMessage> = show(&state, "notification", &[])
        .into_iter()
        .filter(|m| m.kind == "unknown")
        .collect();
    assert_eq!(ids(&unknown), ["hand-written", "garbage"]);

    let report = run_redrive(&state, &["redrive", "--target", "notification"], 3);
    assert_eq!(report.skipped, 2);
    assert_eq!(report.failed, 0);
    assert_eq!(
        report.redriven,
        transient.len() as u64 + 1,
        "and the poison event"
    );
    let skipped: BTreeSet<&str> = report
        .not_redriven
        .iter()
        .map(|n| n.message_id.as_str())
        .collect();
    assert_eq!(skipped, BTreeSet::from(["hand-written", "garbage"]));
    let left = dlq_ids(&state, "notification");
    assert!(left.contains("hand-written") && left.contains("garbage"));

    // Named, the hand-written event is replayed as it is (and absorbed: its email was sent).
    let order = record["requestPayload"]["detail"]["order"]["orderId"]
        .as_str()
        .unwrap();
    let report = run_redrive(
        &state,
        &[
            "redrive",
            "--target",
            "notification",
            "--message-id",
            "hand-written",
        ],
        0,
    );
    assert_eq!(report.redriven, 1);
    assert!(!dlq_ids(&state, "notification").contains("hand-written"));
    assert_eq!(confirmations(&state, order), 1);

    // Named, garbage cannot be replayed: it fails, and stays.
    let report = run_redrive(
        &state,
        &[
            "redrive",
            "--target",
            "notification",
            "--message-id",
            "garbage",
        ],
        3,
    );
    assert_eq!(report.failed, 1);
    assert_eq!(report.not_redriven[0].outcome, "failed");
    assert!(report.not_redriven[0].reason.contains("not JSON"));
    assert!(dlq_ids(&state, "notification").contains("garbage"));
    none_in_flight(&state, "notification");
}

#[test]
fn the_journal_records_the_start_every_message_and_the_end_of_each_run() {
    let (_dir, state) = demo_state();
    let before = show(&state, "notification", &[]);
    run_redrive(&state, &["redrive", "--target", "notification"], 0);

    let lines = journal(&state);
    // Each message: `delivered` on disk before its delete is sent, then `redriven`.
    assert_eq!(lines.len(), 2 * before.len() + 2, "{lines:#?}");
    let run = lines[0].run().to_owned();
    assert!(
        uuid::Uuid::parse_str(&run).is_ok(),
        "run ids are UUIDs: {run}"
    );
    assert!(lines.iter().all(|l| l.run() == run));
    let JournalLine::Start {
        target,
        via,
        dry_run,
        ..
    } = &lines[0]
    else {
        panic!("the first line starts the run: {:?}", lines[0])
    };
    assert_eq!(
        (target.as_str(), via.as_str(), *dry_run),
        ("notification", "target", false)
    );
    let mut journaled: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for line in &lines[1..=2 * before.len()] {
        let JournalLine::Message {
            message_id,
            outcome,
            error,
            ..
        } = line
        else {
            panic!("a message line: {line:?}")
        };
        assert_eq!(error, &None, "{line:?}");
        journaled
            .entry(message_id.as_str())
            .or_default()
            .push(outcome.as_str());
    }
    let expected: BTreeMap<&str, Vec<&str>> = before
        .iter()
        .map(|m| (m.message_id.as_str(), vec!["delivered", "redriven"]))
        .collect();
    assert_eq!(journaled, expected);
    let JournalLine::End {
        redriven,
        interrupted,
        ..
    } = lines.last().unwrap()
    else {
        panic!("the last line ends the run: {:?}", lines.last())
    };
    assert_eq!((*redriven, *interrupted), (before.len() as u64, false));

    // A second run appends under its own run id; a dry run journals its start and end.
    run_redrive(
        &state,
        &["redrive", "--target", "analytics", "--dry-run"],
        0,
    );
    let lines = journal(&state);
    let second: Vec<&JournalLine> = lines.iter().filter(|l| l.run() != run).collect();
    assert!(
        matches!(
            second.first(),
            Some(JournalLine::Start { dry_run: true, .. })
        ),
        "{second:?}"
    );
    assert!(
        matches!(second.last(), Some(JournalLine::End { .. })),
        "{second:?}"
    );
}

/// Ctrl-C in the middle of a slow redrive: every message not confirmed delivered is back in
/// the queue, visible, and the same command run again finishes the job without a second email.
#[cfg(unix)]
#[test]
fn ctrl_c_loses_nothing_and_a_rerun_finishes_the_job() {
    let (_dir, state) = demo_state();
    let before = show(&state, "notification", &[]);
    let transient = show(
        &state,
        "notification",
        &["--error-code", "DependencyUnavailable"],
    );
    let child = Ecomm::local(&state)
        .args("redrive --target notification --error-code DependencyUnavailable")
        .args("--rate 0.5 --output json")
        .process()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run has started (its journal line is written), then interrupt it while
    // the rate limit holds the later deliveries back.
    let deadline = Instant::now() + Duration::from_secs(20);
    while journal(&state).is_empty() {
        assert!(Instant::now() < deadline, "the redrive never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(700));
    crate::support::interrupt(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let report: RedriveReport = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.interrupted, "{report:?}");
    let redriven = usize::try_from(report.redriven).unwrap();
    assert!(redriven < transient.len(), "{report:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("error"), "Ctrl-C is no error: {stderr}");

    // Nothing lost: what was not redriven is back, visible.
    none_in_flight(&state, "notification");
    assert_eq!(
        dlq_ids(&state, "notification").len(),
        before.len() - redriven
    );
    assert!(
        matches!(
            journal(&state).last(),
            Some(JournalLine::End {
                interrupted: true,
                ..
            })
        ),
        "the journal ends the run as interrupted"
    );

    // Re-running finishes the job; an event delivered just before the interrupt but not yet
    // deleted is delivered again and absorbed.
    run_redrive(
        &state,
        &[
            "redrive",
            "--target",
            "notification",
            "--error-code",
            "DependencyUnavailable",
        ],
        0,
    );
    assert_eq!(
        dlq_ids(&state, "notification"),
        show(
            &state,
            "notification",
            &["--error-code", "UnsupportedEventVersion"]
        )
        .iter()
        .map(|m| m.message_id.clone())
        .collect()
    );
    for order in orders(&transient) {
        assert_eq!(confirmations(&state, &order), 1, "{order}");
    }
}

#[test]
fn redrive_human_output() {
    let (_dir, state) = recent_demo_state();
    let dry_run = Ecomm::local(&state)
        .args("redrive --target notification --dry-run")
        .run();
    send_to_dlq(
        &state,
        "notification",
        "hand-written-1",
        "not json",
        &MessageAttributes::new(),
    );
    let summary = Ecomm::local(&state)
        .args("redrive --target notification")
        .code(3)
        .run();
    assert_session_snapshot!("redrive_dry_run", dry_run);
    assert_session_snapshot!("redrive_summary", summary);
}

/// The audit trail the function behind the audit queue writes, by event id: `(detail-type,
/// order id)` (a fact of the local stack the CLI does not read).
fn audit_trail(state: &Path) -> BTreeMap<String, (String, Option<String>)> {
    let conn = open_state(state);
    let mut statement = conn
        .prepare("SELECT event_id, detail_type, order_id FROM audit_trail")
        .unwrap();
    statement
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_audit_queue_target_gets_its_refused_events_again_through_its_input_transformer() {
    let (_dir, state) = demo_state();
    let refused = show(&state, "audit", &[]);
    assert!(
        !refused.is_empty(),
        "the default faults refuse one order's events"
    );
    for message in &refused {
        assert_eq!(message.kind, "eventbridge-target");
        assert_eq!(message.error_code.as_deref(), Some("NO_PERMISSIONS"));
        assert_eq!(message.attempts, Some(1), "one try, not retried");
        assert!(
            message
                .failed_arn
                .as_deref()
                .is_some_and(|a| a.ends_with(":ecomm-local-audit.fifo"))
        );
    }
    let before = audit_trail(&state);
    assert!(
        !before.is_empty(),
        "every other event reached the audit queue and its function"
    );

    let report = run_redrive(&state, &["redrive", "--target", "audit"], 0);
    assert_eq!(
        (report.redriven, report.via.as_str()),
        (refused.len() as u64, "target")
    );
    assert!(dlq_ids(&state, "audit").is_empty());
    let after = audit_trail(&state);
    assert_eq!(after.len(), before.len() + refused.len());
    let added: BTreeMap<&String, &(String, Option<String>)> = after
        .iter()
        .filter(|(id, _)| !before.contains_key(*id))
        .collect();
    let expected: BTreeSet<String> = refused.iter().filter_map(|m| m.event_id.clone()).collect();
    assert_eq!(
        added
            .keys()
            .map(|id| (*id).clone())
            .collect::<BTreeSet<_>>(),
        expected
    );
    for (id, (detail_type, order)) in added {
        let message = refused
            .iter()
            .find(|m| m.event_id.as_ref() == Some(id))
            .unwrap();
        assert_eq!(Some(detail_type), message.detail_type.as_ref());
        assert!(
            order.as_deref().is_some_and(|o| o.starts_with("ord-")),
            "{id}: {order:?}"
        );
    }
    // The function takes only what the input transformer keeps (a record with anything of the
    // customer in it would be malformed): nothing waits in the queue or its redrive DLQ.
    assert_eq!(
        count(
            &state,
            "SELECT COUNT(*) FROM messages WHERE queue = ?1",
            "ecomm-local-audit.fifo"
        ),
        0
    );
    let reader = ls(&state)
        .into_iter()
        .find(|r| r.target == "audit")
        .and_then(|r| r.reader)
        .expect("dlq ls shows the function behind the audit queue");
    assert_eq!(
        (reader.function.as_deref(), reader.dlq.as_deref()),
        (
            Some("ecomm-local-audit"),
            Some("ecomm-local-audit-reader-dlq.fifo")
        )
    );
    assert_eq!((reader.visible, reader.in_flight), (Some(0), Some(0)));
}

#[test]
fn transform_mends_the_demos_poison_event_and_inventory_takes_it_once() {
    let (_dir, state) = demo_state();
    let select = |expression: &str| {
        vec![
            "redrive".to_owned(),
            "--target".to_owned(),
            "inventory".to_owned(),
            "--error-code".to_owned(),
            "UnsupportedEventVersion".to_owned(),
            "--transform".to_owned(),
            expression.to_owned(),
        ]
    };
    let redrive = |expression: &str, code: i32| -> RedriveReport {
        Ecomm::local(&state)
            .each(select(expression))
            .code(code)
            .json()
    };
    let poison = show(
        &state,
        "inventory",
        &["--error-code", "UnsupportedEventVersion"],
    );
    let [message] = poison.as_slice() else {
        panic!("one poison event: {poison:?}")
    };
    assert_eq!(message.event_version.as_deref(), Some("3.0"));
    let order = message
        .order_id
        .clone()
        .expect("the poison names its order");
    let since = Utc::now();

    // Mended into a version the contract does not know: skipped, nothing delivered.
    let report = redrive(r#".detail.eventVersion = "9.0""#, 3);
    assert_eq!((report.redriven, report.skipped), (0, 1), "{report:?}");
    assert!(
        report.not_redriven[0].reason.contains("contract"),
        "{report:?}"
    );
    assert!(outcomes(&state, &order, since).is_empty());

    let report = redrive(r#".detail.eventVersion = "2.0""#, 0);
    assert_eq!(report.redriven, 1, "{report:?}");
    assert_eq!(logged(&state, &order, since, "inventory", "succeeded"), 1);
    assert!(
        show(
            &state,
            "inventory",
            &["--error-code", "UnsupportedEventVersion"]
        )
        .is_empty()
    );
}
