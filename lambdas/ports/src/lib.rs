//! The ports of the ecomm Lambdas: what a handler needs, as traits.
//!
//! Handlers are written against the traits in [`ports`]; the `ecomm-adapters` crate implements
//! them with the AWS SDK for the deployed functions, [`memory`] in memory for unit tests, and the
//! embedded local stack over SQLite. This crate compiles no AWS SDK, so the local stack and the
//! CLI do not either for its sake. [`consumer`] is the pipeline every consumer runs an event through
//! (decode, idempotency, publish, log), and [`logging`] turns `tracing` events into the
//! contract's `LogRecord` lines.

pub mod consumer;
pub mod error_codes;
pub mod ids;
pub mod logging;
pub mod memory;
pub mod ports;

pub use consumer::{
    Consumer, ConsumerDeps, ConsumerError, EventContext, Handled, Invocation, Processed,
};
pub use ports::{
    AnalyticsSink, AuditEntry, AuditTrail, Claim, Clock, Email, EventPublisher, IdGenerator,
    IdempotencyStore, Mailer, OrderFact, PaymentGateway, PortError, PublishError, RandomIds,
    RefundRecord, RefundRequest, RefundResult, RefundStore, Reservation, StockStore, SystemClock,
    tenant_key,
};
