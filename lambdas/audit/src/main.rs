//! The audit Lambda: the DynamoDB trail wired to the handler, behind an SQS event source
//! mapping with `ReportBatchItemFailures`.

use std::sync::Arc;

use audit::{Audit, NAME, QueueMessage};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use ecomm_adapters::{self as aws, DynamoAuditTrail};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ecomm_ports::logging::init(NAME);
    let config = aws::load_config().await;
    let audit = Audit::new(Arc::new(DynamoAuditTrail::from_env(&config)?));
    let audit = &audit;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let messages: Vec<QueueMessage> = event
            .payload
            .records
            .into_iter()
            .map(|r| QueueMessage {
                message_id: r.message_id.unwrap_or_default(),
                body: r.body.unwrap_or_default(),
            })
            .collect();
        let outcome = audit.handle_batch(&messages).await;
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = outcome
            .failed_message_ids()
            .into_iter()
            .map(|id| {
                let mut failure = BatchItemFailure::default();
                id.clone_into(&mut failure.item_identifier);
                failure
            })
            .collect();
        Ok::<_, lambda_runtime::Error>(response)
    }))
    .await
}
