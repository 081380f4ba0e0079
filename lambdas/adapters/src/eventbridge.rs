//! [`EventPublisher`] on EventBridge `PutEvents`.

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use ecomm_events::DomainEvent;

use super::port_error;
use ecomm_ports::{EventPublisher, PublishError};

/// `PutEvents` accepts at most this many entries per call.
const MAX_ENTRIES: usize = 10;

/// Publishes to one bus.
#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgePublisher {
    /// Publish to `bus` (name or ARN).
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    /// Sends in batches of 10. A 200 answer can still carry failed entries: any failed entry
    /// fails the call, naming the first error. Entries of earlier batches stay published; their
    /// ids are deterministic, so the retry that follows is absorbed by consumers' idempotency.
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        for batch in events.chunks(MAX_ENTRIES) {
            let entries = batch
                .iter()
                .map(|event| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(event.source())
                        .detail_type(event.detail_type())
                        .detail(event.to_detail().to_string())
                        .build()
                })
                .collect();
            let response = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| port_error("EventBridge", &e))?;
            let failed = usize::try_from(response.failed_entry_count()).unwrap_or(usize::MAX);
            if failed > 0 {
                let first_error = response
                    .entries()
                    .iter()
                    .find(|e| e.error_code().is_some())
                    .map_or_else(
                        || "no error detail returned".to_owned(),
                        |e| {
                            format!(
                                "{}: {}",
                                e.error_code().unwrap_or_default(),
                                e.error_message().unwrap_or_default()
                            )
                        },
                    );
                return Err(PublishError::EntriesFailed {
                    failed,
                    total: batch.len(),
                    first_error,
                });
            }
        }
        Ok(())
    }
}
