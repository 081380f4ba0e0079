//! The order producer over in-memory ports, through its HTTP entry point.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderValue, Method};
use ecomm_events::{DomainEvent, EventVersion};
use ecomm_ports::RandomIds;
use ecomm_ports::memory::TestBed;
use order_producer::OrderProducer;
use serde_json::{Value, json};

fn producer(bed: &TestBed) -> OrderProducer {
    OrderProducer::new(
        bed.publisher.clone(),
        bed.clock.clone(),
        Arc::new(RandomIds),
    )
}

fn order() -> Value {
    json!({
        "customer": {"userId": "usr-42", "email": "ada@example.com"},
        "items": [{"sku": "sku-abc", "quantity": 2, "price": 199.99}],
        "currency": "USD",
        "totalAmount": 399.98,
        "channel": "MOBILE",
        "payment": {"method": "CARD", "status": "PAID"},
        "isRefundEligible": false
    })
}

fn post(body: &Value, correlation: Option<&str>) -> ApiGatewayV2httpRequest {
    let mut request = ApiGatewayV2httpRequest::default();
    request.request_context.http.method = Method::POST;
    request.body = Some(body.to_string());
    if let Some(c) = correlation {
        request
            .headers
            .insert("x-correlation-id", HeaderValue::from_str(c).unwrap());
    }
    request
}

fn body(response: &ApiGatewayV2httpResponse) -> Value {
    match &response.body {
        Some(Body::Text(text)) => serde_json::from_str(text).unwrap(),
        other => panic!("expected a text body, got {other:?}"),
    }
}

#[tokio::test]
async fn a_valid_order_is_published_as_order_created_v2_and_answered_202() {
    let bed = TestBed::default();
    let response = producer(&bed)
        .handle_http(post(&order(), Some("req-abc")))
        .await;
    assert_eq!(response.status_code, 202);
    assert_eq!(response.headers["x-correlation-id"], "req-abc");
    let answer = body(&response);
    let published = bed.published();
    let [DomainEvent::OrderCreated(created)] = published.as_slice() else {
        panic!("{published:?}")
    };
    assert_eq!(created.event_version, EventVersion::new(2, 1));
    assert_eq!(
        created.metadata.tenant_id, None,
        "the platform's orders: the default tenant"
    );
    assert_eq!(answer["orderId"], created.order.order_id.as_str());
    assert_eq!(
        answer["eventId"],
        created.metadata.event_id.as_deref().unwrap()
    );
    assert_eq!(answer["correlationId"], "req-abc");
    assert_eq!(created.metadata.correlation_id, "req-abc");
    assert_eq!(created.metadata.causation_id, None);
    assert_eq!(created.order.channel.as_ref().unwrap().0, "MOBILE");
    assert_eq!(created.customer.is_refund_eligible, Some(false));
    assert!(created.order.order_id.starts_with("ord-"));
}

#[tokio::test]
async fn an_invalid_order_gets_400_with_field_errors_and_nothing_is_published() {
    let bed = TestBed::default();
    let mut bad = order();
    bad["items"][0]["quantity"] = json!(0);
    bad["currency"] = json!("usd");
    let response = producer(&bed).handle_http(post(&bad, None)).await;
    assert_eq!(response.status_code, 400);
    let answer = body(&response);
    let fields: Vec<&str> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"items[0].quantity"), "{answer}");
    assert!(fields.contains(&"currency"), "{answer}");
    assert!(bed.published().is_empty());
}

#[tokio::test]
async fn a_rejected_put_events_entry_is_a_503_and_nothing_is_claimed_published() {
    let bed = TestBed::default();
    *bed.publisher.reject.lock().unwrap() = true;
    let response = producer(&bed).handle_http(post(&order(), None)).await;
    assert_eq!(response.status_code, 503);
    let answer = body(&response);
    assert_eq!(answer["retryable"], true);
    assert!(
        answer.get("eventId").is_none(),
        "no event id is handed out for an unpublished event"
    );
}

#[tokio::test]
async fn a_correlation_id_is_generated_when_missing_or_unusable() {
    let bed = TestBed::default();
    let response = producer(&bed)
        .handle_http(post(&order(), Some("has spaces and ✓")))
        .await;
    assert_eq!(response.status_code, 202);
    let generated = body(&response)["correlationId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(generated, "has spaces and ✓");
    assert!(!generated.is_empty());
}

#[tokio::test]
async fn a_retried_post_with_a_client_order_id_publishes_the_same_event_id() {
    let bed = TestBed::default();
    let mut with_id = order();
    with_id["orderId"] = json!("ord-client-1");
    let p = producer(&bed);
    let first = body(&p.handle_http(post(&with_id, None)).await);
    let second = body(&p.handle_http(post(&with_id, None)).await);
    assert_eq!(first["orderId"], "ord-client-1");
    assert_eq!(
        first["eventId"], second["eventId"],
        "consumers will see one event twice, and process it once"
    );
}

#[tokio::test]
async fn base64_bodies_are_decoded_and_other_methods_refused() {
    use base64::Engine as _;
    let bed = TestBed::default();
    let mut request = post(&order(), None);
    request.body = Some(base64::engine::general_purpose::STANDARD.encode(order().to_string()));
    request.is_base64_encoded = true;
    assert_eq!(producer(&bed).handle_http(request).await.status_code, 202);

    let mut get = post(&order(), None);
    get.request_context.http.method = Method::GET;
    assert_eq!(producer(&bed).handle_http(get).await.status_code, 405);
}

#[tokio::test]
async fn a_tenants_producer_stamps_its_events_and_its_client_order_ids_do_not_collide() {
    let bed = TestBed::default();
    let mut with_id = order();
    with_id["orderId"] = json!("ord-client-1");
    let platform = body(&producer(&bed).handle_http(post(&with_id, None)).await);
    let tenant = producer(&bed).with_tenant(Some("brand-a".to_owned()));
    let branded = body(&tenant.handle_http(post(&with_id, None)).await);
    assert_ne!(
        platform["eventId"], branded["eventId"],
        "the same order id in two tenants is two events"
    );
    let tenants: Vec<Option<String>> = bed
        .publisher
        .published
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.metadata().tenant_id.clone())
        .collect();
    assert_eq!(tenants, [None, Some("brand-a".to_owned())]);
    // The default tenant's name is no tenant at all.
    let default = producer(&bed).with_tenant(Some(ecomm_events::DEFAULT_TENANT.to_owned()));
    let plain = body(&default.handle_http(post(&with_id, None)).await);
    assert_eq!(plain["eventId"], platform["eventId"]);
}
