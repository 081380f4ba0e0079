//! The audit consumer: the function behind the audit FIFO queue.
//!
//! EventBridge sends the queue a compact record of every order event, through the rule
//! target's input transformer (`terraform/consumers/audit.json`): ids, type and time, no
//! customer data. Lambda's SQS event source hands this function batches of those records, in
//! order within their message group, and it appends each to the audit trail once per event id.
//!
//! A FIFO queue keeps its order only if a batch stops at its first failure: that record and
//! every one after it are reported as failed (`batchItemFailures`), so they come back, in
//! order, after the visibility timeout. A record that keeps failing is moved by SQS to the
//! queue's own DLQ once its receive count passes the redrive policy's `maxReceiveCount`. A body
//! that is no audit record is logged and acknowledged instead: failing it would hold the whole
//! message group behind it.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use ecomm_ports::{AuditEntry, AuditTrail, PortError};
use serde::Deserialize;
use thiserror::Error;

/// The consumer's name: its declaration, function and queues are named after it.
pub const NAME: &str = "audit";

/// The record the rule's input transformer writes to the queue.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AuditRecord {
    event_id: Option<String>,
    /// EventBridge's own event id: the key of an event without `metadata.eventId` (v1).
    envelope_id: Option<String>,
    correlation_id: Option<String>,
    #[serde(rename = "type")]
    detail_type: Option<String>,
    order_id: Option<String>,
    created_order: Option<String>,
    at: Option<DateTime<Utc>>,
}

/// Why a record was not appended.
#[derive(Debug, Error)]
pub enum AuditError {
    /// Not a record of the transformer's shape: it fails every retry.
    #[error("not an audit record: {0}")]
    Malformed(String),
    /// The trail failed.
    #[error(transparent)]
    Trail(#[from] PortError),
}

impl AuditError {
    /// The error code logged with it.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "MalformedAuditRecord",
            Self::Trail(PortError::Unavailable { .. }) => "DependencyUnavailable",
            Self::Trail(PortError::Refused { .. }) => "DependencyRefused",
        }
    }
}

/// One message of a batch, as the event source hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// The SQS message id: what a batch item failure names.
    pub message_id: String,
    /// The body: the transformed record.
    pub body: String,
}

/// What became of one message of a batch.
#[derive(Debug)]
pub enum RecordResult {
    /// Appended to the trail.
    Appended(AuditEntry),
    /// Its event id was already in the trail (a redrive, or SQS delivering twice).
    AlreadyThere(AuditEntry),
    /// It failed: it and every later message of the batch go back to the queue.
    Failed(AuditError),
    /// Not an audit record: logged and acknowledged, since no retry can mend it.
    Rejected(AuditError),
    /// Not tried, because an earlier message of the batch failed.
    NotTried,
}

/// A batch, handled: each message with its result, in the batch's order.
#[derive(Debug)]
pub struct BatchOutcome {
    /// `(message id, result)`.
    pub results: Vec<(String, RecordResult)>,
}

impl BatchOutcome {
    /// The messages to report as `batchItemFailures`: the first failure and all after it.
    pub fn failed_message_ids(&self) -> Vec<&str> {
        self.results
            .iter()
            .filter(|(_, r)| matches!(r, RecordResult::Failed(_) | RecordResult::NotTried))
            .map(|(id, _)| id.as_str())
            .collect()
    }
}

/// The consumer over its trail.
pub struct Audit {
    trail: Arc<dyn AuditTrail>,
}

impl Audit {
    /// Wire the consumer.
    pub fn new(trail: Arc<dyn AuditTrail>) -> Self {
        Self { trail }
    }

    /// Handle one batch, in order, stopping at the first failure.
    pub async fn handle_batch(&self, messages: &[QueueMessage]) -> BatchOutcome {
        let mut results = Vec::with_capacity(messages.len());
        let mut failed = false;
        for message in messages {
            let result = if failed {
                RecordResult::NotTried
            } else {
                self.handle(message).await
            };
            failed |= matches!(result, RecordResult::Failed(_));
            results.push((message.message_id.clone(), result));
        }
        BatchOutcome { results }
    }

    async fn handle(&self, message: &QueueMessage) -> RecordResult {
        let started = Instant::now();
        let entry = match entry_of(&message.body) {
            Ok(entry) => entry,
            Err(error) => {
                // A retry cannot mend it, and failing it would hold every record behind it in
                // the FIFO group until they all reach the redrive DLQ unread: it is logged, body
                // and all (no customer data reaches this queue), and let go.
                tracing::error!(
                    service = NAME,
                    outcome = "rejected",
                    error = format!("{}: {error}", error.error_type()),
                    "message {} is not an audit record: {}",
                    message.message_id,
                    message.body
                );
                return RecordResult::Rejected(error);
            }
        };
        let result = self.trail.append(&entry).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let span = tracing::info_span!(
            "record",
            service = NAME,
            event_id = entry.event_id.as_str(),
            correlation_id = entry.correlation_id.as_deref().unwrap_or_default(),
            order_id = entry.order_id.as_deref().unwrap_or_default(),
            detail_type = entry.detail_type.as_str(),
        );
        let _entered = span.enter();
        match result {
            Ok(true) => {
                tracing::info!(
                    outcome = "succeeded",
                    duration_ms,
                    "recorded in the audit trail"
                );
                RecordResult::Appended(entry)
            }
            Ok(false) => {
                tracing::info!(
                    outcome = "duplicate",
                    duration_ms,
                    "already in the audit trail"
                );
                RecordResult::AlreadyThere(entry)
            }
            Err(e) => {
                let error = AuditError::from(e);
                tracing::error!(
                    outcome = "failed",
                    duration_ms,
                    error = format!("{}: {error}", error.error_type()),
                    "could not record in the audit trail"
                );
                RecordResult::Failed(error)
            }
        }
    }
}

/// The trail entry of a queue message's body.
fn entry_of(body: &str) -> Result<AuditEntry, AuditError> {
    let record: AuditRecord =
        serde_json::from_str(body).map_err(|e| AuditError::Malformed(e.to_string()))?;
    let missing = |field: &str| AuditError::Malformed(format!("{field} is missing"));
    Ok(AuditEntry {
        event_id: record
            .event_id
            .or(record.envelope_id)
            .ok_or_else(|| missing("eventId"))?,
        correlation_id: record.correlation_id,
        detail_type: record.detail_type.ok_or_else(|| missing("type"))?,
        order_id: record.order_id.or(record.created_order),
        at: record.at.ok_or_else(|| missing("at"))?,
    })
}
