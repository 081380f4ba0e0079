//! The narrow interfaces the handlers need from the outside world.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use ecomm_events::{DomainEvent, ReservedItem, Shortfall};
use rust_decimal::Decimal;
use serde_json::Value;
use thiserror::Error;

/// A failure of a port the handler cannot fix itself. Either way the invocation fails and
/// Lambda retries it; the variants tell the on-call engineer where to look.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PortError {
    /// Throttled, timed out, unreachable: likely to pass on retry.
    #[error("{service} is unavailable: {message}")]
    Unavailable {
        /// The service, e.g. `DynamoDB`.
        service: &'static str,
        /// What it said.
        message: String,
    },
    /// Refused (permissions, validation, missing resource): needs a fix before a retry helps.
    #[error("{service} refused the request: {message}")]
    Refused {
        /// The service, e.g. `SES`.
        service: &'static str,
        /// What it said.
        message: String,
    },
}

/// `PutEvents` did not accept every entry.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PublishError {
    /// The call succeeded but some entries were rejected (`FailedEntryCount > 0`).
    #[error("{failed} of {total} events were not accepted by the bus: {first_error}")]
    EntriesFailed {
        /// How many entries failed.
        failed: usize,
        /// How many were sent.
        total: usize,
        /// The first entry's `ErrorCode: ErrorMessage`.
        first_error: String,
    },
    /// The call itself failed.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Publishes events to the bus.
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publish every event, or report which did not make it. Success means every entry was
    /// accepted by the bus.
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError>;
}

/// The outcome of reserving an order's stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// Every line was reserved now.
    Reserved,
    /// The order was reserved by an earlier attempt; nothing changed.
    AlreadyReserved,
    /// Nothing was reserved, because these lines were short.
    OutOfStock(Vec<Shortfall>),
}

/// Stock levels, reserved all-or-nothing.
#[async_trait]
pub trait StockStore: Send + Sync {
    /// Reserve every line of the order atomically, or none, in `tenant`'s stock: each tenant has
    /// stock of its own (see [`tenant_key`]).
    async fn reserve(
        &self,
        tenant: &str,
        order_id: &str,
        items: &[ReservedItem],
    ) -> Result<Reservation, PortError>;
}

/// The state of an idempotency key after a claim.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The caller owns the key until the lock expires: do the work.
    Acquired,
    /// The event was processed before; here is what was recorded.
    Completed(Value),
    /// Another invocation holds the key until `locked_until`.
    InProgress {
        /// When the other invocation's lock expires.
        locked_until: DateTime<Utc>,
    },
}

/// Remembers which events each consumer has processed, modelled on Powertools for AWS Lambda.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claim `key` as in progress until `locked_until`, unless it is completed or validly
    /// locked by someone else. A lock that expired (a crashed invocation) can be claimed again.
    async fn claim(
        &self,
        key: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
    ) -> Result<Claim, PortError>;
    /// Record that `key` was processed, with a summary of the outcome, kept until `expires_at`.
    async fn complete(
        &self,
        key: &str,
        outcome: &Value,
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError>;
    /// Give up a claim after a failure, so a retry can process the event.
    async fn release(&self, key: &str) -> Result<(), PortError>;
}

/// An email to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Recipient.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Sends emails.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Send one email, returning the provider's message id.
    async fn send(&self, email: &Email) -> Result<String, PortError>;
}

/// A refund to ask the payment gateway for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// The order.
    pub order_id: String,
    /// The amount.
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
}

/// The gateway's answer to a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundResult {
    /// Refunded (or refunded before under the same idempotency key).
    Refunded {
        /// The gateway's refund id.
        refund_id: String,
    },
    /// The gateway said no; retrying will not change that.
    Declined {
        /// The gateway's reason.
        message: String,
    },
}

/// The payment provider.
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Refund, at most once per `idempotency_key`.
    async fn refund(
        &self,
        request: &RefundRequest,
        idempotency_key: &str,
    ) -> Result<RefundResult, PortError>;
}

/// A refund made, as recorded in the refunds table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    /// The order (the key: one refund per order).
    pub order_id: String,
    /// The gateway's refund id.
    pub refund_id: String,
    /// The amount.
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    /// The `InventoryOutOfStock` event that caused it.
    pub event_id: String,
    /// When.
    pub refunded_at: DateTime<Utc>,
}

/// The refunds ledger.
#[async_trait]
pub trait RefundStore: Send + Sync {
    /// The refund id recorded for `order_id`, if the order was refunded.
    async fn find(&self, order_id: &str) -> Result<Option<String>, PortError>;
    /// Record a refund unless the order already has one; `true` if this call recorded it.
    async fn record(&self, refund: &RefundRecord) -> Result<bool, PortError>;
}

/// One order counted by analytics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFact {
    /// The tenant whose order it is: each tenant's counters are its own.
    pub tenant: String,
    /// The day the order was created (UTC).
    pub day: NaiveDate,
    /// The sales channel.
    pub channel: String,
    /// ISO 4217 code.
    pub currency: String,
    /// The order total.
    pub amount: Decimal,
}

/// Per-day, per-channel order counts and revenue per currency.
#[async_trait]
pub trait AnalyticsSink: Send + Sync {
    /// Add one order to its day, channel and currency.
    async fn record_order(&self, fact: &OrderFact) -> Result<(), PortError>;
}

/// One order event as the audit trail keeps it: ids, type and time, no customer data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The event's `metadata.eventId`: the trail's key.
    pub event_id: String,
    /// The correlation id, when the event has one.
    pub correlation_id: Option<String>,
    /// The detail-type.
    pub detail_type: String,
    /// The order, when the event names one.
    pub order_id: Option<String>,
    /// When EventBridge received the event.
    pub at: DateTime<Utc>,
}

/// The audit trail: append-only, one entry per event id.
#[async_trait]
pub trait AuditTrail: Send + Sync {
    /// Append `entry` unless its event id is already there; `true` if this call appended it.
    async fn append(&self, entry: &AuditEntry) -> Result<bool, PortError>;
}

/// The time, injectable so that the local stack can replay history and tests can pin it.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// New ids for orders, correlations and events, injectable so that a seeded demo is repeatable.
pub trait IdGenerator: Send + Sync {
    /// A new random UUID, as text.
    fn uuid(&self) -> String;
}

/// Random v4 UUIDs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn uuid(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }
}

/// A store's key for `tenant`: the key itself for the default tenant (the keys written before
/// tenants existed), `tenant#<tenant>#<key>` for any other, so that no two tenants share an
/// item (stock, reservations, counters).
pub fn tenant_key(tenant: &str, key: &str) -> String {
    if tenant == ecomm_events::DEFAULT_TENANT {
        key.to_owned()
    } else {
        format!("tenant#{tenant}#{key}")
    }
}
