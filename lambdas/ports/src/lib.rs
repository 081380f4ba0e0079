//! The ports of the ecomm Lambdas and their AWS adapters.
//!
//! Handlers are written against the traits in [`ports`]; [`aws`] implements them with the AWS
//! SDK for the deployed functions, [`memory`] in memory for unit tests, and the embedded local
//! stack over SQLite. [`consumer`] is the pipeline every consumer runs an event through
//! (decode, idempotency, publish, log), and [`logging`] turns `tracing` events into the
//! contract's `LogRecord` lines.

pub mod aws;
pub mod consumer;
pub mod ids;
pub mod logging;
pub mod memory;
pub mod ports;

pub use consumer::{
    Consumer, ConsumerDeps, ConsumerError, EventContext, Handled, Invocation, Processed,
};
pub use ports::{
    AnalyticsSink, Claim, Clock, Email, EventPublisher, IdGenerator, IdempotencyStore, Mailer,
    OrderFact, PaymentGateway, PortError, PublishError, RandomIds, RefundRecord, RefundRequest,
    RefundResult, RefundStore, Reservation, StockStore, SystemClock,
};
