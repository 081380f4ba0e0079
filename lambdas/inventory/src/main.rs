//! The inventory Lambda: AWS adapters wired to the handler.

use std::sync::Arc;

use ecomm_adapters::{self as aws, DynamoStockStore};
use ecomm_ports::Consumer as _;
use ecomm_ports::consumer::ConsumerRuntime;
use inventory::Inventory;
use lambda_runtime::service_fn;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ecomm_ports::logging::init(Inventory::NAME);
    let config = aws::load_config().await;
    let inventory = Inventory::new(Arc::new(DynamoStockStore::from_env(&config)?));
    let runtime = ConsumerRuntime::new(inventory, aws::consumer_deps(&config)?);
    let runtime = &runtime;
    lambda_runtime::run(service_fn(move |event| runtime.handle_lambda(event))).await
}
