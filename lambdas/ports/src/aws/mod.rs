//! The ports implemented with the AWS SDK (and, for the payment gateway, HTTP), as the deployed
//! Lambdas use them. Each adapter is tested against moto on loopback (`tests/moto.rs`).

mod dynamodb;
mod eventbridge;
mod payment;
mod ses;

use std::error::Error as StdError;
use std::fmt;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

pub use dynamodb::{
    DynamoAnalyticsSink, DynamoIdempotencyStore, DynamoRefundStore, DynamoStockStore,
};
pub use eventbridge::EventBridgePublisher;
pub use payment::HttpPaymentGateway;
pub use ses::SesMailer;

use crate::ports::PortError;

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

/// Error codes that mean "try again later" on every AWS service we call.
const TRANSIENT_CODES: [&str; 8] = [
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
];

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
            if TRANSIENT_CODES.contains(&code) {
                PortError::Unavailable { service, message }
            } else {
                PortError::Refused { service, message }
            }
        }
        _ => PortError::Unavailable { service, message },
    }
}
