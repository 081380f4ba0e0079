//! The order producer Lambda: AWS adapters wired to the handler.

use std::sync::Arc;

use ecomm_adapters::{self as aws, EventBridgePublisher};
use ecomm_ports::{RandomIds, SystemClock};
use lambda_runtime::{LambdaEvent, service_fn};
use order_producer::{NAME, OrderProducer};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ecomm_ports::logging::init(NAME);
    let config = aws::load_config().await;
    let publisher = EventBridgePublisher::from_env(&config)?;
    let producer = OrderProducer::new(
        Arc::new(publisher),
        Arc::new(SystemClock),
        Arc::new(RandomIds),
    )
    .with_tenant(std::env::var("TENANT_ID").ok());
    let producer = &producer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        Ok::<_, lambda_runtime::Error>(producer.handle_http(event.payload).await)
    }))
    .await
}
