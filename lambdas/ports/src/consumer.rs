//! The pipeline every consumer runs an event through.
//!
//! decode the envelope → check the version and detail-type → claim `(consumer, eventId)` →
//! run the handler → publish what it emits → record completion; log a `LogRecord` at the start
//! and at the outcome. Any error releases the claim and fails the invocation, so Lambda's async
//! retries and then the on-failure destination (the consumer's DLQ) take over. A replay of a
//! completed event is a logged no-op.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use ecomm_events::{ContractError, DomainEvent, EventEnvelope, EventSummary, Metadata, Outcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;
use tracing::Instrument;

use crate::ids::derived_event_id;
use crate::ports::{Claim, Clock, EventPublisher, IdempotencyStore, PortError, PublishError};

/// How long a claim locks an event: longer than the function timeout, so a slow attempt is not
/// run twice, short enough that a crashed attempt is retried soon.
pub const IN_PROGRESS_LOCK: Duration = Duration::minutes(2);
/// How long a completed event is remembered: longer than a DLQ keeps a message (14 days at
/// most), so a redrive of anything still in a DLQ is always recognised as a replay.
pub const COMPLETED_RETENTION: Duration = Duration::days(15);

/// What is known about the current invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    /// Lambda's request id.
    pub request_id: String,
    /// Which async attempt this is (1 = first), when the runtime knows; Lambda does not say.
    pub attempt: Option<u32>,
}

/// Why a consumer failed an event. Every variant fails the invocation.
#[derive(Debug, Error)]
pub enum ConsumerError {
    /// The event does not fit the contract: poison, it will fail every retry.
    #[error(transparent)]
    Contract(#[from] ContractError),
    /// The rule routed an event this consumer does not handle.
    #[error("{consumer} does not handle {detail_type} events")]
    UnexpectedDetailType {
        /// This consumer.
        consumer: &'static str,
        /// What arrived.
        detail_type: String,
    },
    /// Another invocation is processing the same event right now.
    #[error("event {event_id} is being processed by another invocation until {locked_until}")]
    InProgress {
        /// The event.
        event_id: String,
        /// When that invocation's lock expires.
        locked_until: DateTime<Utc>,
    },
    /// A dependency failed.
    #[error(transparent)]
    Port(#[from] PortError),
    /// The bus did not accept an emitted event.
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl ConsumerError {
    /// The `errorType` Lambda reports, and so what the DLQ shows.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Contract(e) => e.code(),
            Self::UnexpectedDetailType { .. } => "UnexpectedDetailType",
            Self::InProgress { .. } => "EventInProgress",
            Self::Port(PortError::Unavailable { .. }) => "DependencyUnavailable",
            Self::Port(PortError::Refused { .. }) => "DependencyRefused",
            Self::Publish(_) => "PublishFailed",
        }
    }

    /// Whether a retry cannot succeed (a poison message).
    pub fn is_poison(&self) -> bool {
        matches!(self, Self::Contract(_) | Self::UnexpectedDetailType { .. })
    }
}

impl From<ConsumerError> for lambda_runtime::Diagnostic {
    fn from(error: ConsumerError) -> Self {
        Self {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// The event being handled, and how to stamp the events it causes.
#[derive(Debug)]
pub struct EventContext<'a> {
    /// The consumer handling it.
    pub consumer: &'static str,
    /// The event's idempotency key.
    pub event_id: &'a str,
    /// The event's metadata.
    pub metadata: &'a Metadata,
    /// Now, from the injected clock.
    pub now: DateTime<Utc>,
}

impl EventContext<'_> {
    /// Metadata for an event this one causes: same correlation, caused by this event, with an
    /// id derived from this event so that a retry emits the same id.
    pub fn metadata_for(&self, detail_type: &str) -> Metadata {
        Metadata {
            event_id: Some(derived_event_id(self.consumer, self.event_id, detail_type)),
            correlation_id: self.metadata.correlation_id.clone(),
            causation_id: Some(self.event_id.to_owned()),
            created_at: self.now,
            tenant_id: self.metadata.tenant_id.clone(),
        }
    }
}

/// The key a consumer claims an event under: per consumer, per tenant, per event. The default
/// tenant's keys are those written before tenants existed, so that an event handled before the
/// upgrade is still a duplicate after it.
pub fn idempotency_key(consumer: &str, metadata: &Metadata, event_id: &str) -> String {
    match metadata.tenant_id.as_deref() {
        None | Some(ecomm_events::DEFAULT_TENANT) => format!("{consumer}#{event_id}"),
        Some(tenant) => format!("{consumer}#{tenant}#{event_id}"),
    }
}

/// What a handler did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// `Succeeded` or `Skipped`.
    pub outcome: Outcome,
    /// One line for the log.
    pub message: String,
    /// Events to publish.
    pub emit: Vec<DomainEvent>,
}

impl Handled {
    /// Done, emitting `emit`.
    pub fn succeeded(message: impl Into<String>, emit: Vec<DomainEvent>) -> Self {
        Self {
            outcome: Outcome::Succeeded,
            message: message.into(),
            emit,
        }
    }

    /// Nothing to do.
    pub fn skipped(message: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Skipped,
            message: message.into(),
            emit: Vec::new(),
        }
    }
}

/// How an invocation ended: the function's response, and what completion records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Processed {
    /// `succeeded`, `skipped` or `duplicate`.
    pub outcome: Outcome,
    /// One line for people.
    pub message: String,
}

/// The business logic of one consumer.
#[async_trait]
pub trait Consumer: Send + Sync {
    /// The consumer's name: its log `service`, its idempotency scope, its EventBridge target id.
    const NAME: &'static str;
    /// The detail-types its rule routes to it.
    const ACCEPTS: &'static [&'static str];

    /// Handle one decoded event. Must be safe to run again after a failure part-way.
    async fn handle(
        &self,
        event: &DomainEvent,
        ctx: &EventContext<'_>,
    ) -> Result<Handled, ConsumerError>;
}

/// What every consumer needs besides its own ports.
#[derive(Clone)]
pub struct ConsumerDeps {
    /// Remembers processed events.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// The bus.
    pub publisher: Arc<dyn EventPublisher>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

/// A consumer with its dependencies, ready to take events.
pub struct ConsumerRuntime<C> {
    consumer: C,
    deps: ConsumerDeps,
}

impl<C: Consumer> ConsumerRuntime<C> {
    /// Wire a consumer.
    pub fn new(consumer: C, deps: ConsumerDeps) -> Self {
        Self { consumer, deps }
    }

    /// The consumer itself.
    pub fn consumer(&self) -> &C {
        &self.consumer
    }

    /// The Lambda entry point.
    pub async fn handle_lambda(
        &self,
        event: lambda_runtime::LambdaEvent<Value>,
    ) -> Result<Processed, ConsumerError> {
        let invocation = Invocation {
            request_id: event.context.request_id.clone(),
            attempt: None,
        };
        self.process(event.payload, &invocation).await
    }

    /// Run one event (the raw envelope JSON) through the pipeline.
    pub async fn process(
        &self,
        raw: Value,
        invocation: &Invocation,
    ) -> Result<Processed, ConsumerError> {
        let started = Instant::now();
        // Read leniently first, so that even an event that fails to decode is logged with its
        // correlation and order ids.
        let summary = EventSummary::of(&raw);
        let span = tracing::info_span!(
            "invocation",
            service = C::NAME,
            request_id = %invocation.request_id,
            event_id = summary.event_id.as_deref().unwrap_or_default(),
            bus_event_id = raw.get("id").and_then(serde_json::Value::as_str).unwrap_or_default(),
            detail_type = summary.detail_type.as_deref().unwrap_or_default(),
            correlation_id = summary.correlation_id.as_deref().unwrap_or_default(),
            causation_id = summary.causation_id.as_deref().unwrap_or_default(),
            order_id = summary.order_id.as_deref().unwrap_or_default(),
            attempt = invocation.attempt,
        );
        async {
            tracing::info!("invocation started");
            let result = match EventEnvelope::from_value(raw) {
                Ok(envelope) => self.run(&envelope).await,
                Err(e) => Err(ConsumerError::from(e)),
            };
            let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            match &result {
                Ok(handled) => tracing::info!(
                    outcome = handled.outcome.as_str(),
                    duration_ms,
                    "{}",
                    handled.message
                ),
                Err(error) => tracing::error!(
                    outcome = Outcome::Failed.as_str(),
                    duration_ms,
                    error = format!("{}: {error}", error.error_type()),
                    "invocation failed"
                ),
            }
            result.map(|handled| Processed {
                outcome: handled.outcome,
                message: handled.message,
            })
        }
        .instrument(span)
        .await
    }

    async fn run(&self, envelope: &EventEnvelope) -> Result<Handled, ConsumerError> {
        let event_id = envelope.event_id();
        let event = envelope.decode()?;
        if !C::ACCEPTS.contains(&event.detail_type()) {
            return Err(ConsumerError::UnexpectedDetailType {
                consumer: C::NAME,
                detail_type: envelope.detail_type.clone(),
            });
        }
        let key = idempotency_key(C::NAME, event.metadata(), event_id);
        let now = self.deps.clock.now();
        match self
            .deps
            .idempotency
            .claim(&key, now, now + IN_PROGRESS_LOCK)
            .await?
        {
            Claim::Acquired => {}
            Claim::Completed(previous) => {
                return Ok(Handled {
                    outcome: Outcome::Duplicate,
                    message: format!(
                        "already processed; skipped (was: {})",
                        serde_json::from_value::<Processed>(previous)
                            .map_or_else(|_| "?".to_owned(), |p| p.message)
                    ),
                    emit: Vec::new(),
                });
            }
            Claim::InProgress { locked_until } => {
                return Err(ConsumerError::InProgress {
                    event_id: event_id.to_owned(),
                    locked_until,
                });
            }
        }
        let ctx = EventContext {
            consumer: C::NAME,
            event_id,
            metadata: event.metadata(),
            now,
        };
        let outcome = self.handle_claimed(&event, &ctx).await;
        match outcome {
            Ok(handled) => {
                let summary = serde_json::to_value(Processed {
                    outcome: handled.outcome.clone(),
                    message: handled.message.clone(),
                })
                .expect("a processed record always serializes");
                if let Err(e) = self
                    .deps
                    .idempotency
                    .complete(&key, &summary, now + COMPLETED_RETENTION)
                    .await
                {
                    // The work is done; a retry would find the lock and wait for it to expire.
                    tracing::warn!(error = %e, "could not record completion; a replay after the lock expires would run again");
                }
                Ok(handled)
            }
            Err(error) => {
                if let Err(e) = self.deps.idempotency.release(&key).await {
                    tracing::warn!(error = %e, "could not release the claim; retries wait for the lock to expire");
                }
                Err(error)
            }
        }
    }

    async fn handle_claimed(
        &self,
        event: &DomainEvent,
        ctx: &EventContext<'_>,
    ) -> Result<Handled, ConsumerError> {
        let handled = self.consumer.handle(event, ctx).await?;
        if !handled.emit.is_empty() {
            self.deps.publisher.publish(&handled.emit).await?;
            for emitted in &handled.emit {
                let meta = emitted.metadata();
                tracing::info!(
                    outcome = Outcome::Published.as_str(),
                    event_id = meta.event_id.as_deref().unwrap_or_default(),
                    causation_id = meta.causation_id.as_deref().unwrap_or_default(),
                    detail_type = emitted.detail_type(),
                    "published {}",
                    emitted.detail_type()
                );
            }
        }
        Ok(handled)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use ecomm_events::events::Detail as _;
    use ecomm_events::{DomainEvent, InventoryReserved, LogRecord, Outcome, detail_types};
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;
    use crate::logging::{LogRecordLayer, LogSink};
    use crate::memory::{TestBed, fixture};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<LogRecord>>>);

    impl LogSink for Captured {
        fn write(&self, record: &LogRecord) {
            self.0.lock().unwrap().push(record.clone());
        }
    }

    struct Echo;

    #[async_trait]
    impl Consumer for Echo {
        const NAME: &'static str = "echo";
        const ACCEPTS: &'static [&'static str] = &[detail_types::ORDER_CREATED];

        async fn handle(
            &self,
            event: &DomainEvent,
            ctx: &EventContext<'_>,
        ) -> Result<Handled, ConsumerError> {
            let reserved = InventoryReserved {
                event_version: InventoryReserved::CURRENT_VERSION,
                order_id: event.order_id().to_owned(),
                items: Vec::new(),
                metadata: ctx.metadata_for(detail_types::INVENTORY_RESERVED),
            };
            Ok(Handled::succeeded(
                "echoed",
                vec![DomainEvent::InventoryReserved(reserved)],
            ))
        }
    }

    async fn logs_of(event: Value) -> (Result<Processed, ConsumerError>, Vec<LogRecord>) {
        let captured = Captured::default();
        let subscriber =
            tracing_subscriber::registry().with(LogRecordLayer::new("unused", captured.clone()));
        let _guard = tracing::subscriber::set_default(subscriber);
        let bed = TestBed::default();
        let runtime = ConsumerRuntime::new(Echo, bed.deps());
        let invocation = Invocation {
            request_id: "r-1".into(),
            attempt: Some(2),
        };
        let result = runtime.process(event, &invocation).await;
        let records = captured.0.lock().unwrap().clone();
        (result, records)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn every_invocation_logs_start_published_and_outcome_with_the_chain_ids() {
        let (result, records) = logs_of(fixture("order_created_v2")).await;
        result.unwrap();
        let [start, published, outcome] = records.as_slice() else {
            panic!("{records:#?}")
        };
        for r in [start, published, outcome] {
            assert_eq!(r.service, "echo");
            assert_eq!(r.correlation_id.as_deref(), Some("req-7f9c"));
            assert_eq!(r.order_id.as_deref(), Some("ord-123"));
            assert_eq!(r.attempt, Some(2));
        }
        assert_eq!(start.outcome, None);
        assert_eq!(
            start.event_id.as_deref(),
            Some("0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a")
        );
        assert_eq!(start.detail_type.as_deref(), Some("OrderCreated"));
        assert_eq!(published.outcome, Some(Outcome::Published));
        assert_eq!(published.detail_type.as_deref(), Some("InventoryReserved"));
        assert_eq!(
            published.causation_id.as_deref(),
            Some("0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a")
        );
        assert_ne!(published.event_id, start.event_id);
        assert_eq!(outcome.outcome, Some(Outcome::Succeeded));
        assert!(outcome.duration_ms.is_some());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_poison_event_is_logged_as_failed_with_its_ids_and_error_type() {
        let mut event = fixture("order_created_v2");
        event["detail"]["eventVersion"] = "7.0".into();
        let (result, records) = logs_of(event).await;
        assert!(result.is_err());
        let last = records.last().unwrap();
        assert_eq!(last.outcome, Some(Outcome::Failed));
        assert_eq!(last.correlation_id.as_deref(), Some("req-7f9c"));
        assert!(
            last.error
                .as_deref()
                .unwrap()
                .starts_with("UnsupportedEventVersion:"),
            "{last:?}"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_event_id_in_two_tenants_is_handled_once_per_tenant_and_the_tenant_carries_on() {
        // A subscriber of its own, as every test here that logs: a thread with none can make
        // the log call sites look unused to the tests that capture them.
        let subscriber =
            tracing_subscriber::registry().with(LogRecordLayer::new("unused", Captured::default()));
        let _guard = tracing::subscriber::set_default(subscriber);
        let bed = TestBed::default();
        let runtime = ConsumerRuntime::new(Echo, bed.deps());
        let invocation = Invocation {
            request_id: "r-1".into(),
            attempt: Some(1),
        };
        // The same eventId: the default tenant's (2.0, no tenantId) and brand-a's.
        let default = fixture("order_created_v2");
        let tenant = fixture("order_created_v2_1_tenant");
        assert_eq!(
            default["detail"]["metadata"]["eventId"],
            tenant["detail"]["metadata"]["eventId"]
        );
        let outcomes = [
            runtime
                .process(default.clone(), &invocation)
                .await
                .unwrap()
                .outcome,
            runtime
                .process(tenant.clone(), &invocation)
                .await
                .unwrap()
                .outcome,
            runtime.process(tenant, &invocation).await.unwrap().outcome,
            runtime.process(default, &invocation).await.unwrap().outcome,
        ];
        assert_eq!(
            outcomes,
            [
                Outcome::Succeeded,
                Outcome::Succeeded,
                Outcome::Duplicate,
                Outcome::Duplicate
            ]
        );
        let tenants: Vec<Option<String>> = bed
            .published()
            .iter()
            .map(|e| e.metadata().tenant_id.clone())
            .collect();
        assert_eq!(
            tenants,
            [None, Some("brand-a".to_owned())],
            "caused events keep the tenant"
        );
    }

    #[test]
    fn the_default_tenants_keys_are_the_keys_written_before_tenants() {
        let mut metadata = Metadata {
            event_id: Some("e-1".to_owned()),
            correlation_id: "c".to_owned(),
            causation_id: None,
            created_at: chrono::Utc::now(),
            tenant_id: None,
        };
        assert_eq!(
            idempotency_key("inventory", &metadata, "e-1"),
            "inventory#e-1"
        );
        metadata.tenant_id = Some(ecomm_events::DEFAULT_TENANT.to_owned());
        assert_eq!(
            idempotency_key("inventory", &metadata, "e-1"),
            "inventory#e-1"
        );
        metadata.tenant_id = Some("brand-a".to_owned());
        assert_eq!(
            idempotency_key("inventory", &metadata, "e-1"),
            "inventory#brand-a#e-1"
        );
    }
}
