//! The local stack of a test: a state file after `ecomm demo`, seeding its DLQs as anyone with
//! `sqs:SendMessage` could, reading them back through the CLI (`dlq ls`, `show`, `export`),
//! and, for the facts the CLI does not expose (the bus's events, the functions' log lines,
//! emails sent, stock, refunds), reading the state file the way the stack wrote it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::Utc;
use ecomm_events::{EventSummary, LogRecord, MessageAttributes};
use rusqlite::Connection;
use serde_json::Value;

use super::{Archived, Ecomm, LsRow, Shown, ShownMessage};

/// The start of every functional test's demo: fixed, so the same orders fail every run.
pub(crate) const START: &str = "2026-11-25T10:00:00Z";

/// The four consumers of the local bus.
/// Every consumer, in declaration order: the four functions, then the audit queue.
pub(crate) const TARGETS: [&str; 5] = ["inventory", "notification", "analytics", "refund", "audit"];

/// A state file in a fresh temporary directory (kept alive by the returned guard).
pub(crate) fn temp_state() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.sqlite");
    (dir, path)
}

/// A fresh state after `ecomm demo --start START --orders 200` with the default faults.
pub(crate) fn demo_state() -> (tempfile::TempDir, PathBuf) {
    demo_state_from(START)
}

/// The same demo over the hour before now: every DLQ message is under an hour old, so the
/// age columns of the human tables have a fixed width (their values are filtered out).
pub(crate) fn recent_demo_state() -> (tempfile::TempDir, PathBuf) {
    let start = (Utc::now() - chrono::Duration::minutes(58)).to_rfc3339();
    demo_state_from(&start)
}

fn demo_state_from(start: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, state) = temp_state();
    Ecomm::local(&state)
        .args("demo --orders 200 --output json --start")
        .arg(start)
        .run();
    (dir, state)
}

/// `dlq ls`.
pub(crate) fn ls(state: &Path) -> Vec<LsRow> {
    Ecomm::local(state).args("dlq ls").json()
}

/// A consumer's `(visible, in flight)`, as `dlq ls` counts them.
pub(crate) fn depth(state: &Path, target: &str) -> (u64, u64) {
    let row = ls(state)
        .into_iter()
        .find(|r| r.target == target)
        .unwrap_or_else(|| panic!("dlq ls has no {target}"));
    (row.visible.expect("a DLQ"), row.in_flight.expect("a DLQ"))
}

/// `dlq show TARGET FILTERS --output json`, after checking the scan saw the whole queue.
pub(crate) fn show(state: &Path, target: &str, filters: &[&str]) -> Vec<ShownMessage> {
    let shown: Shown = Ecomm::local(state)
        .args("dlq show")
        .arg(target)
        .each(filters)
        .json();
    assert!(shown.complete, "{shown:?}");
    shown.messages
}

/// The message ids, in order.
pub(crate) fn ids(messages: &[ShownMessage]) -> Vec<String> {
    messages.iter().map(|m| m.message_id.clone()).collect()
}

/// `dlq export TARGET FILTERS`: the messages as SQS holds them, oldest first. Reading counts
/// as a receive.
pub(crate) fn export(state: &Path, target: &str, filters: &[&str]) -> Vec<Archived> {
    Ecomm::local(state)
        .args("dlq export")
        .arg(target)
        .each(filters)
        .run()
        .lines()
}

/// The message ids of a consumer's DLQ, read through `dlq export`.
pub(crate) fn dlq_ids(state: &Path, target: &str) -> BTreeSet<String> {
    export(state, target, &[])
        .into_iter()
        .map(|m| m.message_id)
        .collect()
}

/// `dlq ls` shows exactly `visible` messages in the consumer's DLQ, none in flight.
pub(crate) fn assert_all_visible(state: &Path, target: &str, visible: usize) {
    let visible = u64::try_from(visible).expect("a count");
    assert_eq!(depth(state, target), (visible, 0), "{target}");
}

/// Put a message into a consumer's DLQ, sent a second ago, as anyone with `sqs:SendMessage`
/// could.
pub(crate) fn send_to_dlq(
    state: &Path,
    target: &str,
    message_id: &str,
    body: &str,
    attributes: &MessageAttributes,
) {
    let sent = Utc::now().timestamp_millis() - 1000;
    ecomm_local::sqs::Queues::new(ecomm_local::store::Db::open(state).unwrap())
        .send(
            &ecomm_local::names::dlq(target),
            message_id,
            body,
            attributes,
            sent,
            sent,
        )
        .unwrap();
}

/// A consumer's declaration, as Terraform and the local stack read it:
/// `terraform/consumers/<name>.json`.
pub(crate) fn declaration(consumer: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("terraform/consumers")
        .join(format!("{consumer}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A number of a consumer's declaration, e.g. `/asyncInvoke/maximumRetryAttempts`.
pub(crate) fn declared(consumer: &str, pointer: &str) -> u64 {
    declaration(consumer)
        .pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("terraform/consumers/{consumer}.json has no {pointer}"))
}

/// A connection to a state file, for reading it the way the stack wrote it.
pub(crate) fn open_state(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    conn
}

/// One event the bus accepted (a row of `events`).
#[derive(Debug, Clone)]
pub(crate) struct BusEvent {
    /// The envelope's `id`.
    pub(crate) envelope_id: String,
    /// When it was put, epoch ms.
    pub(crate) time_ms: i64,
    /// `detail-type`.
    pub(crate) detail_type: String,
    /// The whole envelope.
    pub(crate) body: Value,
}

impl BusEvent {
    /// The idempotency key: `detail.metadata.eventId`, else the envelope id (v1 events).
    pub(crate) fn key(&self) -> String {
        EventSummary::of(&self.body).event_id.unwrap()
    }

    /// `detail.metadata.causationId`.
    pub(crate) fn causation_id(&self) -> Option<&str> {
        self.body
            .pointer("/detail/metadata/causationId")
            .and_then(Value::as_str)
    }

    /// `detail.metadata.correlationId`.
    pub(crate) fn correlation_id(&self) -> Option<&str> {
        self.body
            .pointer("/detail/metadata/correlationId")
            .and_then(Value::as_str)
    }

    /// The order the event is about.
    pub(crate) fn order_id(&self) -> String {
        EventSummary::of(&self.body).order_id.unwrap()
    }
}

/// Every event the bus accepted, in the order it accepted them.
pub(crate) fn bus_events(conn: &Connection) -> Vec<BusEvent> {
    let mut stmt = conn
        .prepare("SELECT envelope_id, time_ms, detail_type, body FROM events ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| {
        let body: String = r.get(3)?;
        Ok(BusEvent {
            envelope_id: r.get(0)?,
            time_ms: r.get(1)?,
            detail_type: r.get(2)?,
            body: serde_json::from_str(&body).unwrap(),
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// A function's log lines about one event (`eventId` = `event_id`), oldest first, with their
/// stored timestamps.
pub(crate) fn log_records(
    conn: &Connection,
    function: &str,
    event_id: &str,
) -> Vec<(i64, LogRecord)> {
    let group = ecomm_local::logs::log_group(&ecomm_local::names::function(function));
    let mut stmt = conn
        .prepare(
            "SELECT ts_ms, line FROM logs WHERE log_group = ?1 AND event_id = ?2 ORDER BY ts_ms, seq",
        )
        .unwrap();
    stmt.query_map([group.as_str(), event_id], |r| {
        let line: String = r.get(1)?;
        Ok((r.get(0)?, LogRecord::parse(&line).unwrap()))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The rows of `SELECT ...` as strings, for before/after comparisons of a table.
pub(crate) fn rows(conn: &Connection, sql: &str) -> Vec<Vec<String>> {
    let mut stmt = conn.prepare(sql).unwrap();
    let columns = stmt.column_count();
    stmt.query_map([], |r| {
        (0..columns)
            .map(|i| {
                r.get_ref(i).map(|v| match v {
                    rusqlite::types::ValueRef::Null => "NULL".to_owned(),
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    rusqlite::types::ValueRef::Real(x) => x.to_string(),
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// `SELECT COUNT(*) ...`.
pub(crate) fn count(conn: &Connection, sql: &str) -> u64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}
