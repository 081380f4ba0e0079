//! Queues with SQS semantics over the state file: send with attributes, receive up to 10 with a
//! visibility timeout and receipt handles, per-entry batch delete and visibility changes,
//! purge (once per 60 s), and the counters `dlq ls` reads.

use ecomm_events::MessageAttributes;
use rusqlite::{OptionalExtension as _, params};

use crate::store::{Db, StoreError, exec};

/// `ReceiveMessage` and the batch calls take at most this many entries.
pub const MAX_BATCH: usize = 10;
/// Longest visibility timeout SQS allows (12 h).
pub const MAX_VISIBILITY_SECONDS: u32 = 43_200;
/// `PurgeQueue` may run once per this many seconds per queue.
pub const PURGE_INTERVAL_MS: i64 = 60_000;

/// The account id of every local ARN.
pub const ACCOUNT: &str = "000000000000";
/// The region of every local ARN.
pub const REGION: &str = "local";

/// A failed queue call.
#[derive(Debug, thiserror::Error)]
pub enum SqsError {
    /// No such queue.
    #[error("queue {0} does not exist")]
    QueueDoesNotExist(String),
    /// A purge ran less than 60 s ago.
    #[error("queue {queue} was purged less than 60 s ago; retry in {retry_after_s} s")]
    PurgeInProgress {
        /// The queue.
        queue: String,
        /// Seconds until a purge is allowed.
        retry_after_s: i64,
    },
    /// More than 10 entries, or a visibility timeout out of range.
    #[error("{0}")]
    InvalidParameter(String),
    /// The state file failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The SQS message id.
    pub message_id: String,
    /// Valid until the visibility timeout ends or the message is received again.
    pub receipt_handle: String,
    /// The body.
    pub body: String,
    /// The message attributes.
    pub attributes: MessageAttributes,
    /// `SentTimestamp`, epoch ms.
    pub sent_ms: i64,
    /// `ApproximateReceiveCount`, this receive included.
    pub receive_count: u32,
    /// `ApproximateFirstReceiveTimestamp`, epoch ms.
    pub first_receive_ms: i64,
}

/// What `GetQueueAttributes` and CloudWatch would say about a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStats {
    /// The queue name.
    pub name: String,
    /// `ApproximateNumberOfMessages`.
    pub visible: u64,
    /// `ApproximateNumberOfMessagesNotVisible`.
    pub in_flight: u64,
    /// `SentTimestamp` of the oldest message, epoch ms.
    pub oldest_sent_ms: Option<i64>,
}

/// The outcome of one entry of a batch call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryResult {
    /// The caller's entry id.
    pub id: String,
    /// `None` on success, else the SQS error code.
    pub error: Option<String>,
}

/// The ARN of a local queue.
pub fn queue_arn(name: &str) -> String {
    queue_arn_in(ACCOUNT, name)
}

/// The ARN of a local queue in `account` (a tenant's, say).
pub fn queue_arn_in(account: &str, name: &str) -> String {
    format!("arn:aws:sqs:{REGION}:{account}:{name}")
}

/// The queues of the state file.
#[derive(Debug, Clone)]
pub struct Queues {
    db: Db,
}

impl Queues {
    /// Queues in `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Create a queue (no-op if it exists).
    pub fn create(&self, name: &str, now_ms: i64) -> Result<(), SqsError> {
        self.db.with(|c| {
            exec(
                c,
                "INSERT OR IGNORE INTO queues(name, created_ms) VALUES (?1, ?2)",
                params![name, now_ms],
            )
        })?;
        Ok(())
    }

    /// Every queue name, sorted.
    pub fn list(&self) -> Result<Vec<String>, SqsError> {
        Ok(self.db.with(|c| {
            let mut stmt = c.prepare("SELECT name FROM queues ORDER BY name")?;
            let names = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(names)
        })?)
    }

    fn require(&self, name: &str) -> Result<(), SqsError> {
        let exists = self.db.with(|c| {
            c.query_row("SELECT 1 FROM queues WHERE name = ?1", [name], |_| Ok(()))
                .optional()
        })?;
        exists.ok_or_else(|| SqsError::QueueDoesNotExist(name.to_owned()))
    }

    /// Send one message, sent at `sent_ms` and visible from `visible_ms`.
    pub fn send(
        &self,
        queue: &str,
        message_id: &str,
        body: &str,
        attributes: &MessageAttributes,
        sent_ms: i64,
        visible_ms: i64,
    ) -> Result<(), SqsError> {
        self.require(queue)?;
        let attributes = serde_json::to_string(attributes).expect("attributes always serialize");
        self.db.with(|c| {
            exec(
                c,
                "INSERT INTO messages(queue, message_id, body, attributes, sent_ms, visible_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![queue, message_id, body, attributes, sent_ms, visible_ms],
            )
        })?;
        Ok(())
    }

    /// Receive up to `max` visible messages, oldest first, hiding them for `visibility_s`.
    pub fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility_s: u32,
        now_ms: i64,
        receipt: &mut dyn FnMut() -> String,
    ) -> Result<Vec<ReceivedMessage>, SqsError> {
        if !(1..=MAX_BATCH).contains(&max) {
            return Err(SqsError::InvalidParameter(format!(
                "MaxNumberOfMessages must be 1–10, not {max}"
            )));
        }
        if visibility_s > MAX_VISIBILITY_SECONDS {
            return Err(SqsError::InvalidParameter(format!(
                "VisibilityTimeout must be at most {MAX_VISIBILITY_SECONDS} s"
            )));
        }
        self.require(queue)?;
        let visible_until = now_ms + i64::from(visibility_s) * 1000;
        let received = self.db.atomically(|c| {
            let mut select = c.prepare(
                "SELECT seq FROM messages WHERE queue = ?1 AND visible_ms <= ?2 ORDER BY sent_ms, seq LIMIT ?3",
            )?;
            let seqs = select
                .query_map(params![queue, now_ms, i64::try_from(max).unwrap_or(10)], |r| r.get::<_, i64>(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            let mut out = Vec::with_capacity(seqs.len());
            let mut update = c.prepare(
                "UPDATE messages SET visible_ms = ?2, receipt = ?3, receive_count = receive_count + 1,
                     first_receive_ms = COALESCE(first_receive_ms, ?4)
                 WHERE seq = ?1
                 RETURNING message_id, body, attributes, sent_ms, receive_count, first_receive_ms",
            )?;
            for seq in seqs {
                let handle = receipt();
                let message = update.query_row(params![seq, visible_until, handle, now_ms], |r| {
                    let attributes: String = r.get(2)?;
                    Ok(ReceivedMessage {
                        message_id: r.get(0)?,
                        receipt_handle: handle.clone(),
                        body: r.get(1)?,
                        attributes: serde_json::from_str(&attributes).unwrap_or_default(),
                        sent_ms: r.get(3)?,
                        receive_count: r.get(4)?,
                        first_receive_ms: r.get(5)?,
                    })
                })?;
                out.push(message);
            }
            Ok(out)
        })?;
        Ok(received)
    }

    /// Delete by receipt handle, entry by entry: `(entry id, receipt handle)`.
    pub fn delete_batch(
        &self,
        queue: &str,
        entries: &[(String, String)],
    ) -> Result<Vec<EntryResult>, SqsError> {
        check_batch(entries.len())?;
        self.require(queue)?;
        Ok(self.db.atomically(|c| {
            let mut delete = c.prepare("DELETE FROM messages WHERE queue = ?1 AND receipt = ?2")?;
            entries
                .iter()
                .map(|(id, handle)| {
                    let deleted = delete.execute(params![queue, handle])?;
                    Ok(EntryResult {
                        id: id.clone(),
                        error: (deleted == 0).then(|| "ReceiptHandleIsInvalid".to_owned()),
                    })
                })
                .collect()
        })?)
    }

    /// Change visibility by receipt handle, entry by entry: `(entry id, receipt handle, seconds)`.
    pub fn change_visibility_batch(
        &self,
        queue: &str,
        entries: &[(String, String, u32)],
        now_ms: i64,
    ) -> Result<Vec<EntryResult>, SqsError> {
        check_batch(entries.len())?;
        self.require(queue)?;
        Ok(self.db.atomically(|c| {
            let mut update =
                c.prepare("UPDATE messages SET visible_ms = ?3 WHERE queue = ?1 AND receipt = ?2")?;
            entries
                .iter()
                .map(|(id, handle, seconds)| {
                    if *seconds > MAX_VISIBILITY_SECONDS {
                        return Ok(EntryResult {
                            id: id.clone(),
                            error: Some("InvalidParameterValue".to_owned()),
                        });
                    }
                    let changed = update.execute(params![
                        queue,
                        handle,
                        now_ms + i64::from(*seconds) * 1000
                    ])?;
                    Ok(EntryResult {
                        id: id.clone(),
                        error: (changed == 0).then(|| "ReceiptHandleIsInvalid".to_owned()),
                    })
                })
                .collect()
        })?)
    }

    /// Delete every message; refused within 60 s of the previous purge, as on SQS.
    pub fn purge(&self, queue: &str, now_ms: i64) -> Result<u64, SqsError> {
        self.require(queue)?;
        let key = format!("purged:{queue}");
        if let Some(last) = self.db.meta(&key)?.and_then(|v| v.parse::<i64>().ok()) {
            let wait = last + PURGE_INTERVAL_MS - now_ms;
            if wait > 0 {
                return Err(SqsError::PurgeInProgress {
                    queue: queue.to_owned(),
                    retry_after_s: (wait + 999) / 1000,
                });
            }
        }
        let deleted = self.db.atomically(|c| {
            let n = exec(c, "DELETE FROM messages WHERE queue = ?1", [queue])?;
            exec(
                c,
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
                params![key, now_ms.to_string()],
            )?;
            Ok(n)
        })?;
        Ok(deleted as u64)
    }

    /// The queue's counters at `now_ms`.
    pub fn stats(&self, queue: &str, now_ms: i64) -> Result<QueueStats, SqsError> {
        self.require(queue)?;
        Ok(self.db.with(|c| {
            c.query_row(
                "SELECT COALESCE(SUM(visible_ms <= ?2), 0), COALESCE(SUM(visible_ms > ?2), 0), MIN(sent_ms)
                 FROM messages WHERE queue = ?1",
                params![queue, now_ms],
                |r| Ok(QueueStats { name: queue.to_owned(), visible: r.get(0)?, in_flight: r.get(1)?, oldest_sent_ms: r.get(2)? }),
            )
        })?)
    }
}

fn check_batch(len: usize) -> Result<(), SqsError> {
    if (1..=MAX_BATCH).contains(&len) {
        Ok(())
    } else {
        Err(SqsError::InvalidParameter(format!(
            "a batch takes 1–10 entries, not {len}"
        )))
    }
}
