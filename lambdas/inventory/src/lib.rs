//! The inventory consumer: reserves every line of an `OrderCreated` atomically or none, and
//! emits `InventoryReserved` or `InventoryOutOfStock` (with the shortfalls and what the refund
//! step needs).

use std::sync::Arc;

use async_trait::async_trait;
use ecomm_events::events::Detail as _;
use ecomm_events::{
    DomainEvent, InventoryOutOfStock, InventoryReserved, OrderCreated, RefundDue, ReservedItem,
    detail_types,
};
use ecomm_ports::{Consumer, ConsumerError, EventContext, Handled, Reservation, StockStore};

/// The consumer over its stock store.
pub struct Inventory {
    stock: Arc<dyn StockStore>,
}

impl Inventory {
    /// Wire the consumer.
    pub fn new(stock: Arc<dyn StockStore>) -> Self {
        Self { stock }
    }
}

#[async_trait]
impl Consumer for Inventory {
    const NAME: &'static str = "inventory";
    const ACCEPTS: &'static [&'static str] = &[detail_types::ORDER_CREATED];

    /// Safe to run again: the reservation marker makes a second reservation of the same order
    /// a no-op that reports it as reserved, and the emitted event gets the same id.
    async fn handle(
        &self,
        event: &DomainEvent,
        ctx: &EventContext<'_>,
    ) -> Result<Handled, ConsumerError> {
        let DomainEvent::OrderCreated(order) = event else {
            return Err(ConsumerError::UnexpectedDetailType {
                consumer: Self::NAME,
                detail_type: event.detail_type().to_owned(),
            });
        };
        let items: Vec<ReservedItem> = order
            .order
            .items
            .iter()
            .map(|line| ReservedItem {
                sku: line.sku.clone(),
                quantity: line.quantity,
            })
            .collect();
        let order_id = &order.order.order_id;
        match self
            .stock
            .reserve(order.metadata.tenant(), order_id, &items)
            .await?
        {
            reservation @ (Reservation::Reserved | Reservation::AlreadyReserved) => {
                let message = if reservation == Reservation::Reserved {
                    format!("reserved {} line(s) of {order_id}", items.len())
                } else {
                    format!("{order_id} was already reserved")
                };
                let reserved = InventoryReserved {
                    event_version: InventoryReserved::CURRENT_VERSION,
                    order_id: order_id.clone(),
                    items,
                    metadata: ctx.metadata_for(detail_types::INVENTORY_RESERVED),
                };
                Ok(Handled::succeeded(
                    message,
                    vec![DomainEvent::InventoryReserved(reserved)],
                ))
            }
            Reservation::OutOfStock(missing) => {
                let skus: Vec<&str> = missing.iter().map(|m| m.sku.as_str()).collect();
                let message = format!(
                    "{order_id} is out of stock ({}); nothing reserved",
                    skus.join(", ")
                );
                let out = InventoryOutOfStock {
                    event_version: InventoryOutOfStock::CURRENT_VERSION,
                    order_id: order_id.clone(),
                    missing,
                    refund: refund_due(order),
                    metadata: ctx.metadata_for(detail_types::INVENTORY_OUT_OF_STOCK),
                };
                Ok(Handled::succeeded(
                    message,
                    vec![DomainEvent::InventoryOutOfStock(out)],
                ))
            }
        }
    }
}

fn refund_due(order: &OrderCreated) -> RefundDue {
    RefundDue {
        user_id: order.customer.user_id.clone(),
        email: order.customer.email.clone(),
        amount: order.order.total_amount,
        currency: order.order.currency.clone(),
        payment_method: order.payment.method,
        payment_status: order.payment.status,
        is_refund_eligible: order.is_refund_eligible(),
    }
}
