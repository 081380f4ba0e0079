//! The notification consumer: an order confirmation for `OrderCreated`, a refund notice for
//! `RefundCompleted`, by email. An event without an address is logged and skipped, not an
//! error.

use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use ecomm_events::{DomainEvent, OrderCreated, RefundCompleted, detail_types};
use ecomm_ports::{Consumer, ConsumerError, Email, EventContext, Handled, Mailer};

/// The consumer over its mailer.
pub struct Notification {
    mailer: Arc<dyn Mailer>,
}

impl Notification {
    /// Wire the consumer.
    pub fn new(mailer: Arc<dyn Mailer>) -> Self {
        Self { mailer }
    }
}

/// The order confirmation.
pub fn confirmation(order: &OrderCreated, to: &str) -> Email {
    let o = &order.order;
    let mut body = format!(
        "Hello{},\n\nthank you for your order {}.\n\n",
        order
            .customer
            .name
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default(),
        o.order_id
    );
    for line in &o.items {
        let _ = writeln!(
            body,
            "  {} × {} at {} {}",
            line.quantity, line.sku, line.price, o.currency
        );
    }
    let _ = write!(body, "\nTotal: {} {}\n", o.total_amount, o.currency);
    Email {
        to: to.to_owned(),
        subject: format!("Your order {}", o.order_id),
        body,
    }
}

/// The refund notice.
pub fn refund_notice(refund: &RefundCompleted, to: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("Refund for order {}", refund.order_id),
        body: format!(
            "Hello,\n\nsome items of your order {} were out of stock, so we refunded {} {} \
             (refund {}). It can take a few days to show on your statement.\n",
            refund.order_id, refund.amount, refund.currency, refund.refund_id
        ),
    }
}

#[async_trait]
impl Consumer for Notification {
    const NAME: &'static str = "notification";
    const ACCEPTS: &'static [&'static str] =
        &[detail_types::ORDER_CREATED, detail_types::REFUND_COMPLETED];

    /// At-least-once for the email itself: if the function dies between sending and recording
    /// completion, the retry sends again. Everything else about a replay is a no-op.
    async fn handle(
        &self,
        event: &DomainEvent,
        _ctx: &EventContext<'_>,
    ) -> Result<Handled, ConsumerError> {
        let (email, what) = match event {
            DomainEvent::OrderCreated(order) => match &order.customer.email {
                Some(to) => (confirmation(order, to), "order confirmation"),
                None => {
                    return Ok(Handled::skipped(format!(
                        "no email address for {}; confirmation skipped",
                        order.order.order_id
                    )));
                }
            },
            DomainEvent::RefundCompleted(refund) => match &refund.email {
                Some(to) => (refund_notice(refund, to), "refund notice"),
                None => {
                    return Ok(Handled::skipped(format!(
                        "no email address for {}; refund notice skipped",
                        refund.order_id
                    )));
                }
            },
            other => {
                return Err(ConsumerError::UnexpectedDetailType {
                    consumer: Self::NAME,
                    detail_type: other.detail_type().to_owned(),
                });
            }
        };
        let message_id = self.mailer.send(&email).await?;
        Ok(Handled::succeeded(
            format!(
                "sent {what} for {} (message {message_id})",
                event.order_id()
            ),
            Vec::new(),
        ))
    }
}
