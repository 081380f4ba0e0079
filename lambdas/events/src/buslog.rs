//! What EventBridge logs of its own work on a bus (`LogConfig`, delivered through CloudWatch
//! vended logs): one record per step of one event, keyed by the bus's event id (the envelope's
//! `id`). The schema is the EventBridge user guide's "Amazon EventBridge event bus log schema"
//! (eb-event-logs-schema); the local stack writes these records, and `ecomm trace` and
//! `ecomm dlq show` read them.

use serde::{Deserialize, Deserializer, Serialize};

/// The log group a bus's records go to: the name Terraform gives the delivery destination's
/// group, and the local stack writes to.
pub fn bus_log_group(bus: &str) -> String {
    format!("/aws/vendedlogs/events/event-bus/{bus}")
}

/// One step EventBridge took with one event (`message_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BusStep {
    /// `PutEvents` refused the event.
    EventIngestFailure,
    /// `PutEvents` took the event.
    EventIngestSuccess,
    /// The bus received the event.
    EventReceipt,
    /// Rule matching began.
    RuleMatchStart,
    /// A rule matched: its targets, each with its invocation id.
    RuleMatch,
    /// No rule matched.
    NoStandardRulesMatched,
    /// The delivery to one target began.
    InvocationStart,
    /// One attempt began.
    InvocationAttemptStart,
    /// One attempt was throttled.
    InvocationAttemptThrottle,
    /// One attempt failed in a way a retry may fix.
    InvocationAttemptRetryableFailure,
    /// One attempt failed in a way no retry fixes (a missing permission or resource).
    InvocationAttemptPermanentFailure,
    /// One attempt succeeded.
    InvocationAttemptSuccess,
    /// Throttling held the delivery back.
    InvocationThrottleStart,
    /// The delivery succeeded.
    InvocationSuccess,
    /// The delivery failed for good.
    InvocationFailure,
    /// The event went to the target's DLQ.
    InvocationDlq,
    /// A step this build does not know.
    #[serde(other)]
    Unknown,
}

/// The step's details (`details`); which fields are there depends on the step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusLogDetails {
    /// The rule (rule match and invocation steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_arn: Option<String>,
    /// The target of an invocation step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    /// The targets a rule matched for (`RULE_MATCH`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_arns: Vec<String>,
    /// Their invocation ids, in the same order (`RULE_MATCH`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invocation_ids: Vec<String>,
    /// `FIRST`, `THROTTLE` or `RETRY` (attempt steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_type: Option<String>,
    /// Which attempt, from 1 (attempt steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_count: Option<u32>,
    /// The attempt's status (attempt steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation_status: Option<String>,
    /// Attempts made in all (final steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_attempts: Option<u32>,
    /// How the delivery ended (final steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_invocation_status: Option<String>,
    /// The event's source (receipt steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The event's detail-type (receipt steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_type: Option<String>,
}

/// The error of a step (`error`), when there was one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusLogError {
    /// What the called service answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status_code: Option<u16>,
    /// Its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The service called (`lambda`, `sqs`, `events`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_service: Option<String>,
    /// That service's request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// One record of a bus's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusLogRecord {
    /// The bus.
    pub resource_arn: String,
    /// The `PutEvents` request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The bus's id of the event: the envelope's `id`.
    pub event_id: String,
    /// One delivery of the event to one target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation_id: Option<String>,
    /// When, epoch ms (a number, or a string of one).
    #[serde(deserialize_with = "epoch_ms")]
    pub message_timestamp_ms: i64,
    /// The step.
    pub message_type: BusStep,
    /// `ERROR`, `INFO` or `TRACE`.
    pub log_level: String,
    /// The step's details.
    #[serde(default)]
    pub details: BusLogDetails,
    /// The step's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<BusLogError>,
}

fn epoch_ms<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ms {
        Number(i64),
        Text(String),
    }
    match Ms::deserialize(deserializer)? {
        Ms::Number(n) => Ok(n),
        Ms::Text(t) => t.trim().parse().map_err(serde::de::Error::custom),
    }
}

impl BusLogRecord {
    /// The record of a log line, if it is one.
    pub fn parse(line: &str) -> Option<Self> {
        serde_json::from_str(line).ok()
    }

    /// The line as the bus writes it.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("bus log records always serialize")
    }

    /// The target this step is about.
    pub fn target_arn(&self) -> Option<&str> {
        self.details.target_arn.as_deref()
    }

    /// Why an attempt failed, in the words of a target DLQ's `ERROR_CODE` where they fit:
    /// `THROTTLING`, `NO_PERMISSIONS` (HTTP 403), `NO_RESOURCE` (404), `TIMEOUT` (a timed-out
    /// call), else `RETRYABLE_FAILURE` or `PERMANENT_FAILURE`. `None` for a step that is no
    /// failed attempt.
    pub fn failure(&self) -> Option<&'static str> {
        let status = self.error.as_ref().and_then(|e| e.http_status_code);
        let timed_out = self.error.as_ref().is_some_and(|e| {
            e.error_message
                .as_deref()
                .is_some_and(|m| m.to_ascii_lowercase().contains("timed out"))
        });
        match self.message_type {
            BusStep::InvocationAttemptThrottle => Some("THROTTLING"),
            BusStep::InvocationAttemptPermanentFailure => Some(match status {
                Some(403) => "NO_PERMISSIONS",
                Some(404) => "NO_RESOURCE",
                _ => "PERMANENT_FAILURE",
            }),
            BusStep::InvocationAttemptRetryableFailure => Some(match status {
                Some(429) => "THROTTLING",
                _ if timed_out => "TIMEOUT",
                _ => "RETRYABLE_FAILURE",
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record in the documented shape (eb-event-logs-schema), with the timestamp as a string.
    const THROTTLED: &str = r#"{
        "resource_arn": "arn:aws:events:eu-west-1:111122223333:event-bus/ecomm-prod",
        "request_id": "6d5a7a40-1111-4a0e-9c43-0e5a5b6c7d8e",
        "event_id": "b3f0c1a2-2222-4b1c-8d2e-3f4a5b6c7d8e",
        "invocation_id": "c4e1d2b3-3333-4c2d-9e3f-4a5b6c7d8e9f",
        "message_timestamp_ms": "1764583200123",
        "message_type": "INVOCATION_ATTEMPT_THROTTLE",
        "log_level": "ERROR",
        "details": {
            "rule_arn": "arn:aws:events:eu-west-1:111122223333:rule/ecomm-prod/ecomm-prod-analytics",
            "role_arn": "",
            "target_arn": "arn:aws:lambda:eu-west-1:111122223333:function:ecomm-prod-analytics",
            "attempt_type": "THROTTLE",
            "attempt_count": 2,
            "invocation_status": "FAILED",
            "target_duration_ms": 12,
            "target_response_body": ""
        },
        "error": {
            "http_status_code": 429,
            "error_message": "Rate Exceeded.",
            "aws_service": "lambda",
            "request_id": "d5f2e3c4-4444-4d3e-af40-5b6c7d8e9fa0"
        }
    }"#;

    #[test]
    fn a_documented_record_parses_with_its_step_target_and_failure() {
        let record = BusLogRecord::parse(THROTTLED).expect("a bus log record");
        assert_eq!(record.message_type, BusStep::InvocationAttemptThrottle);
        assert_eq!(record.message_timestamp_ms, 1_764_583_200_123);
        assert_eq!(record.details.attempt_count, Some(2));
        assert_eq!(
            record.target_arn(),
            Some("arn:aws:lambda:eu-west-1:111122223333:function:ecomm-prod-analytics")
        );
        assert_eq!(record.failure(), Some("THROTTLING"));
        let again = BusLogRecord::parse(&record.to_json_line()).unwrap();
        assert_eq!(again, record, "written as it is read");
    }

    #[test]
    fn failures_are_named_by_step_and_status_and_other_steps_are_none() {
        let mut record = BusLogRecord::parse(THROTTLED).unwrap();
        record.message_type = BusStep::InvocationAttemptPermanentFailure;
        record.error.as_mut().unwrap().http_status_code = Some(403);
        assert_eq!(record.failure(), Some("NO_PERMISSIONS"));
        record.message_type = BusStep::InvocationAttemptRetryableFailure;
        record.error.as_mut().unwrap().http_status_code = Some(500);
        record.error.as_mut().unwrap().error_message = Some("Task timed out".to_owned());
        assert_eq!(record.failure(), Some("TIMEOUT"));
        record.message_type = BusStep::InvocationDlq;
        assert_eq!(record.failure(), None);
        let unknown = THROTTLED.replace("INVOCATION_ATTEMPT_THROTTLE", "SOMETHING_NEW");
        assert_eq!(
            BusLogRecord::parse(&unknown).unwrap().message_type,
            BusStep::Unknown
        );
        assert!(BusLogRecord::parse(r#"{"level":"INFO","service":"inventory"}"#).is_none());
    }
}
