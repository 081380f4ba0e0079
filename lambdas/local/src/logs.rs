//! The log store: each function's `LogRecord` lines, exactly what it prints on AWS, kept per log
//! group (`/aws/lambda/<function-name>`), queryable by term and time window.

use std::fmt::Write as _;

use ecomm_events::LogRecord;
use ecomm_ports::logging::LogSink;
use rusqlite::params;

use crate::store::{Db, StoreError, exec};

/// The log group of a function.
pub fn log_group(function_name: &str) -> String {
    format!("/aws/lambda/{function_name}")
}

/// One stored line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The log group.
    pub group: String,
    /// When, epoch ms.
    pub ts_ms: i64,
    /// The line as printed.
    pub line: String,
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// Only these groups (all when empty).
    pub groups: Vec<String>,
    /// Only lines containing this text.
    pub term: Option<String>,
    /// From, epoch ms, inclusive.
    pub start_ms: Option<i64>,
    /// Until, epoch ms, exclusive.
    pub end_ms: Option<i64>,
    /// At most this many lines (oldest first).
    pub limit: Option<usize>,
}

/// The log groups of the state file.
#[derive(Debug, Clone)]
pub struct LogStore {
    db: Db,
    prefix: String,
}

impl LogStore {
    /// Logs in `db`, for functions named `<prefix>-<service>`.
    pub fn new(db: Db, prefix: &str) -> Self {
        Self {
            db,
            prefix: prefix.to_owned(),
        }
    }

    /// Every log group that has lines, sorted.
    pub fn groups(&self) -> Result<Vec<String>, StoreError> {
        self.db.with(|c| {
            let mut stmt = c.prepare("SELECT DISTINCT log_group FROM logs ORDER BY log_group")?;
            let groups = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(groups)
        })
    }

    /// Lines matching `query`, oldest first. A term is looked up as an id first (the indexed
    /// correlation, order and event columns); only when no line carries it as an id is it
    /// searched as text in every line, as CloudWatch's plain-term filter would.
    pub fn query(&self, query: &LogQuery) -> Result<Vec<LogLine>, StoreError> {
        let Some(term) = &query.term else {
            return self.select(query, "?3 IS NULL", None);
        };
        let by_id = self.select(
            query,
            "seq IN (SELECT seq FROM logs WHERE correlation_id = ?3
                     UNION SELECT seq FROM logs WHERE order_id = ?3
                     UNION SELECT seq FROM logs WHERE event_id = ?3)",
            Some(term),
        )?;
        if !by_id.is_empty() {
            return Ok(by_id);
        }
        self.select(query, "instr(line, ?3) > 0", Some(term))
    }

    /// `condition` always binds `?3`, the term.
    fn select(
        &self,
        query: &LogQuery,
        condition: &str,
        term: Option<&String>,
    ) -> Result<Vec<LogLine>, StoreError> {
        let mut sql = format!(
            "SELECT log_group, ts_ms, line FROM logs WHERE ts_ms >= ?1 AND ts_ms < ?2 AND {condition}"
        );
        if !query.groups.is_empty() {
            let list = query
                .groups
                .iter()
                .map(|g| format!("'{}'", g.replace('\'', "''")))
                .collect::<Vec<_>>()
                .join(",");
            let _ = write!(sql, " AND log_group IN ({list})");
        }
        sql.push_str(" ORDER BY ts_ms, seq");
        if let Some(limit) = query.limit {
            let _ = write!(sql, " LIMIT {limit}");
        }
        self.db.with(|c| {
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map(
                params![
                    query.start_ms.unwrap_or(i64::MIN),
                    query.end_ms.unwrap_or(i64::MAX),
                    term
                ],
                |r| {
                    Ok(LogLine {
                        group: r.get(0)?,
                        ts_ms: r.get(1)?,
                        line: r.get(2)?,
                    })
                },
            )?;
            rows.collect()
        })
    }

    /// Append a record to its function's group.
    pub fn append(&self, record: &LogRecord) -> Result<(), StoreError> {
        let group = log_group(&format!("{}-{}", self.prefix, record.service));
        self.db.with(|c| {
            exec(
                c,
                "INSERT INTO logs(log_group, ts_ms, line, correlation_id, order_id, event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    group,
                    record.timestamp.timestamp_millis(),
                    record.to_json_line(),
                    record.correlation_id,
                    record.order_id,
                    record.event_id
                ],
            )
            .map(drop)
        })
    }
}

impl LogStore {
    /// Append a record of a bus's own log to `group`, found by the bus's event id.
    pub fn append_bus(
        &self,
        group: &str,
        record: &ecomm_events::buslog::BusLogRecord,
    ) -> Result<(), StoreError> {
        self.db.with(|c| {
            exec(
                c,
                "INSERT INTO logs(log_group, ts_ms, line, event_id) VALUES (?1, ?2, ?3, ?4)",
                params![
                    group,
                    record.message_timestamp_ms,
                    record.to_json_line(),
                    record.event_id
                ],
            )
            .map(drop)
        })
    }
}

impl LogSink for LogStore {
    fn write(&self, record: &LogRecord) {
        // Logging never fails an invocation; a full disk shows up on the next write anyway.
        let _ = self.append(record);
    }
}
