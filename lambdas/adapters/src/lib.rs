//! The ports of `ecomm-ports` implemented with the AWS SDK (and, for the payment gateway, HTTP),
//! as the deployed Lambdas use them: only the Lambdas' `main`s compile this crate (through each
//! function crate's `lambda` feature), never the local stack or the CLI. Each adapter is tested
//! against moto on loopback (`tests/moto.rs`), the payment gateway against a local HTTP mock.

mod dynamodb;
mod eventbridge;
mod payment;
mod ses;

use std::error::Error as StdError;
use std::fmt;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

pub use dynamodb::{
    DynamoAnalyticsSink, DynamoAuditTrail, DynamoIdempotencyStore, DynamoRefundStore,
    DynamoStockStore,
};
pub use eventbridge::EventBridgePublisher;
pub use payment::HttpPaymentGateway;
pub use ses::SesMailer;

use std::sync::Arc;
use std::time::Duration;

pub use aws_config::SdkConfig;

use ecomm_ports::ConsumerDeps;
use ecomm_ports::error_codes::CodeClass;
use ecomm_ports::{PortError, SystemClock};

/// The SDK configuration from the Lambda environment (region, credentials of the execution
/// role).
pub async fn load_config() -> SdkConfig {
    aws_config::load_from_env().await
}

/// What every consumer needs, from `IDEMPOTENCY_TABLE` and `EVENT_BUS_NAME`.
pub fn consumer_deps(config: &SdkConfig) -> Result<ConsumerDeps, MissingEnv> {
    Ok(ConsumerDeps {
        idempotency: Arc::new(DynamoIdempotencyStore::new(
            aws_sdk_dynamodb::Client::new(config),
            env("IDEMPOTENCY_TABLE")?,
        )),
        publisher: Arc::new(EventBridgePublisher::from_env(config)?),
        clock: Arc::new(SystemClock),
    })
}

impl EventBridgePublisher {
    /// Publish to `EVENT_BUS_NAME`.
    pub fn from_env(config: &SdkConfig) -> Result<Self, MissingEnv> {
        Ok(Self::new(
            aws_sdk_eventbridge::Client::new(config),
            env("EVENT_BUS_NAME")?,
        ))
    }
}

impl DynamoStockStore {
    /// Use `STOCK_TABLE`.
    pub fn from_env(config: &SdkConfig) -> Result<Self, MissingEnv> {
        Ok(Self::new(
            aws_sdk_dynamodb::Client::new(config),
            env("STOCK_TABLE")?,
        ))
    }
}

impl DynamoAuditTrail {
    /// Use `AUDIT_TABLE`.
    pub fn from_env(config: &SdkConfig) -> Result<Self, MissingEnv> {
        Ok(Self::new(
            aws_sdk_dynamodb::Client::new(config),
            env("AUDIT_TABLE")?,
        ))
    }
}

impl DynamoRefundStore {
    /// Use `REFUNDS_TABLE`.
    pub fn from_env(config: &SdkConfig) -> Result<Self, MissingEnv> {
        Ok(Self::new(
            aws_sdk_dynamodb::Client::new(config),
            env("REFUNDS_TABLE")?,
        ))
    }
}

impl DynamoAnalyticsSink {
    /// Use `ANALYTICS_TABLE`.
    pub fn from_env(config: &SdkConfig) -> Result<Self, MissingEnv> {
        Ok(Self::new(
            aws_sdk_dynamodb::Client::new(config),
            env("ANALYTICS_TABLE")?,
        ))
    }
}

impl SesMailer {
    /// Send as `SENDER_EMAIL`.
    pub fn from_env(config: &SdkConfig) -> Result<Self, MissingEnv> {
        Ok(Self::new(
            aws_sdk_sesv2::Client::new(config),
            env("SENDER_EMAIL")?,
        ))
    }
}

/// How long one call to the payment gateway may take: well inside the function timeout.
pub const PAYMENT_TIMEOUT: Duration = Duration::from_secs(10);

impl HttpPaymentGateway {
    /// Talk to `PAYMENT_API_URL` with `PAYMENT_API_KEY`.
    pub fn from_env() -> Result<Self, Box<dyn StdError + Send + Sync>> {
        Ok(Self::new(
            env("PAYMENT_API_URL")?,
            env("PAYMENT_API_KEY")?,
            PAYMENT_TIMEOUT,
        )?)
    }
}

/// A required environment variable of a function is missing.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} is not set; the function's Terraform module sets it")]
pub struct MissingEnv(pub &'static str);

/// Read a required environment variable.
pub fn env(name: &'static str) -> Result<String, MissingEnv> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(MissingEnv(name))
}

/// Map an SDK error to a port error: transport failures and throttling are `Unavailable`,
/// everything the service refused is `Refused`.
pub(crate) fn port_error<E, R>(service: &'static str, err: &SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: fmt::Debug,
{
    let message = DisplayErrorContext(err).to_string();
    match err {
        SdkError::ServiceError(e) => {
            let code = e.err().code().unwrap_or_default();
            if CodeClass::of(code).is_transient() {
                PortError::Unavailable { service, message }
            } else {
                PortError::Refused { service, message }
            }
        }
        _ => PortError::Unavailable { service, message },
    }
}
