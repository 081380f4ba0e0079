//! The HTTP payment gateway against a Stripe-style server on loopback (wiremock): what it sends,
//! and how each kind of answer maps to a refund result or a port error.

use std::collections::HashMap;
use std::time::Duration;

use ecomm_adapters::HttpPaymentGateway;
use ecomm_ports::{PaymentGateway as _, PortError, RefundRequest, RefundResult};
use serde_json::json;
use wiremock::matchers::{bearer_token, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const API_KEY: &str = "sk_test_123";
const IDEMPOTENCY_KEY: &str = "refund#ord-123";

fn request() -> RefundRequest {
    RefundRequest {
        order_id: "ord-123".to_owned(),
        amount: "599.99".parse().unwrap(),
        currency: "USD".to_owned(),
    }
}

fn gateway(server: &MockServer, timeout: Duration) -> HttpPaymentGateway {
    HttpPaymentGateway::new(format!("{}/v1/", server.uri()), API_KEY, timeout).unwrap()
}

/// A server that answers every refund with `response`.
async fn server_answering(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

async fn refund_with(response: ResponseTemplate) -> Result<RefundResult, PortError> {
    let server = server_answering(response).await;
    gateway(&server, Duration::from_secs(5))
        .refund(&request(), IDEMPOTENCY_KEY)
        .await
}

/// The form fields of a request body, decoded.
fn form(request: &Request) -> HashMap<String, String> {
    let body = std::str::from_utf8(&request.body).expect("a text body");
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii escape");
                out.push(u8::from_str_radix(hex, 16).expect("a hex escape"));
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).expect("utf-8 form text")
}

#[tokio::test]
async fn a_refund_is_posted_form_encoded_in_minor_units_with_the_idempotency_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .and(bearer_token(API_KEY))
        .and(header("Idempotency-Key", IDEMPOTENCY_KEY))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "re_1", "status": "succeeded"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let result = gateway(&server, Duration::from_secs(5))
        .refund(&request(), IDEMPOTENCY_KEY)
        .await;

    assert_eq!(
        result,
        Ok(RefundResult::Refunded {
            refund_id: "re_1".to_owned()
        })
    );
    let requests = server.received_requests().await.unwrap();
    let sent = form(&requests[0]);
    assert_eq!(sent["amount"], "59999");
    assert_eq!(sent["currency"], "usd");
    assert_eq!(sent["metadata[order_id]"], "ord-123");
    assert_eq!(sent["reason"], "requested_by_customer");
}

#[tokio::test]
async fn amounts_of_zero_decimal_currencies_are_sent_as_they_are() {
    let server = server_answering(
        ResponseTemplate::new(200).set_body_json(json!({"id": "re_2", "status": "succeeded"})),
    )
    .await;
    let yen = RefundRequest {
        amount: "1500".parse().unwrap(),
        currency: "JPY".to_owned(),
        ..request()
    };

    gateway(&server, Duration::from_secs(5))
        .refund(&yen, IDEMPOTENCY_KEY)
        .await
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    let sent = form(&requests[0]);
    assert_eq!(sent["amount"], "1500");
    assert_eq!(sent["currency"], "jpy");
}

#[tokio::test]
async fn an_amount_finer_than_the_currency_allows_is_refused_without_a_call() {
    let server = server_answering(ResponseTemplate::new(200)).await;
    let odd = RefundRequest {
        amount: "10.005".parse().unwrap(),
        ..request()
    };

    let result = gateway(&server, Duration::from_secs(5))
        .refund(&odd, IDEMPOTENCY_KEY)
        .await;

    assert!(
        matches!(result, Err(PortError::Refused { .. })),
        "{result:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_refund_in_a_success_answer_is_declined() {
    let result = refund_with(ResponseTemplate::new(200).set_body_json(json!({
        "id": "re_3", "status": "failed", "failure_reason": "expired_or_canceled_card"
    })))
    .await;

    assert_eq!(
        result,
        Ok(RefundResult::Declined {
            message: "expired_or_canceled_card".to_owned()
        })
    );
}

#[tokio::test]
async fn a_402_is_declined_with_the_gateway_reason() {
    let result = refund_with(ResponseTemplate::new(402).set_body_json(json!({
        "error": {"code": "charge_disputed", "message": "The charge is disputed."}
    })))
    .await;

    let Ok(RefundResult::Declined { message }) = result else {
        panic!("expected a decline, got {result:?}");
    };
    assert!(message.contains("charge_disputed"), "{message}");
    assert!(message.contains("The charge is disputed."), "{message}");
}

#[tokio::test]
async fn a_server_error_is_unavailable_so_the_invocation_retries() {
    let result = refund_with(ResponseTemplate::new(500).set_body_string("upstream exploded")).await;

    assert!(
        matches!(result, Err(PortError::Unavailable { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn rate_limiting_is_unavailable() {
    let result = refund_with(ResponseTemplate::new(429)).await;

    assert!(
        matches!(result, Err(PortError::Unavailable { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_rejected_api_key_is_refused() {
    let result = refund_with(ResponseTemplate::new(401).set_body_json(json!({
        "error": {"message": "Invalid API Key provided"}
    })))
    .await;

    assert!(
        matches!(result, Err(PortError::Refused { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_unreadable_success_answer_is_unavailable() {
    let result = refund_with(ResponseTemplate::new(200).set_body_string("<html>oops</html>")).await;

    assert!(
        matches!(result, Err(PortError::Unavailable { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_server_slower_than_the_timeout_is_unavailable() {
    let server = server_answering(
        ResponseTemplate::new(200)
            .set_body_json(json!({"id": "re_late", "status": "succeeded"}))
            .set_delay(Duration::from_secs(5)),
    )
    .await;

    let started = std::time::Instant::now();
    let result = gateway(&server, Duration::from_millis(300))
        .refund(&request(), IDEMPOTENCY_KEY)
        .await;

    assert!(
        matches!(result, Err(PortError::Unavailable { .. })),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}
