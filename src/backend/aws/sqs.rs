//! The DLQs: counters, receive, batch delete and visibility changes with per-entry outcomes,
//! purge, and the age of the oldest message from CloudWatch.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_sqs::error::SdkError;
use aws_sdk_sqs::operation::change_message_visibility_batch::ChangeMessageVisibilityBatchError;
use aws_sdk_sqs::operation::delete_message_batch::DeleteMessageBatchError;
use aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesError;
use aws_sdk_sqs::operation::get_queue_url::GetQueueUrlError;
use aws_sdk_sqs::operation::purge_queue::PurgeQueueError;
use aws_sdk_sqs::operation::receive_message::ReceiveMessageError;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName,
};
use chrono::{DateTime, Utc};
use ecomm_events::{AttributeValue, MessageAttributes};

use super::AwsBackend;
use super::errors::{BatchFailure, classify, per_entry};
use crate::backend::{Attributes, BackendError, EntryOutcome, Message, QueueRef, QueueStats};

/// `QueueNotFound` when the SDK's typed error says the queue does not exist, else classified.
fn queue_error<E>(
    context: &str,
    queue: &str,
    err: &SdkError<E, aws_sdk_sqs::config::http::HttpResponse>,
    does_not_exist: impl Fn(&E) -> bool,
) -> BackendError
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    if err.as_service_error().is_some_and(does_not_exist) {
        BackendError::QueueNotFound(queue.to_owned())
    } else {
        classify(context, err)
    }
}

impl AwsBackend {
    pub(super) async fn queue_ref(&self, arn: &str) -> Result<QueueRef, BackendError> {
        let parts: Vec<&str> = arn.split(':').collect();
        let (Some(account), Some(name)) = (parts.get(4), parts.get(5)) else {
            return Err(BackendError::Other(format!(
                "{arn} is not an SQS queue ARN"
            )));
        };
        let url = self
            .sqs
            .get_queue_url()
            .queue_name(*name)
            .queue_owner_aws_account_id(*account)
            .send()
            .await
            .map_err(|e| {
                queue_error(
                    &format!("while looking up {arn}"),
                    arn,
                    &e,
                    GetQueueUrlError::is_queue_does_not_exist,
                )
            })?;
        Ok(QueueRef {
            name: (*name).to_owned(),
            arn: arn.to_owned(),
            url: url.queue_url().unwrap_or_default().to_owned(),
            records: None,
        })
    }

    /// The `deadLetterTargetArn` of the queue's `RedrivePolicy`, if it has one.
    pub(super) async fn redrive_dlq(
        &self,
        queue: &QueueRef,
    ) -> Result<Option<String>, BackendError> {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(&queue.url)
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(|e| {
                queue_error(
                    &format!("while reading {}'s redrive policy", queue.name),
                    &queue.name,
                    &e,
                    GetQueueAttributesError::is_queue_does_not_exist,
                )
            })?;
        let policy = attrs
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::RedrivePolicy));
        Ok(policy
            .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
            .and_then(|p| p.get("deadLetterTargetArn")?.as_str().map(str::to_owned)))
    }

    pub(super) async fn stats(&self, queue: &QueueRef) -> Result<QueueStats, BackendError> {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(&queue.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| {
                queue_error(
                    &format!("while reading {}", queue.name),
                    &queue.name,
                    &e,
                    GetQueueAttributesError::is_queue_does_not_exist,
                )
            })?;
        let number = |name: QueueAttributeName| {
            attrs
                .attributes()
                .and_then(|a| a.get(&name))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok(QueueStats {
            visible: number(QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: number(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            oldest_sent: None,
            records: None,
        })
    }

    pub(super) async fn oldest_message_sent(&self, queue: &QueueRef) -> Option<DateTime<Utc>> {
        // ApproximateAgeOfOldestMessage is a CloudWatch metric, not a queue attribute.
        let now = aws_sdk_cloudwatch::primitives::DateTime::from(std::time::SystemTime::now());
        let start = aws_sdk_cloudwatch::primitives::DateTime::from_secs(now.secs() - 900);
        self.cloudwatch
            .get_metric_statistics()
            .namespace("AWS/SQS")
            .metric_name("ApproximateAgeOfOldestMessage")
            .dimensions(
                aws_sdk_cloudwatch::types::Dimension::builder()
                    .name("QueueName")
                    .value(&queue.name)
                    .build(),
            )
            .start_time(start)
            .end_time(now)
            .period(60)
            .statistics(aws_sdk_cloudwatch::types::Statistic::Maximum)
            .send()
            .await
            .ok()
            .and_then(|r| {
                r.datapoints()
                    .iter()
                    .max_by_key(|d| {
                        d.timestamp()
                            .map(aws_sdk_cloudwatch::primitives::DateTime::secs)
                    })
                    .and_then(aws_sdk_cloudwatch::types::Datapoint::maximum)
            })
            .and_then(|age| {
                #[allow(
                    clippy::cast_possible_truncation,
                    reason = "an age in seconds, far below i64::MAX"
                )]
                chrono::Duration::try_seconds(age.max(0.0) as i64)
            })
            .map(|age| Utc::now() - age)
    }

    pub(super) async fn receive_messages(
        &self,
        queue: &QueueRef,
        max: u8,
        visibility_s: u32,
        wait_s: u8,
        asked: Attributes,
    ) -> Result<Vec<Message>, BackendError> {
        let names = match asked {
            Attributes::All => vec!["All".to_owned()],
            Attributes::Identifying => ecomm_events::dlq::IDENTIFYING_ATTRIBUTES
                .map(str::to_owned)
                .to_vec(),
        };
        let request = self
            .sqs
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(i32::from(max))
            .visibility_timeout(i32::try_from(visibility_s).unwrap_or(i32::MAX))
            .wait_time_seconds(i32::from(wait_s))
            .set_message_attribute_names(Some(names))
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount);
        // A long poll answers after its wait: the read timeout starts counting after it.
        let response = if wait_s == 0 {
            request.send().await
        } else {
            let patient =
                super::timeouts(self.read_timeout + Duration::from_secs(u64::from(wait_s)));
            request
                .customize()
                .config_override(aws_sdk_sqs::config::Builder::default().timeout_config(patient))
                .send()
                .await
        };
        let response = response.map_err(|e| {
            queue_error(
                &format!("while receiving from {}", queue.name),
                &queue.name,
                &e,
                ReceiveMessageError::is_queue_does_not_exist,
            )
        })?;
        // Moved out of the answer, not copied: bodies are kilobytes each.
        Ok(response
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let system = m.attributes.as_ref();
                let sent = system
                    .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                    .and_then(|v| v.parse::<i64>().ok())
                    .and_then(DateTime::from_timestamp_millis);
                let receive_count = system
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                Message {
                    message_id: m.message_id.unwrap_or_default(),
                    receipt_handle: m.receipt_handle.unwrap_or_default(),
                    body: m.body.unwrap_or_default(),
                    attributes: attributes(m.message_attributes.unwrap_or_default()),
                    sent,
                    receive_count,
                }
            })
            .collect())
    }

    pub(super) async fn delete_batch(
        &self,
        queue: &QueueRef,
        receipts: &[String],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        let entries = receipts
            .iter()
            .enumerate()
            .map(|(i, r)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(r)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BackendError::Other(e.to_string()))?;
        let response = self
            .sqs
            .delete_message_batch()
            .queue_url(&queue.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| {
                queue_error(
                    &format!("while deleting from {}", queue.name),
                    &queue.name,
                    &e,
                    DeleteMessageBatchError::is_queue_does_not_exist,
                )
            })?;
        let ok = response
            .successful()
            .iter()
            .map(aws_sdk_sqs::types::DeleteMessageBatchResultEntry::id);
        Ok(per_entry(
            receipts.len(),
            ok,
            response.failed().iter().map(sqs_failure),
        ))
    }

    pub(super) async fn change_visibility_batch(
        &self,
        queue: &QueueRef,
        receipts: &[String],
        seconds: u32,
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        let entries = receipts
            .iter()
            .enumerate()
            .map(|(i, r)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(r)
                    .visibility_timeout(i32::try_from(seconds).unwrap_or(i32::MAX))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BackendError::Other(e.to_string()))?;
        let response = self
            .sqs
            .change_message_visibility_batch()
            .queue_url(&queue.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| {
                queue_error(
                    &format!("while changing visibility in {}", queue.name),
                    &queue.name,
                    &e,
                    ChangeMessageVisibilityBatchError::is_queue_does_not_exist,
                )
            })?;
        let ok = response
            .successful()
            .iter()
            .map(aws_sdk_sqs::types::ChangeMessageVisibilityBatchResultEntry::id);
        Ok(per_entry(
            receipts.len(),
            ok,
            response.failed().iter().map(sqs_failure),
        ))
    }

    pub(super) async fn purge_queue(&self, queue: &QueueRef) -> Result<(), BackendError> {
        self.sqs
            .purge_queue()
            .queue_url(&queue.url)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(PurgeQueueError::is_purge_queue_in_progress)
                {
                    BackendError::PurgeInProgress(format!(
                        "{} was purged less than 60 s ago; SQS allows one purge per minute",
                        queue.name
                    ))
                } else {
                    queue_error(
                        &format!("while purging {}", queue.name),
                        &queue.name,
                        &e,
                        PurgeQueueError::is_queue_does_not_exist,
                    )
                }
            })?;
        Ok(())
    }
}

fn attributes(raw: HashMap<String, MessageAttributeValue>) -> MessageAttributes {
    let mut out = MessageAttributes::new();
    for (name, value) in raw {
        let converted = if value.data_type.starts_with("Binary") {
            AttributeValue::binary(
                value
                    .binary_value
                    .as_ref()
                    .map(aws_sdk_sqs::primitives::Blob::as_ref)
                    .unwrap_or_default(),
            )
        } else if value.data_type.starts_with("Number") {
            AttributeValue::number(value.string_value.unwrap_or_default())
        } else {
            AttributeValue::string(value.string_value.unwrap_or_default())
        };
        out.insert(name, converted);
    }
    out
}

/// An SQS batch entry's failure, as [`per_entry`] reads it.
pub(super) fn sqs_failure(f: &aws_sdk_sqs::types::BatchResultErrorEntry) -> BatchFailure<'_> {
    BatchFailure {
        id: f.id(),
        code: f.code(),
        message: f.message(),
        sender_fault: f.sender_fault(),
    }
}
