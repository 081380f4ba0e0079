//! Redelivery, each with its per-entry outcome: an asynchronous `Invoke` of the consumer's
//! function, `PutEvents` to a bus, and the direct deliveries to the other target types
//! (`SendMessageBatch`, `PublishBatch`, `StartExecution`).

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use aws_sdk_sns::types::PublishBatchRequestEntry;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use super::AwsBackend;
use super::errors::{BatchFailure, classify, per_entry};
use super::sqs::sqs_failure;
use ecomm_ports::error_codes::CodeClass;

use crate::backend::targets::TargetKind;
use crate::backend::{BackendError, DirectEntry, EntryError, EntryOutcome, QueueRef};

impl AwsBackend {
    pub(super) async fn invoke_event(
        &self,
        function: &str,
        payload: &str,
    ) -> Result<(), BackendError> {
        let response = self
            .lambda
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload.as_bytes()))
            .send()
            .await
            .map_err(|e| classify(&format!("while invoking {function}"), &e))?;
        if response.status_code() == 202 {
            Ok(())
        } else {
            Err(BackendError::Other(format!(
                "{function} answered {} instead of 202 Accepted",
                response.status_code()
            )))
        }
    }

    /// `PutEvents` of envelopes to `bus` (a name, or the ARN of a bus in another account).
    pub(super) async fn put_on_bus(
        &self,
        bus: &str,
        envelopes: &[&serde_json::Value],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        let entries = envelopes
            .iter()
            .map(|e| {
                aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .event_bus_name(bus)
                    .source(e["source"].as_str().unwrap_or_default())
                    .detail_type(e["detail-type"].as_str().unwrap_or_default())
                    // Straight into a `String` (not through `Display`'s formatter): this runs
                    // for every message a redrive puts on the bus.
                    .detail(serde_json::to_string(&e["detail"]).unwrap_or_default())
                    .set_resources(e["resources"].as_array().map(|r| {
                        r.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    }))
                    .build()
            })
            .collect();
        let response = self
            .events
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| classify("while putting events on the bus", &e))?;
        let results = response.entries();
        Ok((0..envelopes.len())
            .map(|i| match results.get(i) {
                Some(entry) if entry.error_code().is_none() && entry.event_id().is_some() => Ok(()),
                Some(entry) => {
                    // An entry failed inside a 200 answer was not put: `InternalFailure` and
                    // `ThrottlingException` say that putting it again may succeed.
                    let code = entry.error_code().unwrap_or("Unknown");
                    let class = CodeClass::of(code);
                    Err(EntryError {
                        message: format!("{code}: {}", entry.error_message().unwrap_or_default()),
                        retryable: class.is_transient(),
                        throttled: class == CodeClass::Throttling,
                    })
                }
                None => Err(EntryError::permanent(
                    "PutEvents returned no result for this entry",
                )),
            })
            .collect())
    }

    /// Deliver to a target that is not a function, as EventBridge would have.
    pub(super) async fn send_direct(
        &self,
        target: &TargetKind,
        entries: &[DirectEntry],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        match target {
            TargetKind::Sqs {
                queue,
                message_group_id,
            } => {
                self.send_to_queue(queue, message_group_id.as_deref(), entries)
                    .await
            }
            TargetKind::Sns { topic_arn } => self.publish(topic_arn, entries).await,
            TargetKind::StepFunctions { state_machine_arn } => Ok(futures::future::join_all(
                entries
                    .iter()
                    .map(|e| self.start_execution(state_machine_arn, e)),
            )
            .await),
            TargetKind::EventBus { bus_arn } => {
                // A bus target gets the event itself: each payload is an envelope.
                let mut envelopes = Vec::new();
                let mut outcomes: Vec<Option<EntryOutcome>> = Vec::new();
                for entry in entries {
                    match serde_json::from_str::<serde_json::Value>(&entry.payload) {
                        Ok(envelope) if envelope.get("detail-type").is_some() => {
                            envelopes.push(envelope);
                            outcomes.push(None);
                        }
                        _ => outcomes.push(Some(Err(EntryError::permanent(
                            "a bus target takes an event, and this payload is not one",
                        )))),
                    }
                }
                let envelopes: Vec<&serde_json::Value> = envelopes.iter().collect();
                let mut put = self.put_on_bus(bus_arn, &envelopes).await?.into_iter();
                Ok(outcomes
                    .into_iter()
                    .map(|o| {
                        o.unwrap_or_else(|| {
                            put.next()
                                .unwrap_or_else(|| Err(EntryError::permanent("no result")))
                        })
                    })
                    .collect())
            }
            TargetKind::Lambda { .. } | TargetKind::Other { .. } => Err(BackendError::Other(
                format!("no direct delivery to a {}", target.describe()),
            )),
        }
    }

    /// `SendMessageBatch`: a FIFO queue gets the target's message group and the event id as
    /// the deduplication id, so that a replay sent twice within 5 minutes is taken once.
    async fn send_to_queue(
        &self,
        queue: &QueueRef,
        group: Option<&str>,
        entries: &[DirectEntry],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        let fifo = queue.is_fifo();
        let request = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(&e.payload);
                if fifo {
                    entry
                        .set_message_group_id(group.map(str::to_owned))
                        .message_deduplication_id(&e.event_id)
                } else {
                    entry
                }
                .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BackendError::Other(e.to_string()))?;
        let response = self
            .sqs
            .send_message_batch()
            .queue_url(&queue.url)
            .set_entries(Some(request))
            .send()
            .await
            .map_err(|e| classify(&format!("while sending to {}", queue.name), &e))?;
        let ok = response
            .successful()
            .iter()
            .map(aws_sdk_sqs::types::SendMessageBatchResultEntry::id);
        Ok(per_entry(
            entries.len(),
            ok,
            response.failed().iter().map(sqs_failure),
        ))
    }

    /// `PublishBatch` to a topic.
    async fn publish(
        &self,
        topic_arn: &str,
        entries: &[DirectEntry],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        let request = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                PublishBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message(&e.payload)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BackendError::Other(e.to_string()))?;
        let response = self
            .sns
            .publish_batch()
            .topic_arn(topic_arn)
            .set_publish_batch_request_entries(Some(request))
            .send()
            .await
            .map_err(|e| classify(&format!("while publishing to {topic_arn}"), &e))?;
        let ok = response.successful().iter().filter_map(|s| s.id());
        let failed = response.failed().iter().map(|f| BatchFailure {
            id: f.id(),
            code: f.code(),
            message: f.message(),
            sender_fault: f.sender_fault(),
        });
        Ok(per_entry(entries.len(), ok, failed))
    }

    /// `StartExecution`, named after the event: a replay of an event already started by an
    /// earlier redrive answers `ExecutionAlreadyExists`, which counts as delivered.
    async fn start_execution(&self, state_machine_arn: &str, entry: &DirectEntry) -> EntryOutcome {
        let name = execution_name(&entry.event_id);
        match self
            .sfn
            .start_execution()
            .state_machine_arn(state_machine_arn)
            .name(&name)
            .input(&entry.payload)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(StartExecutionError::is_execution_already_exists) =>
            {
                Ok(())
            }
            Err(e) => {
                let error = classify(&format!("while starting execution {name}"), &e);
                Err(EntryError {
                    message: error.to_string(),
                    retryable: error.is_transient(),
                    throttled: error.is_throttling(),
                })
            }
        }
    }
}

/// `redrive-<event id>`, in the characters and length an execution name allows (80 of
/// `A-Za-z0-9-_`).
pub(super) fn execution_name(event_id: &str) -> String {
    let mut name: String = format!("redrive-{event_id}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    name.truncate(80);
    name
}
