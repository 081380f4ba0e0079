//! Shared helpers of the CLI tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use ecomm_events::{EventSummary, LogRecord, MessageAttributes};
use rusqlite::Connection;
use serde_json::Value;

/// The `ecomm` binary with a clean environment (no ECOMM_* or AWS_* leaking in).
pub(crate) fn ecomm() -> Command {
    let mut cmd = Command::cargo_bin("ecomm").unwrap();
    for (key, _) in std::env::vars() {
        if key.starts_with("ECOMM_") || key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// `ecomm --state <dir>/local.sqlite ...`.
pub(crate) fn ecomm_on(state: &Path) -> Command {
    let mut cmd = ecomm();
    cmd.arg("--state").arg(state);
    cmd
}

/// A state file in a fresh temporary directory (kept alive by the returned guard).
pub(crate) fn temp_state() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.sqlite");
    (dir, path)
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

/// A message as a queue holds it (a row of `messages`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct StoredMessage {
    /// The queue name.
    pub(crate) queue: String,
    /// The body, as sent.
    pub(crate) body: String,
    /// The message attributes, as sent (JSON).
    pub(crate) attributes: String,
    /// `SentTimestamp`, epoch ms.
    pub(crate) sent_ms: i64,
}

impl StoredMessage {
    /// The attributes, typed.
    pub(crate) fn attributes(&self) -> MessageAttributes {
        serde_json::from_str(&self.attributes).unwrap()
    }
}

/// Every message of every queue, sorted (a multiset, comparable across state files).
pub(crate) fn all_messages(conn: &Connection) -> Vec<StoredMessage> {
    let mut stmt = conn
        .prepare("SELECT queue, body, attributes, sent_ms FROM messages")
        .unwrap();
    let mut messages: Vec<StoredMessage> = stmt
        .query_map([], |r| {
            Ok(StoredMessage {
                queue: r.get(0)?,
                body: r.get(1)?,
                attributes: r.get(2)?,
                sent_ms: r.get(3)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    messages.sort();
    messages
}

/// A consumer's DLQ messages, oldest first.
pub(crate) fn dlq_messages(conn: &Connection, consumer: &str) -> Vec<StoredMessage> {
    let queue = ecomm_local::names::dlq(consumer);
    let mut messages: Vec<StoredMessage> = all_messages(conn)
        .into_iter()
        .filter(|m| m.queue == queue)
        .collect();
    messages.sort_by_key(|m| m.sent_ms);
    messages
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
