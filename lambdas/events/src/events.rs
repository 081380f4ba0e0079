//! Every domain event of the order system, with its versions.
//!
//! A reader accepts every major version it knows, ignores fields it does not know (serde's
//! default), and rejects an unknown major with [`ContractError::UnsupportedVersion`] — the
//! consumer then fails and the event ends in its DLQ, labelled as such.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ContractError;
use crate::version::EventVersion;
use crate::{detail_types, sources};

/// What every event's detail carries to be traced and de-duplicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Producer-assigned UUID, the consumers' idempotency key. Absent in v1 `OrderCreated`,
    /// where the envelope id stands in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// One id per order journey, carried by every event of it.
    pub correlation_id: String,
    /// The `eventId` of the event that caused this one; absent on the first event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    /// When the producer created the event.
    pub created_at: DateTime<Utc>,
    /// The tenant whose order it is (since the minor versions 2.1 of `OrderCreated` and 1.1 of
    /// the others); absent, it is [`DEFAULT_TENANT`]'s. Every event an event causes carries its
    /// tenant on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

/// The tenant of an event that names none: every event of a single-tenant estate, and every
/// event written before tenants existed.
pub const DEFAULT_TENANT: &str = "default";

impl Metadata {
    /// The event's tenant: its `tenantId`, or [`DEFAULT_TENANT`].
    pub fn tenant(&self) -> &str {
        self.tenant_id.as_deref().unwrap_or(DEFAULT_TENANT)
    }
}

/// A kind of event: its detail-type, source and the versions readers accept.
pub trait Detail: Serialize + DeserializeOwned {
    /// The `detail-type` of the envelope.
    const DETAIL_TYPE: &'static str;
    /// The `source` of the envelope.
    const SOURCE: &'static str;
    /// The version writers produce today.
    const CURRENT_VERSION: EventVersion;
    /// Every major version readers accept.
    const SUPPORTED_MAJORS: &'static [u32];

    /// Decode a detail, checking its version first so an unknown major is reported as such
    /// rather than as a field mismatch.
    fn decode(detail: &Value) -> Result<Self, ContractError> {
        let detail_type = Self::DETAIL_TYPE.to_owned();
        let Some(raw) = detail.get("eventVersion") else {
            return Err(ContractError::MissingVersion { detail_type });
        };
        let text = match raw {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => other.to_string(),
        };
        let version: EventVersion = text.parse().map_err(|_| ContractError::BadVersion {
            detail_type: detail_type.clone(),
            version: text.clone(),
        })?;
        if !Self::SUPPORTED_MAJORS.contains(&version.major) {
            return Err(ContractError::UnsupportedVersion {
                detail_type,
                version: text,
                supported: Self::SUPPORTED_MAJORS.to_vec(),
            });
        }
        serde_json::from_value(detail.clone()).map_err(|e| ContractError::Malformed {
            detail_type,
            reason: e.to_string(),
        })
    }
}

/// A sales channel, e.g. `WEB`. Free text on the wire so a new channel never breaks readers;
/// the producer only accepts [`Channel::KNOWN`].
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct Channel(pub String);

impl Channel {
    /// The channels the producer accepts.
    pub const KNOWN: [&'static str; 4] = ["WEB", "MOBILE", "STORE", "MARKETPLACE"];
    /// What v1 events (which have no channel) count as.
    pub const UNKNOWN: &'static str = "UNKNOWN";
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// Stock-keeping unit.
    pub sku: String,
    /// How many, at least 1.
    pub quantity: u32,
    /// Unit price in the order's currency.
    #[serde(with = "crate::money")]
    #[schemars(with = "f64")]
    pub price: Decimal,
}

/// The order itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// The order id, e.g. `ord-123`.
    pub order_id: String,
    /// Σ quantity × price, checked by the producer.
    #[serde(with = "crate::money")]
    #[schemars(with = "f64")]
    pub total_amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    /// At least one line.
    pub items: Vec<LineItem>,
    /// Since v2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
}

/// A postal address; personal data, masked in human output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Street and number.
    pub line1: String,
    /// Town or city.
    pub city: String,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166 alpha-2 country code.
    pub country: String,
}

/// Who ordered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// The customer's account id.
    pub user_id: String,
    /// Where confirmations go; personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Display name; personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Shipping address; personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// Since v2; absent (v1) means eligible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_refund_eligible: Option<bool>,
}

/// How the order was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethod {
    /// Credit or debit card.
    Card,
    /// PayPal.
    Paypal,
    /// Bank transfer.
    BankTransfer,
    /// Gift card.
    GiftCard,
}

/// Where the payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    /// Money captured: refundable.
    Paid,
    /// Authorised, not captured: nothing to refund.
    Authorized,
    /// Not yet paid: nothing to refund.
    Pending,
}

impl PaymentMethod {
    /// Wire names, for validation messages.
    pub const NAMES: [&'static str; 4] = ["CARD", "PAYPAL", "BANK_TRANSFER", "GIFT_CARD"];
}

impl PaymentStatus {
    /// Wire names, for validation messages.
    pub const NAMES: [&'static str; 3] = ["PAID", "AUTHORIZED", "PENDING"];
}

/// Payment of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// How.
    pub method: PaymentMethod,
    /// Where it stands.
    pub status: PaymentStatus,
}

/// `OrderCreated`: v1 (no `order.channel`, no `customer.isRefundEligible`, no
/// `metadata.eventId`) and v2 (the current one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    /// `1.x` or `2.x`.
    pub event_version: EventVersion,
    /// The order.
    pub order: Order,
    /// Who ordered.
    pub customer: Customer,
    /// How it was paid.
    pub payment: Payment,
    /// Tracing and idempotency.
    pub metadata: Metadata,
}

impl OrderCreated {
    /// v1 orders carry no eligibility flag: they count as eligible.
    pub fn is_refund_eligible(&self) -> bool {
        self.customer.is_refund_eligible.unwrap_or(true)
    }

    /// The channel, or [`Channel::UNKNOWN`] for v1 orders.
    pub fn channel(&self) -> &str {
        self.order
            .channel
            .as_ref()
            .map_or(Channel::UNKNOWN, |c| c.0.as_str())
    }
}

impl Detail for OrderCreated {
    const DETAIL_TYPE: &'static str = detail_types::ORDER_CREATED;
    const SOURCE: &'static str = sources::ORDERS;
    const CURRENT_VERSION: EventVersion = EventVersion::new(2, 1);
    const SUPPORTED_MAJORS: &'static [u32] = &[1, 2];
}

/// A reserved line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservedItem {
    /// Stock-keeping unit.
    pub sku: String,
    /// How many were reserved.
    pub quantity: u32,
}

/// `InventoryReserved`: every line of the order is reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InventoryReserved {
    /// `1.x`.
    pub event_version: EventVersion,
    /// The order.
    pub order_id: String,
    /// What was reserved.
    pub items: Vec<ReservedItem>,
    /// Tracing and idempotency.
    pub metadata: Metadata,
}

impl Detail for InventoryReserved {
    const DETAIL_TYPE: &'static str = detail_types::INVENTORY_RESERVED;
    const SOURCE: &'static str = sources::INVENTORY;
    const CURRENT_VERSION: EventVersion = EventVersion::new(1, 1);
    const SUPPORTED_MAJORS: &'static [u32] = &[1];
}

/// A line that could not be reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Shortfall {
    /// Stock-keeping unit.
    pub sku: String,
    /// How many the order asked for.
    pub requested: u32,
    /// How many were available.
    pub available: u32,
}

/// What the refund step needs to know, carried so the refund consumer never reads the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundDue {
    /// The customer's account id.
    pub user_id: String,
    /// For the refund notice; personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The amount to refund: the order total.
    #[serde(with = "crate::money")]
    #[schemars(with = "f64")]
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    /// How the order was paid.
    pub payment_method: PaymentMethod,
    /// Only `PAID` orders are refunded.
    pub payment_status: PaymentStatus,
    /// The customer's eligibility (v1 orders count as eligible).
    pub is_refund_eligible: bool,
}

/// `InventoryOutOfStock`: at least one line could not be reserved, so nothing was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InventoryOutOfStock {
    /// `1.x`.
    pub event_version: EventVersion,
    /// The order.
    pub order_id: String,
    /// The lines that were short.
    pub missing: Vec<Shortfall>,
    /// What the refund needs.
    pub refund: RefundDue,
    /// Tracing and idempotency.
    pub metadata: Metadata,
}

impl Detail for InventoryOutOfStock {
    const DETAIL_TYPE: &'static str = detail_types::INVENTORY_OUT_OF_STOCK;
    const SOURCE: &'static str = sources::INVENTORY;
    const CURRENT_VERSION: EventVersion = EventVersion::new(1, 1);
    const SUPPORTED_MAJORS: &'static [u32] = &[1];
}

/// `RefundCompleted`: the payment gateway refunded the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundCompleted {
    /// `1.x`.
    pub event_version: EventVersion,
    /// The order.
    pub order_id: String,
    /// The gateway's refund id.
    pub refund_id: String,
    /// The amount refunded.
    #[serde(with = "crate::money")]
    #[schemars(with = "f64")]
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    /// The customer's account id.
    pub user_id: String,
    /// For the refund notice; personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Tracing and idempotency.
    pub metadata: Metadata,
}

impl Detail for RefundCompleted {
    const DETAIL_TYPE: &'static str = detail_types::REFUND_COMPLETED;
    const SOURCE: &'static str = sources::PAYMENTS;
    const CURRENT_VERSION: EventVersion = EventVersion::new(1, 1);
    const SUPPORTED_MAJORS: &'static [u32] = &[1];
}

/// Why a refund was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundFailureReason {
    /// The order was never captured: nothing to refund.
    NotPaid,
    /// The customer is not eligible for refunds.
    NotEligible,
    /// The payment gateway declined the refund.
    Declined,
}

/// `RefundFailed`: the saga step after an out-of-stock order that could not be refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundFailed {
    /// `1.x`.
    pub event_version: EventVersion,
    /// The order.
    pub order_id: String,
    /// The amount that was due.
    #[serde(with = "crate::money")]
    #[schemars(with = "f64")]
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    /// Why.
    pub reason: RefundFailureReason,
    /// The gateway's or the consumer's explanation.
    pub message: String,
    /// Tracing and idempotency.
    pub metadata: Metadata,
}

impl Detail for RefundFailed {
    const DETAIL_TYPE: &'static str = detail_types::REFUND_FAILED;
    const SOURCE: &'static str = sources::PAYMENTS;
    const CURRENT_VERSION: EventVersion = EventVersion::new(1, 1);
    const SUPPORTED_MAJORS: &'static [u32] = &[1];
}

/// Any event of the system, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    /// See [`OrderCreated`].
    OrderCreated(OrderCreated),
    /// See [`InventoryReserved`].
    InventoryReserved(InventoryReserved),
    /// See [`InventoryOutOfStock`].
    InventoryOutOfStock(InventoryOutOfStock),
    /// See [`RefundCompleted`].
    RefundCompleted(RefundCompleted),
    /// See [`RefundFailed`].
    RefundFailed(RefundFailed),
}

impl DomainEvent {
    /// Decode a detail by its detail-type.
    pub fn from_detail(detail_type: &str, detail: &Value) -> Result<Self, ContractError> {
        Ok(match detail_type {
            detail_types::ORDER_CREATED => Self::OrderCreated(OrderCreated::decode(detail)?),
            detail_types::INVENTORY_RESERVED => {
                Self::InventoryReserved(InventoryReserved::decode(detail)?)
            }
            detail_types::INVENTORY_OUT_OF_STOCK => {
                Self::InventoryOutOfStock(InventoryOutOfStock::decode(detail)?)
            }
            detail_types::REFUND_COMPLETED => {
                Self::RefundCompleted(RefundCompleted::decode(detail)?)
            }
            detail_types::REFUND_FAILED => Self::RefundFailed(RefundFailed::decode(detail)?),
            other => return Err(ContractError::UnknownDetailType(other.to_owned())),
        })
    }

    /// The envelope's detail-type.
    pub fn detail_type(&self) -> &'static str {
        match self {
            Self::OrderCreated(_) => OrderCreated::DETAIL_TYPE,
            Self::InventoryReserved(_) => InventoryReserved::DETAIL_TYPE,
            Self::InventoryOutOfStock(_) => InventoryOutOfStock::DETAIL_TYPE,
            Self::RefundCompleted(_) => RefundCompleted::DETAIL_TYPE,
            Self::RefundFailed(_) => RefundFailed::DETAIL_TYPE,
        }
    }

    /// The `source` that publishes events of `detail_type`, when the contract knows it.
    pub fn source_of(detail_type: &str) -> Option<&'static str> {
        [
            (OrderCreated::DETAIL_TYPE, OrderCreated::SOURCE),
            (InventoryReserved::DETAIL_TYPE, InventoryReserved::SOURCE),
            (
                InventoryOutOfStock::DETAIL_TYPE,
                InventoryOutOfStock::SOURCE,
            ),
            (RefundCompleted::DETAIL_TYPE, RefundCompleted::SOURCE),
            (RefundFailed::DETAIL_TYPE, RefundFailed::SOURCE),
        ]
        .into_iter()
        .find_map(|(t, source)| (t == detail_type).then_some(source))
    }

    /// The envelope's source.
    pub fn source(&self) -> &'static str {
        match self {
            Self::OrderCreated(_) => OrderCreated::SOURCE,
            Self::InventoryReserved(_) => InventoryReserved::SOURCE,
            Self::InventoryOutOfStock(_) => InventoryOutOfStock::SOURCE,
            Self::RefundCompleted(_) => RefundCompleted::SOURCE,
            Self::RefundFailed(_) => RefundFailed::SOURCE,
        }
    }

    /// Tracing and idempotency fields.
    pub fn metadata(&self) -> &Metadata {
        match self {
            Self::OrderCreated(e) => &e.metadata,
            Self::InventoryReserved(e) => &e.metadata,
            Self::InventoryOutOfStock(e) => &e.metadata,
            Self::RefundCompleted(e) => &e.metadata,
            Self::RefundFailed(e) => &e.metadata,
        }
    }

    /// The order the event is about.
    pub fn order_id(&self) -> &str {
        match self {
            Self::OrderCreated(e) => &e.order.order_id,
            Self::InventoryReserved(e) => &e.order_id,
            Self::InventoryOutOfStock(e) => &e.order_id,
            Self::RefundCompleted(e) => &e.order_id,
            Self::RefundFailed(e) => &e.order_id,
        }
    }

    /// The detail as JSON, ready for `PutEvents`.
    pub fn to_detail(&self) -> Value {
        let value = match self {
            Self::OrderCreated(e) => serde_json::to_value(e),
            Self::InventoryReserved(e) => serde_json::to_value(e),
            Self::InventoryOutOfStock(e) => serde_json::to_value(e),
            Self::RefundCompleted(e) => serde_json::to_value(e),
            Self::RefundFailed(e) => serde_json::to_value(e),
        };
        value.expect("contract types always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v2_order() -> Value {
        json!({
            "eventVersion": "2.0",
            "order": {"orderId": "ord-123", "totalAmount": 399.98, "currency": "USD",
                      "items": [{"sku": "sku-abc", "quantity": 2, "price": 199.99}], "channel": "WEB"},
            "customer": {"userId": "usr-42", "isRefundEligible": false},
            "payment": {"method": "CARD", "status": "PAID"},
            "metadata": {"eventId": "e-1", "createdAt": "2026-01-22T11:45:00Z", "correlationId": "req-7f9c"}
        })
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let mut detail = v2_order();
        detail["order"]["giftWrap"] = json!(true);
        detail["newTopLevel"] = json!({"x": 1});
        let e = OrderCreated::decode(&detail).unwrap();
        assert_eq!(e.order.order_id, "ord-123");
        assert!(!e.is_refund_eligible());
    }

    #[test]
    fn a_newer_minor_of_a_known_major_is_accepted() {
        let mut detail = v2_order();
        detail["eventVersion"] = json!("2.7");
        assert_eq!(
            OrderCreated::decode(&detail).unwrap().event_version,
            EventVersion::new(2, 7)
        );
    }

    #[test]
    fn an_unknown_major_is_rejected_as_unsupported() {
        let mut detail = v2_order();
        detail["eventVersion"] = json!("3.0");
        let err = OrderCreated::decode(&detail).unwrap_err();
        assert_eq!(err.code(), "UnsupportedEventVersion");
        assert!(err.to_string().contains("3.0"), "{err}");
    }

    #[test]
    fn missing_or_unreadable_versions_are_typed_errors() {
        let mut detail = v2_order();
        detail.as_object_mut().unwrap().remove("eventVersion");
        assert!(matches!(
            OrderCreated::decode(&detail),
            Err(ContractError::MissingVersion { .. })
        ));
        detail["eventVersion"] = json!("two");
        assert!(matches!(
            OrderCreated::decode(&detail),
            Err(ContractError::BadVersion { .. })
        ));
    }

    #[test]
    fn a_known_version_with_wrong_fields_is_malformed() {
        let mut detail = v2_order();
        detail["order"]["items"] = json!("none");
        assert!(matches!(
            OrderCreated::decode(&detail),
            Err(ContractError::Malformed { .. })
        ));
    }

    #[test]
    fn v1_defaults_are_eligible_and_unknown_channel() {
        let detail = json!({
            "eventVersion": "1.0",
            "order": {"orderId": "ord-1", "totalAmount": 10, "currency": "EUR",
                      "items": [{"sku": "s", "quantity": 1, "price": 10}]},
            "customer": {"userId": "u"},
            "payment": {"method": "CARD", "status": "PAID"},
            "metadata": {"createdAt": "2026-01-22T11:45:00Z", "correlationId": "c"}
        });
        let e = OrderCreated::decode(&detail).unwrap();
        assert!(e.is_refund_eligible());
        assert_eq!(e.channel(), Channel::UNKNOWN);
        assert_eq!(e.metadata.event_id, None);
    }

    #[test]
    fn unknown_detail_types_are_rejected() {
        assert_eq!(
            DomainEvent::from_detail("OrderShipped", &json!({})).unwrap_err(),
            ContractError::UnknownDetailType("OrderShipped".into())
        );
    }
}
