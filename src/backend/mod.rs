//! The narrow ports the CLI needs — discover consumers, read and change their DLQs, redeliver
//! events — with two implementations: [`aws`] (the AWS SDK) and [`local`] (the embedded stack).
//! Every command works the same against either.

pub(crate) mod accounts;
pub(crate) mod aws;
pub(crate) mod estate;
pub(crate) mod local;
pub(crate) mod patient;
pub(crate) mod targets;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ecomm_events::MessageAttributes;
use serde::Serialize;

use self::targets::{TargetInput, TargetKind};

/// A failure the user can act on, worded to say what to fix.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum BackendError {
    /// No credentials, expired SSO session, unknown profile.
    #[error(
        "no usable AWS credentials: {0}\n  fix: `aws sso login --profile <p>`, or set AWS_PROFILE / AWS_ACCESS_KEY_ID, or pass --profile"
    )]
    Credentials(String),
    /// The on-call role could not be assumed in an account.
    #[error(
        "cannot assume {role}: {reason}\n  fix: the role must exist in that account and trust the caller (sts:AssumeRole)"
    )]
    RoleNotAssumed {
        /// The role's ARN.
        role: String,
        /// STS's answer.
        reason: String,
    },
    /// No region configured.
    #[error("no AWS region: pass --region, set AWS_REGION, or set a region in the profile")]
    NoRegion,
    /// The caller may not do this.
    #[error(
        "access denied: {0}\n  fix: the caller's IAM policy must allow this action on this resource"
    )]
    AccessDenied(String),
    /// The bus does not exist.
    #[error("event bus {0:?} not found in this account and region (pass --bus or set ECOMM_BUS)")]
    BusNotFound(String),
    /// The queue does not exist.
    #[error("queue {0} does not exist")]
    QueueNotFound(String),
    /// No consumer by that name.
    #[error("no consumer {name:?} on this bus (known: {known})")]
    UnknownConsumer {
        /// What was asked for.
        name: String,
        /// What exists.
        known: String,
    },
    /// Throttled even after the SDK's retries.
    #[error("throttled by AWS: {0}; retry later or lower --concurrency / --rate")]
    Throttled(String),
    /// The service failed on its side (a 5xx), or its answer was lost on the way (a dropped
    /// connection, a timeout): the same request may succeed later.
    #[error("{0}")]
    Unavailable(String),
    /// Throttling or server errors went on for `--give-up-after` with no request succeeding.
    #[error(
        "gave up after {}s without progress: {last}\n  fix: wait and run the same command again, or raise --give-up-after",
        .waited.as_secs()
    )]
    GaveUp {
        /// How long nothing succeeded.
        waited: std::time::Duration,
        /// The last error.
        last: String,
    },
    /// `PurgeQueue` ran less than 60 s ago.
    #[error("{0}")]
    PurgeInProgress(String),
    /// The local stack has no state file yet.
    #[error(
        "the local stack is empty: there is no state file at {}\n  fix: `ecomm demo` fills it with orders and failures, or pass --state PATH (ECOMM_STATE) to use another",
        .0.display()
    )]
    EmptyLocalStack(std::path::PathBuf),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl BackendError {
    /// Whether the same request may succeed if sent again later.
    pub(crate) fn is_transient(&self) -> bool {
        matches!(self, Self::Throttled(_) | Self::Unavailable(_))
    }

    /// Whether the service asked to slow down.
    pub(crate) fn is_throttling(&self) -> bool {
        matches!(self, Self::Throttled(_))
    }
}

/// A queue, by every name the APIs need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueueRef {
    /// The queue name.
    pub(crate) name: String,
    /// The queue ARN.
    pub(crate) arn: String,
    /// The queue URL (the name again on the local stack).
    pub(crate) url: String,
    /// The other half of this DLQ, when the function's on-failure destination is a bucket:
    /// Lambda's records there are read, held and deleted as messages of this queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) records: Option<RecordBucket>,
}

/// Where Lambda writes a function's on-failure records in S3: `s3://BUCKET/PREFIX`, the
/// prefix being `aws/lambda/async/FUNCTION/`. Each object holds one record, the same JSON as
/// the SQS on-failure record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RecordBucket {
    /// The bucket.
    pub(crate) bucket: String,
    /// The key prefix, ending in `/`.
    pub(crate) prefix: String,
}

impl RecordBucket {
    /// `s3://BUCKET/PREFIX`.
    pub(crate) fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

impl QueueRef {
    /// Whether it is a FIFO queue.
    #[allow(
        clippy::case_sensitive_file_extension_comparisons,
        reason = "SQS requires the exact suffix `.fifo` of FIFO queue names"
    )]
    pub(crate) fn is_fifo(&self) -> bool {
        self.name.ends_with(".fifo")
    }
}

/// One consumer of the bus: a rule's target, its function and its DLQ(s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Consumer {
    /// The target id, e.g. `inventory`: what `--target` names.
    pub(crate) target: String,
    /// The rule.
    pub(crate) rule: String,
    /// The rule's ARN.
    pub(crate) rule_arn: String,
    /// The target ARN (the function's, for Lambda targets).
    pub(crate) target_arn: String,
    /// What the target is: a function, a queue, a topic, ...
    pub(crate) kind: TargetKind,
    /// What EventBridge sends it: the event, or a transformation of it.
    pub(crate) input: TargetInput,
    /// The function name, for Lambda targets.
    pub(crate) function: Option<String>,
    /// The target's `DeadLetterConfig` queue (EventBridge delivery failures).
    pub(crate) delivery_dlq: Option<String>,
    /// The function's on-failure destination (function errors after async retries).
    pub(crate) function_dlq: Option<String>,
    /// Where function errors' records go when the on-failure destination is a bucket: the
    /// `s3://BUCKET/aws/lambda/async/FUNCTION/` prefix Lambda writes under.
    pub(crate) failure_bucket: Option<String>,
    /// The queue `ecomm` reads: the target DLQ, or else the on-failure destination.
    pub(crate) dlq: Option<QueueRef>,
    /// The function behind a queue target, and that queue's own DLQ.
    pub(crate) reader: Option<QueueReader>,
    /// Problems worth knowing about (no DLQ at all, two different queues, ...).
    pub(crate) findings: Vec<String>,
}

/// What reads a queue target: the function its event source mapping invokes, and the queue's
/// redrive-policy DLQ, where the records that function keeps failing go. That DLQ's messages
/// are the queue's own: SQS's native DLQ redrive moves them back, not `ecomm redrive`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueueReader {
    /// The function, when an event source mapping reads the queue.
    pub(crate) function: Option<String>,
    /// The queue's redrive-policy DLQ, when it has one.
    pub(crate) dlq: Option<QueueRef>,
}

impl Consumer {
    /// The DLQ, or an error naming what is missing.
    pub(crate) fn require_dlq(&self) -> Result<&QueueRef, BackendError> {
        self.dlq.as_ref().ok_or_else(|| {
            BackendError::Other(format!(
                "consumer {} has no DLQ: neither the target's DeadLetterConfig nor the function's on-failure destination is set; failed events are dropped",
                self.target
            ))
        })
    }
}

/// A DLQ's counters: its queue's, and its records' in a bucket (see [`QueueRef::records`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueueStats {
    /// `ApproximateNumberOfMessages`, and the records no reader holds.
    pub(crate) visible: u64,
    /// `ApproximateNumberOfMessagesNotVisible`, and the records this process holds.
    pub(crate) in_flight: u64,
    /// When the oldest message was sent, when known.
    pub(crate) oldest_sent: Option<DateTime<Utc>>,
    /// Of these, the records in the bucket.
    pub(crate) records: Option<RecordStats>,
}

/// What a bucket of on-failure records holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RecordStats {
    /// How many records (objects).
    pub(crate) objects: u64,
    /// When the oldest was written.
    pub(crate) oldest: Option<DateTime<Utc>>,
}

/// Which message attributes a receive asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attributes {
    /// Every one: what `dlq show` and `export` present.
    All,
    /// Only those that say each record's format, error code and rule
    /// ([`ecomm_events::dlq::IDENTIFYING_ATTRIBUTES`]): a redrive reads no others, and each
    /// answer is smaller to send and to read.
    Identifying,
}

impl Attributes {
    /// Whether an attribute of this name is asked for.
    pub(crate) fn includes(self, name: &str) -> bool {
        match self {
            Self::All => true,
            Self::Identifying => ecomm_events::dlq::IDENTIFYING_ATTRIBUTES.contains(&name),
        }
    }
}

/// A received message.
#[allow(clippy::struct_field_names, reason = "SQS's own name, `MessageId`")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    /// The message id.
    pub(crate) message_id: String,
    /// The receipt handle of this receive.
    pub(crate) receipt_handle: String,
    /// The body.
    pub(crate) body: String,
    /// The message attributes.
    pub(crate) attributes: MessageAttributes,
    /// `SentTimestamp`.
    pub(crate) sent: Option<DateTime<Utc>>,
    /// `ApproximateReceiveCount`.
    pub(crate) receive_count: u32,
}

/// One log line of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogLine {
    /// The log group.
    pub(crate) group: String,
    /// When CloudWatch (or the local stack) stored it.
    pub(crate) timestamp: DateTime<Utc>,
    /// The line as printed.
    pub(crate) message: String,
}

/// What a log search found, and what it could not read.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogSearch {
    /// The lines, oldest first.
    pub(crate) lines: Vec<LogLine>,
    /// Groups that could not be read, and why (the rest is still shown).
    pub(crate) problems: Vec<String>,
    /// Whether the search may have missed lines (an Insights query that did not finish).
    pub(crate) partial: bool,
}

/// How to search the logs.
#[derive(Debug, Clone)]
pub(crate) struct LogRequest<'a> {
    /// The log groups.
    pub(crate) groups: &'a [String],
    /// A plain term every wanted line contains (an id).
    pub(crate) term: &'a str,
    /// From.
    pub(crate) start: DateTime<Utc>,
    /// Until.
    pub(crate) end: DateTime<Utc>,
    /// One Logs Insights query instead of `FilterLogEvents` per group (AWS only).
    pub(crate) insights: bool,
}

/// Why one entry of a batch call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct EntryError {
    /// The service's code and message, e.g. `ThrottlingException: Rate exceeded`.
    pub(crate) message: String,
    /// Whether sending the same entry again may succeed: SQS's `SenderFault: false`, or an
    /// `InternalFailure` / `ThrottlingException` entry of `PutEvents`.
    pub(crate) retryable: bool,
    /// Whether the service asked to slow down.
    pub(crate) throttled: bool,
}

impl EntryError {
    /// An entry the answer said nothing of: sending it again is the way to find out.
    pub(crate) fn unanswered() -> Self {
        Self {
            message: "no result returned for this entry".to_owned(),
            retryable: true,
            throttled: false,
        }
    }

    /// A failure that sending again cannot fix.
    pub(crate) fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
            throttled: false,
        }
    }
}

/// One payload for [`Backend::send_to_target`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirectEntry {
    /// The event id: the deduplication id of a FIFO queue, the execution name of a state
    /// machine, so that a replay sent twice is taken once.
    pub(crate) event_id: String,
    /// What the target receives.
    pub(crate) payload: String,
}

/// The result of one entry of a batch call.
pub(crate) type EntryOutcome = Result<(), EntryError>;

/// What the CLI needs from an environment.
#[async_trait(?Send)]
pub(crate) trait Backend {
    /// One line naming where answers come from (state file, or account/region/bus).
    fn banner(&self) -> String;

    /// Every consumer of the bus, with its DLQ wiring.
    async fn consumers(&self) -> Result<Vec<Consumer>, BackendError>;

    /// A queue's counters (`oldest_sent` only where it comes free, as on the local stack).
    async fn queue_stats(&self, queue: &QueueRef) -> Result<QueueStats, BackendError>;

    /// When the oldest message was sent, when it can be known without reading the queue
    /// (CloudWatch's `ApproximateAgeOfOldestMessage` on AWS). Only `dlq ls` asks.
    async fn oldest_sent(&self, _queue: &QueueRef) -> Option<DateTime<Utc>> {
        None
    }

    /// Receive up to 10 messages, hidden for `visibility_s`, with the message attributes
    /// `attributes` names; waits up to `wait_s` for one.
    async fn receive(
        &self,
        queue: &QueueRef,
        max: u8,
        visibility_s: u32,
        wait_s: u8,
        attributes: Attributes,
    ) -> Result<Vec<Message>, BackendError>;

    /// Delete up to 10 messages by receipt handle; one outcome per entry, in order.
    async fn delete(
        &self,
        queue: &QueueRef,
        receipts: &[String],
    ) -> Result<Vec<EntryOutcome>, BackendError>;

    /// Change the visibility of up to 10 messages; one outcome per entry, in order.
    async fn change_visibility(
        &self,
        queue: &QueueRef,
        receipts: &[String],
        seconds: u32,
    ) -> Result<Vec<EntryOutcome>, BackendError>;

    /// Delete every message (`PurgeQueue`).
    async fn purge(&self, queue: &QueueRef) -> Result<(), BackendError>;

    /// Invoke `function` asynchronously (`InvocationType=Event`) with `payload`; `Ok` once
    /// accepted.
    async fn invoke_async(&self, function: &str, payload: &str) -> Result<(), BackendError>;

    /// Deliver up to 10 payloads straight to a target that is not a function (a queue, a
    /// topic, a state machine, another bus); one outcome per entry, in order.
    async fn send_to_target(
        &self,
        target: &TargetKind,
        entries: &[DirectEntry],
    ) -> Result<Vec<EntryOutcome>, BackendError>;

    /// Put up to 10 events (envelope JSON) on the bus; one outcome per entry, in order.
    async fn put_events(
        &self,
        envelopes: &[&serde_json::Value],
    ) -> Result<Vec<EntryOutcome>, BackendError>;

    /// The log groups of the system's functions: every consumer's and the producer's.
    fn log_groups(&self, consumers: &[Consumer]) -> Vec<String> {
        default_log_groups(consumers)
    }

    /// A CloudWatch Logs Live Tail session over `groups` (at most 10) for lines containing
    /// `term`: the lines as they are written. `Err` where Live Tail is not served (the local
    /// stack, an endpoint without it, a caller without `logs:StartLiveTail`): follow by polling.
    async fn live_tail(
        &self,
        _groups: &[String],
        _term: &str,
    ) -> Result<Box<dyn LiveTail + '_>, BackendError> {
        Err(BackendError::Other(
            "this backend has no Live Tail".to_owned(),
        ))
    }

    /// The log groups of the bus's own log (its `LogConfig` records); none where the backend
    /// has no such log.
    fn bus_log_groups(&self) -> Vec<String> {
        Vec::new()
    }

    /// The lines of `request.groups` containing `request.term` in the window.
    async fn search_logs(&self, request: &LogRequest<'_>) -> Result<LogSearch, BackendError>;

    /// Run what the local stack has scheduled (redelivered events); a no-op on AWS.
    async fn settle(&self) -> Result<(), BackendError> {
        Ok(())
    }

    /// How many receives failed in a way that may have taken effect (a 5xx, a lost answer): the
    /// messages they handed out stay hidden, held by nobody, for the visibility timeout.
    fn lost_receives(&self) -> usize {
        0
    }

    /// What the calls meet right now when they are backing off (throttling, server errors),
    /// for a progress bar to say; `None` in fair weather.
    fn weather(&self) -> Option<String> {
        None
    }
}

/// A Live Tail session: batches of new lines as CloudWatch Logs streams them.
#[async_trait(?Send)]
pub(crate) trait LiveTail {
    /// The next batch, `None` when the session ends.
    async fn next(&mut self) -> Option<Result<Vec<LogLine>, BackendError>>;
}

/// The log groups of the system's functions, as their names say: every consumer's, and the
/// producer's beside them.
pub(crate) fn default_log_groups(consumers: &[Consumer]) -> Vec<String> {
    let mut groups: Vec<String> = consumers
        .iter()
        .flat_map(|c| {
            let reader = c.reader.as_ref().and_then(|r| r.function.as_ref());
            c.function.iter().chain(reader)
        })
        .map(|f| format!("/aws/lambda/{f}"))
        .collect();
    // The producer is no rule's target: its name follows the consumers' (`<prefix>-<target>`).
    if let Some(prefix) = consumers.iter().find_map(|c| {
        c.function
            .as_deref()?
            .strip_suffix(&format!("-{}", c.target))
    }) {
        groups.push(format!(
            "/aws/lambda/{prefix}-{}",
            ecomm_events::services::ORDER_PRODUCER
        ));
    }
    groups.sort();
    groups.dedup();
    groups
}

/// Find a consumer by target id.
pub(crate) fn find<'a>(
    consumers: &'a [Consumer],
    target: &str,
) -> Result<&'a Consumer, BackendError> {
    consumers
        .iter()
        .find(|c| c.target == target)
        .ok_or_else(|| BackendError::UnknownConsumer {
            name: target.to_owned(),
            known: consumers
                .iter()
                .map(|c| c.target.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}
