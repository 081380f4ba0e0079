//! The answers of `dlq ls | show | export | purge`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use ecomm_events::{DlqKind, MessageAttributes};
use serde::Serialize;

use super::Outcome;

/// `dlq ls`: every consumer's DLQ.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub(crate) struct DlqList {
    /// One row per consumer, by target id.
    pub(crate) rows: Vec<DlqRow>,
}

impl DlqList {
    /// Partial when an account could not be read: its consumers are not in the list.
    pub(crate) fn outcome(&self) -> Outcome {
        if self.rows.iter().any(|r| r.unreachable.is_some()) {
            Outcome::Partial
        } else {
            Outcome::Success
        }
    }
}

/// One row of `dlq ls`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DlqRow {
    /// The consumer (target id; `NAME@ACCOUNT` across accounts, `*@ACCOUNT` for an account
    /// that could not be read).
    pub(crate) target: String,
    /// The account, across accounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) account: Option<String>,
    /// The account's name in the config file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) account_name: Option<String>,
    /// Why the account could not be read at all (its role, its bus): the row stands for
    /// every consumer of that account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) unreachable: Option<String>,
    /// Its function.
    pub(crate) function: Option<String>,
    /// Its DLQ's name.
    pub(crate) dlq: Option<String>,
    /// Messages ready to read.
    pub(crate) visible: Option<u64>,
    /// Messages being read by someone (a redrive, a scan).
    pub(crate) in_flight: Option<u64>,
    /// When the oldest message was sent, when known.
    pub(crate) oldest_sent: Option<DateTime<Utc>>,
    /// Whether EventBridge delivery failures reach the DLQ (target DeadLetterConfig).
    pub(crate) delivery_failures_wired: bool,
    /// Whether function errors reach the DLQ (on-failure destination to the same queue);
    /// `None` for a target that is not a function (a queue, a topic, ...).
    pub(crate) function_errors_wired: Option<bool>,
    /// The function behind a queue target and its queue's own DLQ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reader: Option<ReaderRow>,
    /// Where function errors' records go when that is a bucket (`s3://BUCKET/PREFIX`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) failure_bucket: Option<String>,
    /// How many records the bucket holds, when read (counted in `visible` and `inFlight` too:
    /// ecomm reads them with the DLQ).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) failure_objects: Option<u64>,
    /// When the oldest of them was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) oldest_object: Option<DateTime<Utc>>,
    /// Problems with the wiring.
    pub(crate) findings: Vec<String>,
}

/// The function behind a queue target, and the counters of that queue's redrive DLQ.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReaderRow {
    /// The function the queue's event source mapping invokes.
    pub(crate) function: Option<String>,
    /// The queue's redrive-policy DLQ.
    pub(crate) dlq: Option<String>,
    /// Messages ready to read in it.
    pub(crate) visible: Option<u64>,
    /// Messages being read in it.
    pub(crate) in_flight: Option<u64>,
}

/// One message as `dlq show` presents it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageView {
    /// The SQS message id; for a record in S3, its key.
    pub(crate) message_id: String,
    /// When it entered the DLQ.
    pub(crate) sent_at: Option<DateTime<Utc>>,
    /// `ApproximateReceiveCount` (this read included).
    pub(crate) receive_count: u32,
    /// Which of the three DLQ formats it is in, or `unknown`.
    pub(crate) kind: DlqKind,
    /// The error code.
    pub(crate) error_code: Option<String>,
    /// The error message (or why the format is unknown).
    pub(crate) error_message: Option<String>,
    /// Attempts made before giving up.
    pub(crate) attempts: Option<u32>,
    /// Why retrying stopped.
    pub(crate) exhausted_condition: Option<String>,
    /// The target or function that failed.
    pub(crate) failed_arn: Option<String>,
    /// The original event's detail-type.
    pub(crate) detail_type: Option<String>,
    /// Its `detail.eventVersion`.
    pub(crate) event_version: Option<String>,
    /// Its idempotency key.
    pub(crate) event_id: Option<String>,
    /// The order.
    pub(crate) order_id: Option<String>,
    /// The order journey.
    pub(crate) correlation_id: Option<String>,
    /// The body as stored (with `--raw`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<String>,
    /// The message attributes (with `--raw`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) attributes: Option<MessageAttributes>,
    /// What the bus logged of the failed delivery, when the bus logs (target-DLQ messages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) delivery: Option<crate::report::buslog::Delivery>,
    /// With `--raw`: the bus's log records of the event, as logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bus_log: Option<Vec<String>>,
}

/// A message as exported and archived: exactly what SQS holds.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExportedMessage {
    /// The SQS message id.
    pub(crate) message_id: String,
    /// `SentTimestamp`.
    pub(crate) sent_at: Option<DateTime<Utc>>,
    /// `ApproximateReceiveCount`.
    pub(crate) receive_count: u32,
    /// The body, verbatim.
    pub(crate) body: String,
    /// The message attributes, verbatim.
    pub(crate) attributes: MessageAttributes,
}

/// How much of a queue a scan saw, and what it left behind.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Coverage {
    /// How many distinct messages were read.
    pub(crate) seen: usize,
    /// Whether the whole queue was read.
    pub(crate) complete: bool,
    /// Why it was not, when the queue was too large for one pass.
    pub(crate) incomplete: Option<String>,
    /// Ctrl-C stopped the command; every message read is visible again.
    pub(crate) interrupted: bool,
    /// Messages that could not be made visible again (they reappear when their visibility
    /// timeout ends).
    #[serde(skip)]
    pub(crate) unreleased: usize,
}

/// `dlq show`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ShowReport {
    /// The queue.
    pub(crate) queue: String,
    /// The bucket of the function errors' records read with it (`s3://BUCKET/PREFIX`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bucket: Option<String>,
    /// The matching messages, oldest first.
    pub(crate) messages: Vec<MessageView>,
    /// How much of the queue was read.
    #[serde(flatten)]
    pub(crate) coverage: Coverage,
    /// What the reader should know of the bus's log: off, read in part.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) notes: Vec<String>,
    /// Whether the messages carry their bodies and attributes (`--raw`).
    #[serde(skip)]
    pub(crate) raw: bool,
    /// Whether customer data is shown unmasked (`--show-pii`).
    #[serde(skip)]
    pub(crate) show_pii: bool,
}

impl ShowReport {
    /// Partial when the scan did not see the whole queue.
    pub(crate) fn outcome(&self) -> Outcome {
        Outcome::partial_if(!self.coverage.complete)
    }
}

/// `dlq export`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExportReport {
    /// How many messages were exported.
    pub(crate) exported: usize,
    /// The file written, or none for stdout.
    pub(crate) file: Option<PathBuf>,
    /// How much of the queue was read.
    #[serde(flatten)]
    pub(crate) coverage: Coverage,
    /// The messages, printed as NDJSON when there is no file.
    #[serde(skip)]
    pub(crate) messages: Vec<ExportedMessage>,
}

impl ExportReport {
    /// Partial when the scan did not see the whole queue.
    pub(crate) fn outcome(&self) -> Outcome {
        Outcome::partial_if(!self.coverage.complete)
    }
}

/// What a purge did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PurgeReport {
    /// The queue.
    pub(crate) queue: String,
    /// The bucket of the function errors' records purged with it (`s3://BUCKET/PREFIX`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bucket: Option<String>,
    /// Messages deleted (for a full purge: the approximate count before it).
    pub(crate) deleted: u64,
    /// Messages that matched but could not be deleted (they stay in the queue).
    pub(crate) failed: u64,
    /// The archive written first, if any.
    pub(crate) archive: Option<String>,
    /// Whether the whole queue was purged with PurgeQueue.
    pub(crate) full_purge: bool,
    /// Why the scan could not see the whole queue, if so.
    pub(crate) incomplete: Option<String>,
    /// Ctrl-C stopped the purge; every message not deleted is visible again.
    pub(crate) interrupted: bool,
}

impl PurgeReport {
    /// Partial when anything matching may be left.
    pub(crate) fn outcome(&self) -> Outcome {
        Outcome::partial_if(self.failed > 0 || self.incomplete.is_some() || self.interrupted)
    }
}
