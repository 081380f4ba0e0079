//! The analytics consumer: counts each `OrderCreated` into per-day, per-channel order counts
//! and revenue per currency. Purely observational: it emits nothing.

use std::sync::Arc;

use async_trait::async_trait;
use ecomm_events::{DomainEvent, detail_types};
use ecomm_ports::{AnalyticsSink, Consumer, ConsumerError, EventContext, Handled, OrderFact};

/// The consumer over its sink.
pub struct Analytics {
    sink: Arc<dyn AnalyticsSink>,
}

impl Analytics {
    /// Wire the consumer.
    pub fn new(sink: Arc<dyn AnalyticsSink>) -> Self {
        Self { sink }
    }
}

#[async_trait]
impl Consumer for Analytics {
    const NAME: &'static str = "analytics";
    const ACCEPTS: &'static [&'static str] = &[detail_types::ORDER_CREATED];

    /// Counters are not idempotent by themselves; the pipeline's idempotency on the event id
    /// makes each order count once.
    async fn handle(
        &self,
        event: &DomainEvent,
        _ctx: &EventContext<'_>,
    ) -> Result<Handled, ConsumerError> {
        let DomainEvent::OrderCreated(order) = event else {
            return Err(ConsumerError::UnexpectedDetailType {
                consumer: Self::NAME,
                detail_type: event.detail_type().to_owned(),
            });
        };
        let fact = OrderFact {
            tenant: order.metadata.tenant().to_owned(),
            day: order.metadata.created_at.date_naive(),
            channel: order.channel().to_owned(),
            currency: order.order.currency.clone(),
            amount: order.order.total_amount,
        };
        self.sink.record_order(&fact).await?;
        Ok(Handled::succeeded(
            format!(
                "counted {} on {} for {} ({} {})",
                order.order.order_id, fact.day, fact.channel, fact.amount, fact.currency
            ),
            Vec::new(),
        ))
    }
}
