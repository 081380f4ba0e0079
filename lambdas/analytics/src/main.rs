//! The analytics Lambda: AWS adapters wired to the handler.

use std::sync::Arc;

use analytics::Analytics;
use ecomm_adapters::{self as aws, DynamoAnalyticsSink};
use ecomm_ports::Consumer as _;
use ecomm_ports::consumer::ConsumerRuntime;
use lambda_runtime::service_fn;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ecomm_ports::logging::init(Analytics::NAME);
    let config = aws::load_config().await;
    let analytics = Analytics::new(Arc::new(DynamoAnalyticsSink::from_env(&config)?));
    let runtime = ConsumerRuntime::new(analytics, aws::consumer_deps(&config)?);
    let runtime = &runtime;
    lambda_runtime::run(service_fn(move |event| runtime.handle_lambda(event))).await
}
