//! Every port over the state file, with the faults the demo injects.

use std::str::FromStr as _;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ecomm_events::{DomainEvent, ReservedItem, Shortfall};
use ecomm_ports::{
    AnalyticsSink, AuditEntry, AuditTrail, Claim, Clock, Email, EventPublisher, IdGenerator,
    IdempotencyStore, Mailer, OrderFact, PaymentGateway, PortError, PublishError, RefundRecord,
    RefundRequest, RefundResult, RefundStore, Reservation, StockStore, tenant_key,
};
use rusqlite::{OptionalExtension as _, params};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::faults::Faults;
use crate::store::{Db, StoreError, exec};

#[allow(clippy::needless_pass_by_value, reason = "used as a map_err function")]
fn port(error: StoreError) -> PortError {
    PortError::Unavailable {
        service: "local state",
        message: error.to_string(),
    }
}

/// Stock levels and reservation markers.
#[derive(Debug, Clone)]
pub struct SqliteStock {
    db: Db,
}

impl SqliteStock {
    /// Stock in `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Set a tenant's level of a SKU.
    pub fn set_level(&self, tenant: &str, sku: &str, available: u32) -> Result<(), StoreError> {
        self.db.with(|c| {
            exec(
                c,
                "INSERT OR REPLACE INTO stock(sku, available) VALUES (?1, ?2)",
                params![tenant_key(tenant, sku), available],
            )
            .map(drop)
        })
    }

    /// Every SKU's level.
    pub fn levels(&self) -> Result<Vec<(String, u32)>, StoreError> {
        self.db.with(|c| {
            let mut stmt = c.prepare("SELECT sku, available FROM stock ORDER BY sku")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }
}

#[async_trait]
impl StockStore for SqliteStock {
    /// A tenant's SKUs and orders are rows of their own: their keys carry the tenant
    /// ([`tenant_key`]).
    async fn reserve(
        &self,
        tenant: &str,
        order_id: &str,
        items: &[ReservedItem],
    ) -> Result<Reservation, PortError> {
        let lines = serde_json::to_string(items).expect("reserved items always serialize");
        let order_id = tenant_key(tenant, order_id);
        let order_id = order_id.as_str();
        self.db
            .atomically(|c| {
                let done = c
                    .query_row(
                        "SELECT 1 FROM reservations WHERE order_id = ?1",
                        [order_id],
                        |_| Ok(()),
                    )
                    .optional()?;
                if done.is_some() {
                    return Ok(Reservation::AlreadyReserved);
                }
                let mut missing = Vec::new();
                for item in items {
                    let available: u32 = c
                        .query_row(
                            "SELECT available FROM stock WHERE sku = ?1",
                            [tenant_key(tenant, &item.sku)],
                            |r| r.get(0),
                        )
                        .optional()?
                        .unwrap_or(0);
                    if available < item.quantity {
                        missing.push(Shortfall {
                            sku: item.sku.clone(),
                            requested: item.quantity,
                            available,
                        });
                    }
                }
                if !missing.is_empty() {
                    return Ok(Reservation::OutOfStock(missing));
                }
                for item in items {
                    exec(
                        c,
                        "UPDATE stock SET available = available - ?2 WHERE sku = ?1",
                        params![tenant_key(tenant, &item.sku), item.quantity],
                    )?;
                }
                exec(
                    c,
                    "INSERT INTO reservations(order_id, items) VALUES (?1, ?2)",
                    params![order_id, lines],
                )?;
                Ok(Reservation::Reserved)
            })
            .map_err(port)
    }
}

/// Idempotency records, with the same claim/complete/release rules as the DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct SqliteIdempotency {
    db: Db,
}

impl SqliteIdempotency {
    /// Records in `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl IdempotencyStore for SqliteIdempotency {
    async fn claim(
        &self,
        key: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
    ) -> Result<Claim, PortError> {
        self.db
            .atomically(|c| {
                // Past `expires_ms` a record is gone, as DynamoDB's TTL would delete it.
                let current: Option<(String, Option<i64>, Option<String>)> = c
                    .query_row(
                        "SELECT status, locked_until_ms, outcome FROM idempotency WHERE key = ?1 AND expires_ms > ?2",
                        params![key, now.timestamp_millis()],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                match current {
                    Some((status, _, outcome)) if status == "COMPLETED" => {
                        let outcome = outcome.and_then(|o| serde_json::from_str(&o).ok()).unwrap_or(Value::Null);
                        return Ok(Claim::Completed(outcome));
                    }
                    Some((_, Some(until), _)) if until > now.timestamp_millis() => {
                        return Ok(Claim::InProgress { locked_until: crate::clock::from_ms(until) });
                    }
                    _ => {}
                }
                exec(
                c,
                    "INSERT OR REPLACE INTO idempotency(key, status, locked_until_ms, expires_ms, outcome) VALUES (?1, 'INPROGRESS', ?2, ?3, NULL)",
                    params![key, locked_until.timestamp_millis(), (locked_until + chrono::Duration::days(1)).timestamp_millis()],
                )?;
                Ok(Claim::Acquired)
            })
            .map_err(port)
    }

    async fn complete(
        &self,
        key: &str,
        outcome: &Value,
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        self.db
            .with(|c| {
                exec(
                c,
                    "INSERT OR REPLACE INTO idempotency(key, status, locked_until_ms, expires_ms, outcome) VALUES (?1, 'COMPLETED', NULL, ?2, ?3)",
                    params![key, expires_at.timestamp_millis(), outcome.to_string()],
                )
                .map(drop)
            })
            .map_err(port)
    }

    async fn release(&self, key: &str) -> Result<(), PortError> {
        self.db
            .with(|c| {
                exec(
                    c,
                    "DELETE FROM idempotency WHERE key = ?1 AND status = 'INPROGRESS'",
                    [key],
                )
                .map(drop)
            })
            .map_err(port)
    }
}

/// The refunds ledger.
#[derive(Debug, Clone)]
pub struct SqliteRefunds {
    db: Db,
}

impl SqliteRefunds {
    /// The ledger in `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl RefundStore for SqliteRefunds {
    async fn find(&self, order_id: &str) -> Result<Option<String>, PortError> {
        self.db
            .with(|c| {
                c.query_row(
                    "SELECT refund_id FROM refunds WHERE order_id = ?1",
                    [order_id],
                    |r| r.get(0),
                )
                .optional()
            })
            .map_err(port)
    }

    async fn record(&self, refund: &RefundRecord) -> Result<bool, PortError> {
        self.db
            .with(|c| {
                exec(
                c,
                    "INSERT OR IGNORE INTO refunds(order_id, refund_id, amount, currency, event_id, refunded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![refund.order_id, refund.refund_id, refund.amount.to_string(), refund.currency, refund.event_id, refund.refunded_at.to_rfc3339()],
                )
                .map(|n| n == 1)
            })
            .map_err(port)
    }
}

/// The audit trail, down during the demo's injected audit outage.
pub struct SqliteAuditTrail {
    db: Db,
    clock: Arc<dyn Clock>,
    faults: Arc<Faults>,
}

impl SqliteAuditTrail {
    /// The trail in `db`.
    pub fn new(db: Db, clock: Arc<dyn Clock>, faults: Arc<Faults>) -> Self {
        Self { db, clock, faults }
    }
}

#[async_trait]
impl AuditTrail for SqliteAuditTrail {
    async fn append(&self, entry: &AuditEntry) -> Result<bool, PortError> {
        let now = self.clock.now();
        if self.faults.audit_down(now) {
            return Err(PortError::Unavailable {
                service: "DynamoDB",
                message: "ProvisionedThroughputExceededException: the audit table is throttled (injected outage)".to_owned(),
            });
        }
        self.db
            .with(|c| {
                exec(
                    c,
                    "INSERT OR IGNORE INTO audit_trail(event_id, correlation_id, detail_type, order_id, at, recorded_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![entry.event_id, entry.correlation_id, entry.detail_type, entry.order_id, entry.at.to_rfc3339(), now.timestamp_millis()],
                )
                .map(|n| n == 1)
            })
            .map_err(port)
    }
}

/// The analytics counters (revenue kept as exact decimal text).
#[derive(Debug, Clone)]
pub struct SqliteAnalytics {
    db: Db,
}

impl SqliteAnalytics {
    /// Counters in `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl AnalyticsSink for SqliteAnalytics {
    async fn record_order(&self, fact: &OrderFact) -> Result<(), PortError> {
        self.db
            .atomically(|c| {
                let day = fact.day.to_string();
                let channel = tenant_key(&fact.tenant, &fact.channel);
                let revenue: Option<String> = c
                    .query_row(
                        "SELECT revenue FROM analytics WHERE day = ?1 AND channel = ?2 AND currency = ?3",
                        params![day, channel, fact.currency],
                        |r| r.get(0),
                    )
                    .optional()?;
                let total = revenue.and_then(|r| Decimal::from_str(&r).ok()).unwrap_or_default() + fact.amount;
                exec(
                c,
                    "INSERT INTO analytics(day, channel, currency, order_count, revenue) VALUES (?1, ?2, ?3, 1, ?4)
                     ON CONFLICT(day, channel, currency) DO UPDATE SET order_count = order_count + 1, revenue = ?4",
                    params![day, channel, fact.currency, total.to_string()],
                )?;
                Ok(())
            })
            .map_err(port)
    }
}

/// A mail outbox: every email "sent" is a row; an injected outage makes sending fail.
#[derive(Clone)]
pub struct OutboxMailer {
    db: Db,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    faults: Arc<Faults>,
}

impl OutboxMailer {
    /// The outbox in `db`.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        faults: Arc<Faults>,
    ) -> Self {
        Self {
            db,
            clock,
            ids,
            faults,
        }
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> Result<String, PortError> {
        let now = self.clock.now();
        if self.faults.mail_down(now) {
            return Err(PortError::Unavailable {
                service: "SES",
                message: "connection timed out (injected outage)".to_owned(),
            });
        }
        let message_id = self.ids.uuid();
        self.db
            .with(|c| {
                exec(
                c,
                    "INSERT INTO outbox(message_id, recipient, subject, body, sent_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![message_id, email.to, email.subject, email.body, now.timestamp_millis()],
                )
                .map(drop)
            })
            .map_err(port)?;
        Ok(message_id)
    }
}

/// A payment gateway that honours idempotency keys like a real one; injected timeouts.
#[derive(Clone)]
pub struct FakeGateway {
    db: Db,
    clock: Arc<dyn Clock>,
    faults: Arc<Faults>,
}

impl FakeGateway {
    /// The gateway's ledger in `db`.
    pub fn new(db: Db, clock: Arc<dyn Clock>, faults: Arc<Faults>) -> Self {
        Self { db, clock, faults }
    }
}

#[async_trait]
impl PaymentGateway for FakeGateway {
    async fn refund(
        &self,
        request: &RefundRequest,
        idempotency_key: &str,
    ) -> Result<RefundResult, PortError> {
        if self.faults.gateway_times_out(&request.order_id) {
            return Err(PortError::Unavailable {
                service: "payment gateway",
                message: "POST /refunds timed out after 10s (injected)".to_owned(),
            });
        }
        let refund_id = format!(
            "re_{}",
            &idempotency_key.replace('-', "")[..16.min(idempotency_key.len())]
        );
        let now = self.clock.now().timestamp_millis();
        self.db
            .atomically(|c| {
                exec(
                c,
                    "INSERT OR IGNORE INTO gateway_refunds(idempotency_key, refund_id, order_id, amount, currency, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![idempotency_key, refund_id, request.order_id, request.amount.to_string(), request.currency, now],
                )?;
                c.query_row("SELECT refund_id FROM gateway_refunds WHERE idempotency_key = ?1", [idempotency_key], |r| r.get(0))
            })
            .map(|refund_id| RefundResult::Refunded { refund_id })
            .map_err(port)
    }
}

/// The bus as a handler sees it: published events wait here until the engine routes them.
#[derive(Debug, Default)]
pub struct LocalPublisher {
    pending: Mutex<Vec<DomainEvent>>,
}

impl LocalPublisher {
    /// Take what was published since the last call.
    pub fn drain(&self) -> Vec<DomainEvent> {
        std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

#[async_trait]
impl EventPublisher for LocalPublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(events);
        Ok(())
    }
}
