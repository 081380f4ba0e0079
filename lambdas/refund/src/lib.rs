//! The refund consumer, the saga step after `InventoryOutOfStock`: refund the order when it was
//! paid and the customer is eligible (v1 orders count as eligible), through the payment gateway
//! with the event id as idempotency key; record it; emit `RefundCompleted` or `RefundFailed`.

use std::sync::Arc;

use async_trait::async_trait;
use ecomm_events::events::Detail as _;
use ecomm_events::{
    DomainEvent, InventoryOutOfStock, PaymentStatus, RefundCompleted, RefundFailed,
    RefundFailureReason, detail_types,
};
use ecomm_ports::{
    Consumer, ConsumerError, EventContext, Handled, PaymentGateway, RefundRecord, RefundRequest,
    RefundResult, RefundStore,
};

/// The consumer over its gateway and ledger.
pub struct Refund {
    gateway: Arc<dyn PaymentGateway>,
    ledger: Arc<dyn RefundStore>,
}

impl Refund {
    /// Wire the consumer.
    pub fn new(gateway: Arc<dyn PaymentGateway>, ledger: Arc<dyn RefundStore>) -> Self {
        Self { gateway, ledger }
    }
}

fn failed(
    out: &InventoryOutOfStock,
    ctx: &EventContext<'_>,
    reason: RefundFailureReason,
    message: String,
) -> Handled {
    let event = RefundFailed {
        event_version: RefundFailed::CURRENT_VERSION,
        order_id: out.order_id.clone(),
        amount: out.refund.amount,
        currency: out.refund.currency.clone(),
        reason,
        message,
        metadata: ctx.metadata_for(detail_types::REFUND_FAILED),
    };
    let log = format!("no refund for {}: {}", out.order_id, event.message);
    Handled::succeeded(log, vec![DomainEvent::RefundFailed(event)])
}

fn completed(out: &InventoryOutOfStock, ctx: &EventContext<'_>, refund_id: String) -> DomainEvent {
    let due = &out.refund;
    DomainEvent::RefundCompleted(RefundCompleted {
        event_version: RefundCompleted::CURRENT_VERSION,
        order_id: out.order_id.clone(),
        refund_id,
        amount: due.amount,
        currency: due.currency.clone(),
        user_id: due.user_id.clone(),
        email: due.email.clone(),
        metadata: ctx.metadata_for(detail_types::REFUND_COMPLETED),
    })
}

#[async_trait]
impl Consumer for Refund {
    const NAME: &'static str = "refund";
    const ACCEPTS: &'static [&'static str] = &[detail_types::INVENTORY_OUT_OF_STOCK];

    /// Safe to run again: the gateway de-duplicates on the event id and answers with the same
    /// refund; the ledger keeps one refund per order.
    async fn handle(
        &self,
        event: &DomainEvent,
        ctx: &EventContext<'_>,
    ) -> Result<Handled, ConsumerError> {
        let DomainEvent::InventoryOutOfStock(out) = event else {
            return Err(ConsumerError::UnexpectedDetailType {
                consumer: Self::NAME,
                detail_type: event.detail_type().to_owned(),
            });
        };
        let due = &out.refund;
        if due.payment_status != PaymentStatus::Paid {
            return Ok(failed(
                out,
                ctx,
                RefundFailureReason::NotPaid,
                "the order was not paid; nothing to refund".to_owned(),
            ));
        }
        if !due.is_refund_eligible {
            return Ok(failed(
                out,
                ctx,
                RefundFailureReason::NotEligible,
                format!("customer {} is not eligible for refunds", due.user_id),
            ));
        }
        // The ledger outlives the gateway's idempotency keys (about a day at Stripe; a DLQ keeps
        // messages for 14 days): a refund already recorded is never asked for again.
        if let Some(refund_id) = self.ledger.find(&out.order_id).await? {
            let message = format!("{} was already refunded ({refund_id})", out.order_id);
            return Ok(Handled::succeeded(
                message,
                vec![completed(out, ctx, refund_id)],
            ));
        }
        let request = RefundRequest {
            order_id: out.order_id.clone(),
            amount: due.amount,
            currency: due.currency.clone(),
        };
        let refund_id = match self.gateway.refund(&request, ctx.event_id).await? {
            RefundResult::Refunded { refund_id } => refund_id,
            RefundResult::Declined { message } => {
                return Ok(failed(
                    out,
                    ctx,
                    RefundFailureReason::Declined,
                    format!("the payment gateway declined: {message}"),
                ));
            }
        };
        let recorded = self
            .ledger
            .record(&RefundRecord {
                order_id: out.order_id.clone(),
                refund_id: refund_id.clone(),
                amount: due.amount,
                currency: due.currency.clone(),
                event_id: ctx.event_id.to_owned(),
                refunded_at: ctx.now,
            })
            .await?;
        let message = if recorded {
            format!(
                "refunded {} {} for {} ({refund_id})",
                due.amount, due.currency, out.order_id
            )
        } else {
            format!("{} was already refunded ({refund_id})", out.order_id)
        };
        Ok(Handled::succeeded(
            message,
            vec![completed(out, ctx, refund_id)],
        ))
    }
}
