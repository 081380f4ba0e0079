//! The bus's own log, as EventBridge writes it when the bus has a `LogConfig` (level `INFO`):
//! for each event and each target, the rule match, every delivery attempt with its error, and
//! how the delivery ended, the DLQ included. Records follow the documented schema
//! ([`ecomm_events::buslog`]) and go to the bus's log group, where `ecomm trace` and
//! `ecomm dlq show` read them as they read AWS's.

use ecomm_events::buslog::{BusLogDetails, BusLogError, BusLogRecord, BusStep, bus_log_group};

use crate::faults::{DeliveryError, TargetNoun};
use crate::logs::LogStore;
use crate::store::StoreError;

/// One delivery of one event to one target, as the bus's log names it.
#[derive(Debug, Clone)]
pub struct Hop<'a> {
    /// The bus's name.
    pub bus: &'a str,
    /// Its ARN.
    pub bus_arn: &'a str,
    /// The rule that matched.
    pub rule_arn: &'a str,
    /// The target.
    pub target_arn: &'a str,
    /// The service the target is (`lambda`, `sqs`, `events`).
    pub service: &'static str,
    /// The bus's id of the event.
    pub event_id: &'a str,
    /// This delivery's id.
    pub invocation_id: &'a str,
}

/// The log groups of the buses, in the state file.
#[derive(Debug, Clone)]
pub struct BusLog {
    logs: LogStore,
}

impl BusLog {
    /// Records in `logs`.
    pub fn new(logs: LogStore) -> Self {
        Self { logs }
    }

    /// The rule matched: the delivery begins.
    pub fn matched(&self, hop: &Hop<'_>, at_ms: i64) -> Result<(), StoreError> {
        let details = BusLogDetails {
            rule_arn: Some(hop.rule_arn.to_owned()),
            target_arns: vec![hop.target_arn.to_owned()],
            invocation_ids: vec![hop.invocation_id.to_owned()],
            ..BusLogDetails::default()
        };
        self.write(hop, at_ms, BusStep::RuleMatch, "INFO", details, None)
    }

    /// Attempt `attempt` (from 1) succeeded, or failed with `failure`.
    pub fn attempt(
        &self,
        hop: &Hop<'_>,
        at_ms: i64,
        attempt: u32,
        failure: Option<DeliveryError>,
    ) -> Result<(), StoreError> {
        let (step, status) = match failure {
            None => (BusStep::InvocationAttemptSuccess, "SUCCESS"),
            Some(DeliveryError::Throttling) => (BusStep::InvocationAttemptThrottle, "FAILED"),
            Some(DeliveryError::NoPermissions | DeliveryError::NoResource) => {
                (BusStep::InvocationAttemptPermanentFailure, "FAILED")
            }
        };
        let details = BusLogDetails {
            rule_arn: Some(hop.rule_arn.to_owned()),
            target_arn: Some(hop.target_arn.to_owned()),
            attempt_type: Some(
                match (attempt, failure) {
                    (1, _) => "FIRST",
                    (_, Some(DeliveryError::Throttling)) => "THROTTLE",
                    _ => "RETRY",
                }
                .to_owned(),
            ),
            attempt_count: Some(attempt),
            invocation_status: Some(status.to_owned()),
            ..BusLogDetails::default()
        };
        let error = failure.map(|code| BusLogError {
            http_status_code: Some(match code {
                DeliveryError::Throttling => 429,
                DeliveryError::NoPermissions => 403,
                DeliveryError::NoResource => 404,
            }),
            error_message: Some(code.message(
                hop.target_arn,
                match hop.service {
                    "lambda" => TargetNoun::Function,
                    "sqs" => TargetNoun::Queue,
                    _ => TargetNoun::Bus,
                },
            )),
            aws_service: Some(hop.service.to_owned()),
            request_id: None,
        });
        let level = if failure.is_some() { "ERROR" } else { "INFO" };
        self.write(hop, at_ms, step, level, details, error)
    }

    /// The delivery ended after `total` attempts: delivered, or written to the target's DLQ.
    pub fn ended(
        &self,
        hop: &Hop<'_>,
        at_ms: i64,
        total: u32,
        dead_lettered: bool,
    ) -> Result<(), StoreError> {
        let details = |status: &str| BusLogDetails {
            rule_arn: Some(hop.rule_arn.to_owned()),
            target_arn: Some(hop.target_arn.to_owned()),
            total_attempts: Some(total),
            final_invocation_status: Some(status.to_owned()),
            ..BusLogDetails::default()
        };
        if !dead_lettered {
            return self.write(
                hop,
                at_ms,
                BusStep::InvocationSuccess,
                "INFO",
                details("SUCCESS"),
                None,
            );
        }
        self.write(
            hop,
            at_ms,
            BusStep::InvocationDlq,
            "ERROR",
            details("FAILED"),
            None,
        )?;
        self.write(
            hop,
            at_ms,
            BusStep::InvocationFailure,
            "ERROR",
            details("FAILED"),
            None,
        )
    }

    fn write(
        &self,
        hop: &Hop<'_>,
        at_ms: i64,
        step: BusStep,
        level: &str,
        details: BusLogDetails,
        error: Option<BusLogError>,
    ) -> Result<(), StoreError> {
        let record = BusLogRecord {
            resource_arn: hop.bus_arn.to_owned(),
            request_id: None,
            event_id: hop.event_id.to_owned(),
            invocation_id: Some(hop.invocation_id.to_owned()),
            message_timestamp_ms: at_ms,
            message_type: step,
            log_level: level.to_owned(),
            details,
            error,
        };
        self.logs.append_bus(&bus_log_group(hop.bus), &record)
    }
}
