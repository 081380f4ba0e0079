//! The event contract of the ecomm order system.
//!
//! Every component — the five Lambdas, the embedded local stack and the `ecomm` CLI — speaks
//! through the types in this crate: the EventBridge envelope, every domain event and its
//! versions, the order validation rules of the producer, the three DLQ message formats and the
//! one structured log line every function emits. It depends on nothing AWS-specific, so the
//! contract can be tested, documented and versioned on its own.

pub mod buslog;
pub mod dlq;
pub mod envelope;
pub mod error;
pub mod events;
pub mod log;
pub mod money;
pub mod schema;
pub mod validation;
pub mod version;

pub use dlq::{
    AttributeValue, DlqKind, DlqMessage, DlqRecord, DlqSource, EventSummary, MessageAttributes,
};
pub use envelope::EventEnvelope;
pub use error::ContractError;
pub use events::{
    Address, Channel, Customer, DEFAULT_TENANT, DomainEvent, InventoryOutOfStock,
    InventoryReserved, LineItem, Metadata, Order, OrderCreated, Payment, PaymentMethod,
    PaymentStatus, RefundCompleted, RefundDue, RefundFailed, RefundFailureReason, ReservedItem,
    Shortfall,
};
pub use log::{LogLevel, LogRecord, Outcome};
pub use validation::{FieldError, ValidOrder, validate_order_request};
pub use version::EventVersion;

/// The system's functions by name: each one's log `service`, and the suffix of its function
/// and log group names (`<prefix>-<name>`). The consumers' names are their declarations'.
pub mod services {
    /// The order producer: no rule's target, so no declaration names it.
    pub const ORDER_PRODUCER: &str = "order-producer";
}

/// The `source` of every event, one constant per publishing service.
pub mod sources {
    /// Events published by the order producer.
    pub const ORDERS: &str = "ecomm.orders";
    /// Events published by the inventory consumer.
    pub const INVENTORY: &str = "ecomm.inventory";
    /// Events published by the refund consumer.
    pub const PAYMENTS: &str = "ecomm.payments";
}

/// The `detail-type` of every event.
pub mod detail_types {
    /// An order was accepted by the producer.
    pub const ORDER_CREATED: &str = "OrderCreated";
    /// All items of an order were reserved.
    pub const INVENTORY_RESERVED: &str = "InventoryReserved";
    /// At least one item of an order could not be reserved; nothing was reserved.
    pub const INVENTORY_OUT_OF_STOCK: &str = "InventoryOutOfStock";
    /// The payment of an out-of-stock order was refunded.
    pub const REFUND_COMPLETED: &str = "RefundCompleted";
    /// The payment of an out-of-stock order was not refunded, and why.
    pub const REFUND_FAILED: &str = "RefundFailed";
    /// Every detail-type this contract knows.
    pub const ALL: [&str; 5] = [
        ORDER_CREATED,
        INVENTORY_RESERVED,
        INVENTORY_OUT_OF_STOCK,
        REFUND_COMPLETED,
        REFUND_FAILED,
    ];
}
