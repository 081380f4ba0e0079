//! Redelivery: an asynchronous `Invoke` of the consumer's function, or `PutEvents` to the bus,
//! each with its per-entry outcome.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;

use super::AwsBackend;
use super::errors::classify;
use ecomm_ports::error_codes::CodeClass;

use crate::backend::{BackendError, EntryError, EntryOutcome};

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

    pub(super) async fn put_on_bus(
        &self,
        envelopes: &[serde_json::Value],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        let entries = envelopes
            .iter()
            .map(|e| {
                aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(e["source"].as_str().unwrap_or_default())
                    .detail_type(e["detail-type"].as_str().unwrap_or_default())
                    .detail(e["detail"].to_string())
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
}
