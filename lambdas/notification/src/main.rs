//! The notification Lambda: AWS adapters wired to the handler.

use std::sync::Arc;

use ecomm_adapters::{self as aws, SesMailer};
use ecomm_ports::Consumer as _;
use ecomm_ports::consumer::ConsumerRuntime;
use lambda_runtime::service_fn;
use notification::Notification;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ecomm_ports::logging::init(Notification::NAME);
    let config = aws::load_config().await;
    let notification = Notification::new(Arc::new(SesMailer::from_env(&config)?));
    let runtime = ConsumerRuntime::new(notification, aws::consumer_deps(&config)?);
    let runtime = &runtime;
    lambda_runtime::run(service_fn(move |event| runtime.handle_lambda(event))).await
}
