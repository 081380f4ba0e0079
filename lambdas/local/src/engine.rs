//! The bus and the Lambda service, emulated: routing, delivery retries and the target DLQ,
//! async invocation retries and the on-failure destination, and the SQS event source of a
//! function behind a queue target — all in simulated time.
//!
//! Work is processed in time order. A delivery that fails (an injected `THROTTLING`, say) is
//! retried per the target's retry policy with exponential backoff, then written to the
//! consumer's DLQ in EventBridge's format. A delivered event becomes an async invocation; a
//! handler error is retried after 1 and 2 minutes (Lambda's defaults, capped by the function's
//! async-invoke settings), then the invocation record goes to the same DLQ. Events a handler
//! publishes go back on the bus, so the saga chain runs. A queue target with a reader is polled
//! as Lambda's event source mapping does: a batch in order, the first failure and everything
//! after it back to the queue for the visibility timeout, and a record received more than the
//! redrive policy's `maxReceiveCount` times moved to the queue's own DLQ.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

use chrono::Duration;
use serde::Serialize;
use serde_json::Value;

/// A unit of scheduled work.
#[derive(Debug, Clone)]
pub enum Work {
    /// An HTTP order submission to the producer.
    Submit {
        /// The request body.
        body: Vec<u8>,
        /// The `x-correlation-id` header.
        correlation_id: Option<String>,
        /// The tenant whose producer takes it; `None` for the central account's.
        tenant: Option<usize>,
    },
    /// An event put on a bus (`PutEvents` accepted it).
    Put {
        /// The envelope.
        envelope: Arc<Value>,
        /// The bus.
        bus: Bus,
    },
    /// EventBridge delivering a tenant bus's event to its forward target, the central bus.
    Forward {
        /// The tenant's index.
        tenant: usize,
        /// The envelope.
        envelope: Arc<Value>,
        /// Where the delivery is.
        tries: Tries,
    },
    /// EventBridge delivering an event to a target.
    Deliver {
        /// The consumer's index.
        target: usize,
        /// The envelope.
        envelope: Arc<Value>,
        /// Where the delivery is.
        tries: Tries,
    },
    /// Lambda running an async invocation.
    Invoke {
        /// The consumer's index.
        target: usize,
        /// The envelope (the invocation payload).
        envelope: Arc<Value>,
        /// 1 for the first try.
        attempt: u32,
        /// When the invocation was accepted, epoch ms.
        first_ms: i64,
        /// Lambda's request id, the same on every retry.
        request_id: String,
    },
    /// Lambda's SQS event source polling a queue target for the function behind it.
    Poll {
        /// The consumer's index.
        target: usize,
    },
}

/// Where one delivery of an event to one target is.
#[derive(Debug, Clone)]
pub struct Tries {
    /// Retries made so far.
    pub retries: u32,
    /// When the event was put on the bus, epoch ms.
    pub first_ms: i64,
    /// The delivery's id in the bus's log.
    pub invocation_id: Arc<str>,
}

impl Tries {
    /// A first try, of an event put at `first_ms`.
    pub fn first(first_ms: i64, invocation_id: String) -> Self {
        Self {
            retries: 0,
            first_ms,
            invocation_id: invocation_id.into(),
        }
    }

    /// The attempt this is, from 1.
    pub fn attempt(&self) -> u32 {
        self.retries + 1
    }

    /// The next try.
    #[must_use]
    pub fn next(&self) -> Self {
        Self {
            retries: self.retries + 1,
            ..self.clone()
        }
    }
}

/// The bus an event is put on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bus {
    /// The central account's, where the consumers' rules are.
    Central,
    /// A tenant account's (its index), whose one rule forwards to the central bus.
    Tenant(usize),
}

/// Work in time order; ties keep their scheduling order.
#[derive(Debug, Default)]
pub struct Schedule {
    heap: BinaryHeap<Reverse<(i64, u64)>>,
    items: BTreeMap<u64, Work>,
    next: u64,
}

impl Schedule {
    /// Schedule `work` at `at_ms`.
    pub fn push(&mut self, at_ms: i64, work: Work) {
        let seq = self.next;
        self.next += 1;
        self.heap.push(Reverse((at_ms, seq)));
        self.items.insert(seq, work);
    }

    /// The earliest work.
    pub fn pop(&mut self) -> Option<(i64, Work)> {
        let Reverse((at, seq)) = self.heap.pop()?;
        Some((
            at,
            self.items
                .remove(&seq)
                .expect("every heap entry has its work"),
        ))
    }

    /// How much is scheduled.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// EventBridge's delay before retry `retries + 1`: exponential, capped at 5 minutes.
pub fn delivery_backoff(retries: u32) -> Duration {
    Duration::seconds(1_i64 << retries.min(8)).min(Duration::minutes(5))
}

/// What EventBridge does after a failed delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this time, epoch ms.
    Retry(i64),
    /// Write the event to the target's DLQ, with this `EXHAUSTED_RETRY_CONDITION`.
    DeadLetter(&'static str),
}

/// After attempt `retries + 1` failed at `at_ms` for an event first put at `first_ms`: retry
/// per `policy`, or give up. An error a retry cannot fix (`retryable` false) gives up at once.
pub fn after_delivery_failure(
    policy: ecomm_consumers::RetryPolicy,
    retryable: bool,
    retries: u32,
    at_ms: i64,
    first_ms: i64,
) -> AfterFailure {
    let next = at_ms + delivery_backoff(retries).num_milliseconds();
    let too_old = next - first_ms > i64::from(policy.maximum_event_age_in_seconds) * 1000;
    if retryable && retries < policy.maximum_retry_attempts && !too_old {
        AfterFailure::Retry(next)
    } else if too_old {
        AfterFailure::DeadLetter("MaximumEventAgeInSeconds")
    } else {
        AfterFailure::DeadLetter("MaximumRetryAttempts")
    }
}

/// Lambda's delay before async retry `attempt + 1`: 1 minute, then 2 minutes.
pub fn invoke_backoff(attempt: u32) -> Duration {
    Duration::minutes(i64::from(attempt.clamp(1, 2)))
}

/// What one consumer did during a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerStats {
    /// Events delivered to the function (accepted async invocations).
    pub delivered: u64,
    /// Handler runs, retries included.
    pub invocations: u64,
    /// Invocations that did their work.
    pub succeeded: u64,
    /// Replays recognised and skipped.
    pub duplicates: u64,
    /// Invocations that had nothing to do.
    pub skipped: u64,
    /// Invocations that failed (each is retried or dead-lettered).
    pub failed_attempts: u64,
    /// Invocations that failed and then succeeded on a retry.
    pub recovered: u64,
    /// Delivery attempts that failed.
    pub delivery_failures: u64,
    /// Messages written to the DLQ: delivery failures.
    pub dead_lettered_delivery: u64,
    /// Messages written to the DLQ: function errors.
    pub dead_lettered_function: u64,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStats {
    /// Orders the producer accepted (202).
    pub orders_accepted: u64,
    /// Orders the producer rejected (400).
    pub orders_rejected: u64,
    /// Orders the producer could not publish (503).
    pub orders_unpublished: u64,
    /// Events put on the bus.
    pub events_put: u64,
    /// Per consumer.
    pub consumers: BTreeMap<String, ConsumerStats>,
    /// The first few rejections: `(order id or "", the 400 body)`.
    pub rejections: Vec<Value>,
    /// Work items processed.
    pub work_done: u64,
    /// Per tenant account, by tenant id (none without tenants).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tenants: BTreeMap<String, TenantStats>,
}

/// What one tenant account did during a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantStats {
    /// Orders the tenant's producer accepted.
    pub orders_accepted: u64,
    /// Events put on the tenant's bus.
    pub events_put: u64,
    /// Events the forward put on the central bus.
    pub forwarded: u64,
    /// Forward attempts that failed.
    pub forward_failures: u64,
    /// Events written to the forward DLQ.
    pub dead_lettered: u64,
}
