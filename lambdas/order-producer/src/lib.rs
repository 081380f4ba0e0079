//! The order producer: validates an order posted over HTTP (API Gateway HTTP API or a Function
//! URL, payload format 2.0) and publishes `OrderCreated` v2.
//!
//! - 400 with every field-level error when the order is invalid;
//! - 202 with `orderId`, `eventId`, `correlationId` once the bus accepted the event;
//! - 503 when `PutEvents` failed or rejected the entry: nothing is claimed published, and the
//!   client may retry. A client-chosen `orderId` makes that retry safe: the event id is derived
//!   from it, so consumers see the same event twice and process it once.

use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderValue, Method};
use base64::Engine as _;
use ecomm_events::events::Detail as _;
use ecomm_events::{
    DomainEvent, FieldError, Metadata, Order, OrderCreated, Outcome, ValidOrder, detail_types,
    validate_order_request,
};
use ecomm_ports::ids::derived_event_id;
use ecomm_ports::{Clock, EventPublisher, IdGenerator};
use serde_json::{Value, json};

/// This function's name: its log `service`.
pub const NAME: &str = ecomm_events::services::ORDER_PRODUCER;
/// The request header that carries the correlation id.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// The answer to a submitted order.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// HTTP status: 202, 400, 405 or 503.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
    /// The correlation id used (echoed in the `x-correlation-id` response header).
    pub correlation_id: String,
    /// The event published, on 202.
    pub published: Option<DomainEvent>,
}

/// The producer over its ports.
pub struct OrderProducer {
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    tenant: Option<String>,
}

fn usable_correlation_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

impl OrderProducer {
    /// Wire the producer.
    pub fn new(
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            publisher,
            clock,
            ids,
            tenant: None,
        }
    }

    /// The producer of one tenant's account (`TENANT_ID`): its events carry `tenantId`. None,
    /// or the default tenant's name, leaves them without, as before tenants existed.
    #[must_use]
    pub fn with_tenant(mut self, tenant: Option<String>) -> Self {
        self.tenant = tenant.filter(|t| !t.is_empty() && t != ecomm_events::DEFAULT_TENANT);
        self
    }

    /// Validate and publish one order (the raw request body). `correlation_id` is the caller's,
    /// if it sent a usable one; otherwise one is generated.
    pub async fn submit(&self, body: &[u8], correlation_id: Option<&str>) -> Response {
        let started = Instant::now();
        let correlation_id = correlation_id
            .filter(|c| usable_correlation_id(c))
            .map_or_else(|| self.ids.uuid(), str::to_owned);
        let span = tracing::info_span!("invocation", service = NAME, correlation_id = %correlation_id, order_id = tracing::field::Empty);
        let _entered = span.enter();
        tracing::info!("order received");
        let duration_ms = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

        let order = match validate_order_request(body) {
            Ok(order) => order,
            Err(errors) => {
                tracing::info!(
                    outcome = Outcome::Rejected.as_str(),
                    duration_ms = duration_ms(),
                    error = summary(&errors),
                    "order rejected"
                );
                return Response {
                    status: 400,
                    body: json!({"message": "the order is invalid", "errors": errors}),
                    correlation_id,
                    published: None,
                };
            }
        };
        let event = self.order_created(order, &correlation_id);
        let DomainEvent::OrderCreated(created) = &event else {
            unreachable!("built just above")
        };
        let order_id = created.order.order_id.clone();
        let event_id = created.metadata.event_id.clone().unwrap_or_default();
        span.record("order_id", order_id.as_str());

        if let Err(error) = self.publisher.publish(std::slice::from_ref(&event)).await {
            tracing::error!(outcome = Outcome::Failed.as_str(), duration_ms = duration_ms(), error = %error, "order not published");
            return Response {
                status: 503,
                body: json!({
                    "message": "the order could not be published; nothing was recorded, retry later",
                    "orderId": order_id,
                    "retryable": true,
                }),
                correlation_id,
                published: None,
            };
        }
        tracing::info!(outcome = Outcome::Published.as_str(), event_id = %event_id, detail_type = detail_types::ORDER_CREATED, "published OrderCreated");
        tracing::info!(
            outcome = Outcome::Succeeded.as_str(),
            duration_ms = duration_ms(),
            "order accepted"
        );
        Response {
            status: 202,
            body: json!({"orderId": order_id, "eventId": event_id, "correlationId": correlation_id}),
            correlation_id,
            published: Some(event),
        }
    }

    fn order_created(&self, order: ValidOrder, correlation_id: &str) -> DomainEvent {
        let ValidOrder {
            order_id,
            customer,
            items,
            currency,
            total_amount,
            channel,
            payment,
        } = order;
        // A client-chosen order id makes a retried POST publish the same event id.
        // Two tenants may choose the same order id: their events must not share an id.
        let event_id = match (&order_id, &self.tenant) {
            (Some(id), None) => derived_event_id(NAME, id, detail_types::ORDER_CREATED),
            (Some(id), Some(tenant)) => {
                derived_event_id(NAME, &format!("{tenant}#{id}"), detail_types::ORDER_CREATED)
            }
            (None, _) => self.ids.uuid(),
        };
        let order_id =
            order_id.unwrap_or_else(|| format!("ord-{}", &self.ids.uuid().replace('-', "")[..12]));
        DomainEvent::OrderCreated(OrderCreated {
            event_version: OrderCreated::CURRENT_VERSION,
            order: Order {
                order_id,
                total_amount,
                currency,
                items,
                channel: Some(channel),
            },
            customer,
            payment,
            metadata: Metadata {
                event_id: Some(event_id),
                correlation_id: correlation_id.to_owned(),
                causation_id: None,
                created_at: self.clock.now(),
                tenant_id: self.tenant.clone(),
            },
        })
    }

    /// The Lambda entry point: API Gateway HTTP API / Function URL, payload format 2.0.
    pub async fn handle_http(&self, request: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        let correlation = request
            .headers
            .get(CORRELATION_HEADER)
            .and_then(|v| v.to_str().ok());
        if request.request_context.http.method != Method::POST {
            let correlation_id = correlation
                .filter(|c| usable_correlation_id(c))
                .map_or_else(|| self.ids.uuid(), str::to_owned);
            return http_response(&Response {
                status: 405,
                body: json!({"message": "only POST is supported"}),
                correlation_id,
                published: None,
            });
        }
        let body = match (request.body.as_deref(), request.is_base64_encoded) {
            (None, _) => Vec::new(),
            (Some(text), false) => text.as_bytes().to_vec(),
            (Some(text), true) => base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap_or_default(),
        };
        http_response(&self.submit(&body, correlation).await)
    }
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{} {}", e.field, e.code))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The HTTP response for a [`Response`].
pub fn http_response(response: &Response) -> ApiGatewayV2httpResponse {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(value) = HeaderValue::from_str(&response.correlation_id) {
        headers.insert(CORRELATION_HEADER, value);
    }
    let mut http = ApiGatewayV2httpResponse::default();
    http.status_code = i64::from(response.status);
    http.headers = headers;
    http.body = Some(Body::Text(response.body.to_string()));
    http
}
