//! The answer of `trace`: an order's event chain as a tree of events, the consumer
//! invocations each caused, and the events those emitted.

use chrono::{DateTime, Utc};
use ecomm_events::Outcome as Logged;
use serde::Serialize;

use super::Outcome;
use super::buslog::Delivery;

/// How one attempt of an invocation ended, as far as the logs tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AttemptOutcome {
    /// Started; no outcome logged yet.
    Running,
    /// No outcome was ever logged, yet a later attempt ran or the event is in the DLQ: the
    /// function timed out or crashed.
    Unfinished,
    /// The outcome the function logged; one this build does not know is kept verbatim.
    #[serde(untagged)]
    Logged(Logged),
}

impl AttemptOutcome {
    /// Failed, or never logged an outcome although Lambda moved on.
    pub(crate) fn did_not_finish(&self) -> bool {
        matches!(self, Self::Unfinished | Self::Logged(Logged::Failed))
    }
}

/// Where a consumer's handling of one event stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum InvocationOutcome {
    /// The event sits in the consumer's DLQ.
    Stuck,
    /// Nothing tells: no attempt was logged.
    Unknown,
    /// The bus's log shows EventBridge failing to deliver it, and the function never ran.
    Undelivered,
    /// The last attempt's outcome (a duplicate only when nothing else was logged).
    #[serde(untagged)]
    Attempt(AttemptOutcome),
}

impl InvocationOutcome {
    /// Whether the consumer did not get the event handled.
    pub(crate) fn is_failure(&self) -> bool {
        matches!(
            self,
            Self::Stuck | Self::Undelivered | Self::Attempt(AttemptOutcome::Logged(Logged::Failed))
        )
    }

    /// Whether the consumer handled the event.
    pub(crate) fn is_success(&self) -> bool {
        *self == Self::Attempt(AttemptOutcome::Logged(Logged::Succeeded))
    }
}

impl std::fmt::Display for InvocationOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Stuck => "stuck",
            Self::Unknown => "unknown",
            Self::Undelivered => "undelivered",
            Self::Attempt(AttemptOutcome::Running) => "running",
            Self::Attempt(AttemptOutcome::Unfinished) => "unfinished",
            Self::Attempt(AttemptOutcome::Logged(logged)) => logged.as_str(),
        })
    }
}

/// One attempt of an invocation.
#[allow(
    clippy::struct_field_names,
    reason = "`attempt` is the JSON answer's field name"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Attempt {
    /// Lambda's attempt number, when known.
    pub(crate) attempt: Option<u32>,
    /// When it started.
    pub(crate) at: DateTime<Utc>,
    /// How it ended.
    pub(crate) outcome: AttemptOutcome,
    /// How long it took.
    pub(crate) duration_ms: Option<u64>,
    /// The error, when it failed.
    pub(crate) error: Option<String>,
}

/// A message of the chain that sits in a DLQ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Stuck {
    /// The consumer whose DLQ holds it.
    pub(crate) consumer: String,
    /// The queue.
    pub(crate) queue: String,
    /// The SQS message id.
    pub(crate) message_id: String,
    /// When it entered the DLQ.
    pub(crate) sent_at: Option<DateTime<Utc>>,
    /// The error code.
    pub(crate) error_code: Option<String>,
    /// The error message.
    pub(crate) error_message: Option<String>,
    /// Attempts made before it was dead-lettered.
    pub(crate) attempts: Option<u32>,
    /// The command that replays it.
    pub(crate) redrive: String,
}

/// A consumer's handling of one event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Invocation {
    /// The consumer.
    pub(crate) consumer: String,
    /// Where it stands.
    pub(crate) outcome: InvocationOutcome,
    /// Every attempt logged.
    pub(crate) attempts: Vec<Attempt>,
    /// The events this invocation emitted.
    pub(crate) emitted: Vec<EventNode>,
    /// The DLQ message, when stuck.
    pub(crate) stuck: Option<Stuck>,
    /// What the bus logged of its delivery to this consumer, when the bus logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) delivery: Option<Delivery>,
}

/// One event of the chain.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventNode {
    /// The idempotency key.
    pub(crate) event_id: String,
    /// The detail-type.
    pub(crate) detail_type: String,
    /// Who published it, when the log says.
    pub(crate) published_by: Option<String>,
    /// When it was published (or first seen).
    pub(crate) at: Option<DateTime<Utc>>,
    /// The consumers that handled (or failed) it.
    pub(crate) invocations: Vec<Invocation>,
    /// Consumers whose rule matches this event but that never saw it.
    pub(crate) missing: Vec<String>,
    /// The bus's ids of this event (one per time it was put on a bus), when known.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) bus_event_ids: Vec<String>,
    /// The rules that matched it, per the bus's log.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) matched_rules: Vec<String>,
}

/// The answer of `trace`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TraceReport {
    /// What was asked.
    pub(crate) query: String,
    /// The correlation ids it resolved to.
    pub(crate) correlation_ids: Vec<String>,
    /// The order(s).
    pub(crate) order_ids: Vec<String>,
    /// The chains, roots first.
    pub(crate) events: Vec<EventNode>,
    /// Log groups or DLQs that could not be read (the rest is shown).
    pub(crate) problems: Vec<String>,
    /// How the sources were read, where the reader should know: a DLQ read up to the count it
    /// reported at the start, rather than until a long poll proved it drained.
    pub(crate) notes: Vec<String>,
    /// Whether some source may be incomplete.
    pub(crate) partial: bool,
}

impl TraceReport {
    /// Partial when a source could not be read, or may be incomplete.
    pub(crate) fn outcome(&self) -> Outcome {
        Outcome::partial_if(self.partial || !self.problems.is_empty())
    }
}
