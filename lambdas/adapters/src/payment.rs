//! [`PaymentGateway`] over a Stripe-style HTTP API: `POST {base}/refunds` with an
//! `Idempotency-Key` header, form-encoded, amounts in minor units.

use std::time::Duration;

use async_trait::async_trait;
use ecomm_events::money::to_minor_units;
use reqwest::StatusCode;
use serde::Deserialize;

use ecomm_ports::{PaymentGateway, PortError, RefundRequest, RefundResult};

const SERVICE: &str = "payment gateway";

/// The HTTP client of the payment provider.
#[derive(Debug, Clone)]
pub struct HttpPaymentGateway {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

impl HttpPaymentGateway {
    /// Talk to `base_url` (e.g. `https://api.stripe.com/v1`) with `api_key`; each call times out
    /// after `timeout`.
    pub fn new(
        base_url: impl Into<String>,
        api_key: impl Into<String>,
        timeout: Duration,
    ) -> Result<Self, PortError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| PortError::Refused {
                service: SERVICE,
                message: e.to_string(),
            })?;
        Ok(Self {
            http,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            api_key: api_key.into(),
        })
    }
}

#[derive(Deserialize)]
struct RefundBody {
    id: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    failure_reason: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

fn unavailable(message: impl Into<String>) -> PortError {
    PortError::Unavailable {
        service: SERVICE,
        message: message.into(),
    }
}

#[async_trait]
impl PaymentGateway for HttpPaymentGateway {
    /// 2xx: refunded (or declined if the refund's status is `failed`/`canceled`); 400/402:
    /// declined; 401/403: refused (configuration); 409, 429, 5xx and transport errors:
    /// unavailable, so the invocation is retried with the same idempotency key.
    async fn refund(
        &self,
        request: &RefundRequest,
        idempotency_key: &str,
    ) -> Result<RefundResult, PortError> {
        let minor = to_minor_units(request.amount, &request.currency).ok_or_else(|| {
            PortError::Refused {
                service: SERVICE,
                message: format!(
                    "{} {} is not a valid amount",
                    request.amount, request.currency
                ),
            }
        })?;
        let form = [
            ("amount", minor.to_string()),
            ("currency", request.currency.to_ascii_lowercase()),
            ("reason", "requested_by_customer".to_owned()),
            ("metadata[order_id]", request.order_id.clone()),
        ];
        let response = self
            .http
            .post(format!("{}/refunds", self.base_url))
            .bearer_auth(&self.api_key)
            .header("Idempotency-Key", idempotency_key)
            .form(&form)
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        if status.is_success() {
            let body: RefundBody = serde_json::from_str(&text)
                .map_err(|e| unavailable(format!("unreadable refund response ({e}): {text}")))?;
            return Ok(match body.status.as_deref() {
                Some("failed" | "canceled") => RefundResult::Declined {
                    message: body
                        .failure_reason
                        .unwrap_or_else(|| format!("refund {} failed", body.id)),
                },
                _ => RefundResult::Refunded { refund_id: body.id },
            });
        }
        let detail = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| {
                format!(
                    "{}: {}",
                    b.error.code.unwrap_or_default(),
                    b.error.message.unwrap_or_default()
                )
            })
            .unwrap_or(text);
        match status {
            StatusCode::BAD_REQUEST | StatusCode::PAYMENT_REQUIRED => {
                Ok(RefundResult::Declined { message: detail })
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(PortError::Refused {
                service: SERVICE,
                message: format!("{status}: {detail}"),
            }),
            _ => Err(unavailable(format!("{status}: {detail}"))),
        }
    }
}
