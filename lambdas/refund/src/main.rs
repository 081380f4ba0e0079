//! The refund Lambda: AWS adapters wired to the handler.

use std::sync::Arc;

use ecomm_adapters::{self as aws, DynamoRefundStore, HttpPaymentGateway};
use ecomm_ports::Consumer as _;
use ecomm_ports::consumer::ConsumerRuntime;
use lambda_runtime::service_fn;
use refund::Refund;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ecomm_ports::logging::init(Refund::NAME);
    let config = aws::load_config().await;
    let gateway = HttpPaymentGateway::from_env()?;
    let refund = Refund::new(
        Arc::new(gateway),
        Arc::new(DynamoRefundStore::from_env(&config)?),
    );
    let runtime = ConsumerRuntime::new(refund, aws::consumer_deps(&config)?);
    let runtime = &runtime;
    lambda_runtime::run(service_fn(move |event| runtime.handle_lambda(event))).await
}
