//! In-memory implementations of every port, for unit tests of the handlers.
//!
//! They keep the semantics the handlers rely on (all-or-nothing reservation, claim/complete/
//! release, one refund per order) and can be told to fail, so a test can drive each failure
//! path.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ecomm_events::{DomainEvent, ReservedItem, Shortfall};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::ports::{
    AnalyticsSink, AuditEntry, AuditTrail, Claim, Clock, Email, EventPublisher, IdempotencyStore,
    Mailer, OrderFact, PaymentGateway, PortError, PublishError, RefundRecord, RefundRequest,
    RefundResult, RefundStore, Reservation, StockStore,
};

fn unavailable(service: &'static str) -> PortError {
    PortError::Unavailable {
        service,
        message: "injected failure".to_owned(),
    }
}

/// Records published events; can reject them.
#[derive(Debug, Default)]
pub struct MemoryPublisher {
    /// Everything accepted so far.
    pub published: Mutex<Vec<DomainEvent>>,
    /// When set, every entry is rejected as `PutEvents` would with `FailedEntryCount > 0`.
    pub reject: Mutex<bool>,
}

#[async_trait]
impl EventPublisher for MemoryPublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        if *self.reject.lock().unwrap() {
            return Err(PublishError::EntriesFailed {
                failed: events.len(),
                total: events.len(),
                first_error: "InternalFailure: injected".to_owned(),
            });
        }
        self.published.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}

/// Stock levels in a map.
#[derive(Debug, Default)]
pub struct MemoryStock {
    /// Available units per SKU.
    pub available: Mutex<HashMap<String, u32>>,
    /// Orders reserved.
    pub reserved: Mutex<HashSet<String>>,
    /// When set, every call fails as unavailable.
    pub fail: Mutex<bool>,
}

impl MemoryStock {
    /// A store with these levels.
    pub fn with(levels: &[(&str, u32)]) -> Self {
        let store = Self::default();
        store
            .available
            .lock()
            .unwrap()
            .extend(levels.iter().map(|(s, n)| ((*s).to_owned(), *n)));
        store
    }
}

#[async_trait]
impl StockStore for MemoryStock {
    async fn reserve(
        &self,
        tenant: &str,
        order_id: &str,
        items: &[ReservedItem],
    ) -> Result<Reservation, PortError> {
        if *self.fail.lock().unwrap() {
            return Err(unavailable("stock"));
        }
        let mut reserved = self.reserved.lock().unwrap();
        let order_key = crate::tenant_key(tenant, order_id);
        if reserved.contains(&order_key) {
            return Ok(Reservation::AlreadyReserved);
        }
        let mut levels = self.available.lock().unwrap();
        let missing: Vec<Shortfall> = items
            .iter()
            .filter_map(|item| {
                let available = levels
                    .get(&crate::tenant_key(tenant, &item.sku))
                    .copied()
                    .unwrap_or(0);
                (available < item.quantity).then(|| Shortfall {
                    sku: item.sku.clone(),
                    requested: item.quantity,
                    available,
                })
            })
            .collect();
        if !missing.is_empty() {
            return Ok(Reservation::OutOfStock(missing));
        }
        for item in items {
            *levels
                .get_mut(&crate::tenant_key(tenant, &item.sku))
                .expect("checked above") -= item.quantity;
        }
        reserved.insert(order_key);
        Ok(Reservation::Reserved)
    }
}

#[derive(Debug, Clone)]
enum KeyState {
    InProgress(DateTime<Utc>),
    Completed(Value),
}

/// Idempotency keys in a map.
#[derive(Debug, Default)]
pub struct MemoryIdempotency {
    keys: Mutex<HashMap<String, KeyState>>,
}

impl MemoryIdempotency {
    /// Whether `key` is recorded as completed.
    pub fn is_completed(&self, key: &str) -> bool {
        matches!(
            self.keys.lock().unwrap().get(key),
            Some(KeyState::Completed(_))
        )
    }

    /// Whether `key` is held by anyone.
    pub fn is_held(&self, key: &str) -> bool {
        self.keys.lock().unwrap().contains_key(key)
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotency {
    async fn claim(
        &self,
        key: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
    ) -> Result<Claim, PortError> {
        let mut keys = self.keys.lock().unwrap();
        match keys.get(key) {
            Some(KeyState::Completed(outcome)) => Ok(Claim::Completed(outcome.clone())),
            Some(KeyState::InProgress(until)) if *until > now => Ok(Claim::InProgress {
                locked_until: *until,
            }),
            _ => {
                keys.insert(key.to_owned(), KeyState::InProgress(locked_until));
                Ok(Claim::Acquired)
            }
        }
    }

    async fn complete(
        &self,
        key: &str,
        outcome: &Value,
        _expires_at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        self.keys
            .lock()
            .unwrap()
            .insert(key.to_owned(), KeyState::Completed(outcome.clone()));
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), PortError> {
        self.keys.lock().unwrap().remove(key);
        Ok(())
    }
}

/// Keeps sent emails; can fail.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    /// Sent so far.
    pub sent: Mutex<Vec<Email>>,
    /// When set, sending fails as unavailable.
    pub fail: Mutex<bool>,
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, email: &Email) -> Result<String, PortError> {
        if *self.fail.lock().unwrap() {
            return Err(unavailable("mail"));
        }
        let mut sent = self.sent.lock().unwrap();
        sent.push(email.clone());
        Ok(format!("msg-{}", sent.len()))
    }
}

/// A payment gateway that honours idempotency keys; can decline or time out.
#[derive(Debug, Default)]
pub struct MemoryGateway {
    /// Refunds made, by idempotency key.
    pub refunds: Mutex<BTreeMap<String, RefundRequest>>,
    /// When set, every refund is declined with this message.
    pub decline: Mutex<Option<String>>,
    /// When set, every call fails as unavailable (a timeout).
    pub fail: Mutex<bool>,
}

#[async_trait]
impl PaymentGateway for MemoryGateway {
    async fn refund(
        &self,
        request: &RefundRequest,
        idempotency_key: &str,
    ) -> Result<RefundResult, PortError> {
        if *self.fail.lock().unwrap() {
            return Err(unavailable("payment gateway"));
        }
        if let Some(message) = self.decline.lock().unwrap().clone() {
            return Ok(RefundResult::Declined { message });
        }
        self.refunds
            .lock()
            .unwrap()
            .entry(idempotency_key.to_owned())
            .or_insert_with(|| request.clone());
        Ok(RefundResult::Refunded {
            refund_id: format!("re_{idempotency_key}"),
        })
    }
}

/// The refunds ledger in a map.
#[derive(Debug, Default)]
pub struct MemoryRefunds {
    /// Refunds by order.
    pub by_order: Mutex<BTreeMap<String, RefundRecord>>,
}

#[async_trait]
impl RefundStore for MemoryRefunds {
    async fn find(&self, order_id: &str) -> Result<Option<String>, PortError> {
        Ok(self
            .by_order
            .lock()
            .unwrap()
            .get(order_id)
            .map(|r| r.refund_id.clone()))
    }

    async fn record(&self, refund: &RefundRecord) -> Result<bool, PortError> {
        let mut by_order = self.by_order.lock().unwrap();
        if by_order.contains_key(&refund.order_id) {
            return Ok(false);
        }
        by_order.insert(refund.order_id.clone(), refund.clone());
        Ok(true)
    }
}

/// The audit trail in a map, with an optional outage.
#[derive(Debug, Default)]
pub struct MemoryAuditTrail {
    /// Entries by event id.
    pub entries: Mutex<BTreeMap<String, AuditEntry>>,
    /// While set, every append fails as unavailable.
    pub down: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl AuditTrail for MemoryAuditTrail {
    async fn append(&self, entry: &AuditEntry) -> Result<bool, PortError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(unavailable("DynamoDB"));
        }
        let mut entries = self.entries.lock().unwrap();
        if entries.contains_key(&entry.event_id) {
            return Ok(false);
        }
        entries.insert(entry.event_id.clone(), entry.clone());
        Ok(true)
    }
}

/// (day, channel, currency) → (orders, revenue).
pub type Counters = BTreeMap<(String, String, String), (u64, Decimal)>;

/// Analytics counters in a map keyed by (day, channel, currency): (orders, revenue).
#[derive(Debug, Default)]
pub struct MemoryAnalytics {
    /// The counters.
    pub counters: Mutex<Counters>,
}

#[async_trait]
impl AnalyticsSink for MemoryAnalytics {
    async fn record_order(&self, fact: &OrderFact) -> Result<(), PortError> {
        let key = (
            fact.day.to_string(),
            crate::tenant_key(&fact.tenant, &fact.channel),
            fact.currency.clone(),
        );
        let mut counters = self.counters.lock().unwrap();
        let entry = counters.entry(key).or_insert((0, Decimal::ZERO));
        entry.0 += 1;
        entry.1 += fact.amount;
        Ok(())
    }
}

/// A clock that stands still unless moved.
#[derive(Debug)]
pub struct FixedClock(pub Mutex<DateTime<Utc>>);

impl FixedClock {
    /// Stopped at `at`.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    /// Move forward.
    pub fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// The shared dependencies of a consumer under test, in memory, with the clock stopped.
pub struct TestBed {
    /// Idempotency keys.
    pub idempotency: std::sync::Arc<MemoryIdempotency>,
    /// Published events.
    pub publisher: std::sync::Arc<MemoryPublisher>,
    /// The clock.
    pub clock: std::sync::Arc<FixedClock>,
}

impl Default for TestBed {
    fn default() -> Self {
        Self {
            idempotency: std::sync::Arc::default(),
            publisher: std::sync::Arc::default(),
            clock: std::sync::Arc::new(FixedClock::at(
                DateTime::parse_from_rfc3339("2026-01-22T12:00:00Z")
                    .expect("valid time")
                    .with_timezone(&Utc),
            )),
        }
    }
}

impl TestBed {
    /// The dependencies to wire a `ConsumerRuntime` with.
    pub fn deps(&self) -> crate::consumer::ConsumerDeps {
        crate::consumer::ConsumerDeps {
            idempotency: self.idempotency.clone(),
            publisher: self.publisher.clone(),
            clock: self.clock.clone(),
        }
    }

    /// Everything published so far.
    pub fn published(&self) -> Vec<DomainEvent> {
        self.publisher.published.lock().unwrap().clone()
    }
}

/// The envelope EventBridge would deliver for `event`.
pub fn envelope(event: &DomainEvent) -> Value {
    let id = format!(
        "eb-{}",
        event.metadata().event_id.as_deref().unwrap_or("none")
    );
    let time = event.metadata().created_at;
    serde_json::to_value(ecomm_events::EventEnvelope::wrap(
        event,
        id,
        time,
        "123456789012",
        "us-east-1",
    ))
    .expect("envelopes always serialize")
}

/// Read an event fixture of the contract crate (`lambdas/events/tests/fixtures/events/NAME.json`)
/// as raw envelope JSON.
pub fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events/tests/fixtures/events")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixtures are JSON")
}
