//! The answer of `redrive`.

use serde::Serialize;

use super::Outcome;
use super::dlq::MessageView;
use crate::cli::Via;
use crate::delivery::Change;

/// Why a selected message is still in the DLQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum NotRedrivenReason {
    /// Not replayable (unknown format, v1 via bus, refused payload, failing again after
    /// `--max-redrives`, mended into no event): never delivered.
    Skipped,
    /// The delivery failed.
    Failed,
    /// Delivered, but its delete failed: the next run delivers it again and the consumer's
    /// idempotency absorbs it.
    DeliveredNotDeleted,
}

/// A message that was selected but not redriven.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NotRedriven {
    /// The SQS message id.
    pub(crate) message_id: String,
    /// The order, when known.
    pub(crate) order_id: Option<String>,
    /// Which kind of setback.
    pub(crate) outcome: NotRedrivenReason,
    /// What happened, for people.
    pub(crate) reason: String,
}

/// What `--transform` changes in one message's event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TransformPreview {
    /// The SQS message id.
    pub(crate) message_id: String,
    /// The differences, leaf by leaf.
    pub(crate) changes: Vec<Change>,
}

/// What a redrive did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RedriveReport {
    /// The consumer.
    pub(crate) target: String,
    /// Its DLQ.
    pub(crate) queue: String,
    /// How the events were delivered.
    pub(crate) via: Via,
    /// Nothing was changed.
    pub(crate) dry_run: bool,
    /// `--keep`: deliveries are copies, left in the DLQ.
    pub(crate) keep: bool,
    /// `--transform`, as given.
    pub(crate) transform: Option<String>,
    /// Delivered and deleted from the DLQ.
    pub(crate) redriven: u64,
    /// Delivered and left in the DLQ (`--keep`).
    pub(crate) copied: u64,
    /// Delivered but still in the DLQ (its delete failed): it will be delivered again by the
    /// next run, and the consumer's idempotency absorbs it.
    pub(crate) delivered_not_deleted: u64,
    /// Delivery failed: still in the DLQ.
    pub(crate) failed: u64,
    /// Selected but not replayable (unknown format, v1 via bus): still in the DLQ.
    pub(crate) skipped: u64,
    /// Messages read that the filters did not select, or that arrived during the run.
    pub(crate) not_selected: u64,
    /// Messages left in the DLQ afterwards (approximate).
    pub(crate) left_in_queue: Option<u64>,
    /// The failures and skips, one by one.
    pub(crate) not_redriven: Vec<NotRedriven>,
    /// With `--dry-run`: what would be redriven.
    pub(crate) would_redrive: Vec<MessageView>,
    /// With `--dry-run --transform`: what the expression changes in the first messages.
    pub(crate) transform_preview: Vec<TransformPreview>,
    /// The audit journal.
    pub(crate) journal: String,
    /// Ctrl-C stopped the run.
    pub(crate) interrupted: bool,
    /// Why the run could not see the whole queue, if so.
    pub(crate) incomplete: Option<String>,
    /// The failure that stopped the run, after what the report shows was done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

impl RedriveReport {
    /// An empty report of a run about to start.
    pub(crate) fn new(args: &crate::cli::RedriveArgs, queue: &str, journal: String) -> Self {
        Self {
            target: args.target.clone(),
            queue: queue.to_owned(),
            via: args.via,
            dry_run: args.dry_run,
            keep: args.keep,
            transform: args.transform.clone(),
            redriven: 0,
            copied: 0,
            delivered_not_deleted: 0,
            failed: 0,
            skipped: 0,
            not_selected: 0,
            left_in_queue: None,
            not_redriven: Vec::new(),
            would_redrive: Vec::new(),
            transform_preview: Vec::new(),
            journal,
            interrupted: false,
            incomplete: None,
            error: None,
        }
    }

    /// Failed when an error stopped it, partial when anything selected is left.
    pub(crate) fn outcome(&self) -> Outcome {
        if self.error.is_some() {
            return Outcome::Failed;
        }
        Outcome::partial_if(
            self.interrupted
                || self.failed + self.skipped + self.delivered_not_deleted > 0
                || self.incomplete.is_some(),
        )
    }
}
