//! The DynamoDB adapters: stock, idempotency, refunds, analytics, the audit trail.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use chrono::{DateTime, TimeZone as _, Utc};
use ecomm_events::{ReservedItem, Shortfall};
use serde_json::Value;

use super::port_error;
use ecomm_ports::{
    AnalyticsSink, AuditEntry, AuditTrail, Claim, IdempotencyStore, OrderFact, PortError,
    RefundRecord, RefundStore, Reservation, StockStore, tenant_key,
};

const SERVICE: &str = "DynamoDB";

fn s(text: impl Into<String>) -> AttributeValue {
    AttributeValue::S(text.into())
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "called with numbers by value"
)]
fn n(number: impl ToString) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

fn refused(message: impl Into<String>) -> PortError {
    PortError::Refused {
        service: SERVICE,
        message: message.into(),
    }
}

type Item = HashMap<String, AttributeValue>;

fn number<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// The outcome of a put conditioned on the item's absence: `true` if it wrote, `false` if the
/// item was already there.
fn put_if_absent<T>(
    result: Result<
        T,
        aws_sdk_dynamodb::error::SdkError<
            PutItemError,
            aws_sdk_dynamodb::config::http::HttpResponse,
        >,
    >,
) -> Result<bool, PortError> {
    match result {
        Ok(_) => Ok(true),
        Err(err)
            if matches!(
                err.as_service_error(),
                Some(PutItemError::ConditionalCheckFailedException(_))
            ) =>
        {
            Ok(false)
        }
        Err(err) => Err(port_error(SERVICE, &err)),
    }
}

/// Stock levels: one item per SKU (`pk = "sku#<sku>"`, `available`), plus one marker item per
/// reserved order (`pk = "reservation#<orderId>"`), written in the same transaction, which makes
/// a second reservation of the same order a no-op.
#[derive(Debug, Clone)]
pub struct DynamoStockStore {
    client: Client,
    table: String,
}

impl DynamoStockStore {
    /// Use `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The key of a SKU's item.
    pub fn sku_key(sku: &str) -> String {
        format!("sku#{sku}")
    }

    async fn available(&self, tenant: &str, sku: &str) -> Result<u32, PortError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(tenant_key(tenant, &Self::sku_key(sku))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error(SERVICE, &e))?;
        Ok(item
            .item()
            .and_then(|i| number(i, "available"))
            .unwrap_or(0))
    }
}

#[async_trait]
impl StockStore for DynamoStockStore {
    /// One `TransactWriteItems`: decrement every SKU on the condition `available >= qty`, and
    /// put the order's marker on the condition that it does not exist. All or nothing.
    async fn reserve(
        &self,
        tenant: &str,
        order_id: &str,
        items: &[ReservedItem],
    ) -> Result<Reservation, PortError> {
        let mut writes = Vec::with_capacity(items.len() + 1);
        for item in items {
            let update = Update::builder()
                .table_name(&self.table)
                .key("pk", s(tenant_key(tenant, &Self::sku_key(&item.sku))))
                .update_expression("SET available = available - :qty")
                .condition_expression("available >= :qty")
                .expression_attribute_values(":qty", n(item.quantity))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .map_err(|e| refused(e.to_string()))?;
            writes.push(TransactWriteItem::builder().update(update).build());
        }
        let lines = serde_json::to_string(items).expect("reserved items always serialize");
        let marker = Put::builder()
            .table_name(&self.table)
            .item(
                "pk",
                s(tenant_key(tenant, &format!("reservation#{order_id}"))),
            )
            .item("orderId", s(order_id))
            .item("items", s(lines))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| refused(e.to_string()))?;
        writes.push(TransactWriteItem::builder().put(marker).build());

        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await;
        let Err(err) = result else {
            return Ok(Reservation::Reserved);
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        else {
            return Err(port_error(SERVICE, &err));
        };
        let reasons = cancelled.cancellation_reasons();
        let failed_condition =
            |i: usize| reasons.get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed");
        if failed_condition(items.len()) {
            return Ok(Reservation::AlreadyReserved);
        }
        let mut missing = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if !failed_condition(i) {
                continue;
            }
            let available = match reasons[i].item().and_then(|old| number(old, "available")) {
                Some(available) => available,
                // Not every endpoint returns the old item; read it.
                None => self.available(tenant, &item.sku).await?,
            };
            missing.push(Shortfall {
                sku: item.sku.clone(),
                requested: item.quantity,
                available,
            });
        }
        if missing.is_empty() {
            // Cancelled for another reason (a conflicting transaction): try again later.
            return Err(PortError::Unavailable {
                service: SERVICE,
                message: format!("{cancelled}"),
            });
        }
        Ok(Reservation::OutOfStock(missing))
    }
}

/// Idempotency records: `id` (`<consumer>#<eventId>`), `status` (`INPROGRESS`/`COMPLETED`),
/// `lockedUntil` and `expiresAt` (epoch seconds; `expiresAt` is the table's TTL attribute),
/// `outcome` (JSON).
#[derive(Debug, Clone)]
pub struct DynamoIdempotencyStore {
    client: Client,
    table: String,
}

impl DynamoIdempotencyStore {
    /// Use `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn claim_of(item: &Item) -> Option<Claim> {
        if text(item, "status")? == "COMPLETED" {
            let outcome = text(item, "outcome")
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or(Value::Null);
            Some(Claim::Completed(outcome))
        } else {
            let until: i64 = number(item, "lockedUntil")?;
            Some(Claim::InProgress {
                locked_until: Utc.timestamp_opt(until, 0).single()?,
            })
        }
    }
}

/// How long an abandoned in-progress record is kept after its lock expires.
const ABANDONED_CLAIM_TTL: chrono::Duration = chrono::Duration::days(1);

#[async_trait]
impl IdempotencyStore for DynamoIdempotencyStore {
    async fn claim(
        &self,
        key: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
    ) -> Result<Claim, PortError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("id", s(key))
            .item("status", s("INPROGRESS"))
            .item("lockedUntil", n(locked_until.timestamp()))
            .item(
                "expiresAt",
                n((locked_until + ABANDONED_CLAIM_TTL).timestamp()),
            )
            .condition_expression(
                "attribute_not_exists(id) OR (#status = :inprogress AND lockedUntil < :now)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":inprogress", s("INPROGRESS"))
            .expression_attribute_values(":now", n(now.timestamp()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let Err(err) = result else {
            return Ok(Claim::Acquired);
        };
        let Some(PutItemError::ConditionalCheckFailedException(failed)) = err.as_service_error()
        else {
            return Err(port_error(SERVICE, &err));
        };
        if let Some(claim) = failed.item().and_then(Self::claim_of) {
            return Ok(claim);
        }
        // Not every endpoint returns the old item on a failed condition; read it.
        let current = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error(SERVICE, &e))?;
        match current.item().and_then(Self::claim_of) {
            Some(claim) => Ok(claim),
            // Released between the two calls: the caller's retry will claim it.
            None => Ok(Claim::InProgress { locked_until: now }),
        }
    }

    async fn complete(
        &self,
        key: &str,
        outcome: &Value,
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("id", s(key))
            .item("status", s("COMPLETED"))
            .item("outcome", s(outcome.to_string()))
            .item("expiresAt", n(expires_at.timestamp()))
            .send()
            .await
            .map_err(|e| port_error(SERVICE, &e))?;
        Ok(())
    }

    /// Deletes the record only while it is in progress: a completed record is never undone.
    async fn release(&self, key: &str) -> Result<(), PortError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("id", s(key))
            .condition_expression("#status = :inprogress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":inprogress", s("INPROGRESS"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(DeleteItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(err) => Err(port_error(SERVICE, &err)),
        }
    }
}

/// The refunds ledger: one item per order (`orderId`).
#[derive(Debug, Clone)]
pub struct DynamoRefundStore {
    client: Client,
    table: String,
}

impl DynamoRefundStore {
    /// Use `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl RefundStore for DynamoRefundStore {
    async fn find(&self, order_id: &str) -> Result<Option<String>, PortError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("orderId", s(order_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error(SERVICE, &e))?;
        Ok(found
            .item()
            .and_then(|i| text(i, "refundId"))
            .map(str::to_owned))
    }

    async fn record(&self, refund: &RefundRecord) -> Result<bool, PortError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("orderId", s(&refund.order_id))
            .item("refundId", s(&refund.refund_id))
            .item("amount", n(refund.amount))
            .item("currency", s(&refund.currency))
            .item("eventId", s(&refund.event_id))
            .item("refundedAt", s(refund.refunded_at.to_rfc3339()))
            .condition_expression("attribute_not_exists(orderId)")
            .send()
            .await;
        put_if_absent(result)
    }
}

/// Analytics counters: `pk = "<day>#<channel>"`, `sk = <currency>`, `orderCount`, `revenue`.
#[derive(Debug, Clone)]
pub struct DynamoAnalyticsSink {
    client: Client,
    table: String,
}

impl DynamoAnalyticsSink {
    /// Use `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl AnalyticsSink for DynamoAnalyticsSink {
    /// Atomic counters (`ADD`): concurrent orders never lose an update. DynamoDB numbers are
    /// decimal, so revenue stays exact.
    async fn record_order(&self, fact: &OrderFact) -> Result<(), PortError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(
                "pk",
                s(tenant_key(
                    &fact.tenant,
                    &format!("{}#{}", fact.day, fact.channel),
                )),
            )
            .key("sk", s(&fact.currency))
            .update_expression("ADD orderCount :one, revenue :amount")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":amount", n(fact.amount))
            .send()
            .await
            .map_err(|e| port_error(SERVICE, &e))?;
        Ok(())
    }
}

/// The audit trail: one item per event (`eventId`), written once.
#[derive(Debug, Clone)]
pub struct DynamoAuditTrail {
    client: Client,
    table: String,
}

impl DynamoAuditTrail {
    /// Use `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl AuditTrail for DynamoAuditTrail {
    /// A conditional put: a redriven or twice-delivered record leaves the first one as it was.
    async fn append(&self, entry: &AuditEntry) -> Result<bool, PortError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("eventId", s(&entry.event_id))
            .item("detailType", s(&entry.detail_type))
            .item("at", s(entry.at.to_rfc3339()))
            .condition_expression("attribute_not_exists(eventId)");
        if let Some(correlation_id) = &entry.correlation_id {
            put = put.item("correlationId", s(correlation_id));
        }
        if let Some(order_id) = &entry.order_id {
            put = put.item("orderId", s(order_id));
        }
        put_if_absent(put.send().await)
    }
}
