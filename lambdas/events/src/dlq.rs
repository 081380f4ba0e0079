//! The three DLQ message formats, read into one normalised [`DlqRecord`] and written back.
//!
//! | format | body | where the error is |
//! |---|---|---|
//! | EventBridge target DLQ | the original event | attributes `RULE_ARN`, `TARGET_ARN`, `ERROR_CODE`, `ERROR_MESSAGE`, `EXHAUSTED_RETRY_CONDITION`, `RETRY_ATTEMPTS` |
//! | Lambda on-failure destination | an invocation record wrapping the event | inside the body |
//! | Lambda function DLQ (legacy) | the original event | attributes `RequestID`, `ErrorCode`, `ErrorMessage` |
//!
//! Reading never fails: a body that is none of these is a record of kind
//! [`DlqKind::Unknown`] that keeps the raw text, so the CLI can list and show it.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::envelope::EventEnvelope;
use crate::error::ContractError;
use crate::events::DomainEvent;

/// An SQS message attribute value. The DataType is not to be assumed: EventBridge and Lambda
/// may write numbers as `String` or `Number`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "DataType")]
pub enum AttributeValue {
    /// `String` (or a custom `String.x` type).
    String {
        /// The text.
        #[serde(rename = "StringValue")]
        value: String,
    },
    /// `Number`, kept as text.
    Number {
        /// The number as text.
        #[serde(rename = "StringValue")]
        value: String,
    },
    /// `Binary`, base64 on the wire.
    Binary {
        /// Base64 of the bytes.
        #[serde(rename = "BinaryValue")]
        base64: String,
    },
}

impl AttributeValue {
    /// A `String` attribute.
    pub fn string(value: impl Into<String>) -> Self {
        Self::String {
            value: value.into(),
        }
    }

    /// A `Number` attribute.
    pub fn number(value: impl Into<String>) -> Self {
        Self::Number {
            value: value.into(),
        }
    }

    /// A `Binary` attribute.
    pub fn binary(bytes: &[u8]) -> Self {
        Self::Binary {
            base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    /// The text of a `String` or `Number` attribute.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::String { value } | Self::Number { value } => Some(value),
            Self::Binary { .. } => None,
        }
    }

    /// The SQS DataType name.
    pub fn data_type(&self) -> &'static str {
        match self {
            Self::String { .. } => "String",
            Self::Number { .. } => "Number",
            Self::Binary { .. } => "Binary",
        }
    }
}

/// SQS message attributes by name.
pub type MessageAttributes = BTreeMap<String, AttributeValue>;

/// A DLQ message as SQS holds it: the body and its message attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DlqMessage {
    /// The message body, as sent.
    pub body: String,
    /// The message attributes.
    #[serde(default)]
    pub attributes: MessageAttributes,
}

/// Which of the three formats a DLQ message is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DlqKind {
    /// EventBridge could not deliver the event to the target.
    EventbridgeTarget,
    /// The function failed on every async attempt; the on-failure destination record.
    LambdaDestination,
    /// The function failed on every async attempt; the legacy function DLQ.
    LambdaDlq,
    /// None of the above: listed and shown raw, never deleted unless targeted.
    Unknown,
}

impl DlqKind {
    /// Stable name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EventbridgeTarget => "eventbridge-target",
            Self::LambdaDestination => "lambda-destination",
            Self::LambdaDlq => "lambda-dlq",
            Self::Unknown => "unknown",
        }
    }
}

/// EventBridge's account of a failed delivery (target DLQ attributes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetFailure {
    /// The rule that matched.
    pub rule_arn: Option<String>,
    /// The target that could not be reached.
    pub target_arn: Option<String>,
    /// e.g. `NO_PERMISSIONS`, `THROTTLING`.
    pub error_code: Option<String>,
    /// EventBridge's message.
    pub error_message: Option<String>,
    /// `MaximumRetryAttempts` or `MaximumEventAgeInSeconds`.
    pub exhausted_retry_condition: Option<String>,
    /// How many retries were made.
    pub retry_attempts: Option<u32>,
}

/// The `requestContext` of an invocation record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    /// The Lambda request id of the last attempt.
    pub request_id: String,
    /// The function (with `:$LATEST` or a version/alias).
    pub function_arn: String,
    /// `RetriesExhausted` or `EventAgeExceeded`.
    pub condition: String,
    /// How many times the function was invoked with this event.
    pub approximate_invoke_count: u32,
    /// Fields this reader does not know, kept for an exact round trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `responseContext` of an invocation record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseContext {
    /// The invoke's HTTP status (200 even for a function error).
    pub status_code: u16,
    /// `$LATEST` or a version.
    pub executed_version: String,
    /// `Unhandled` or `Handled` when the function failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_error: Option<String>,
    /// Fields this reader does not know, kept for an exact round trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The record Lambda sends to an on-failure destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationRecord {
    /// `1.0`.
    pub version: String,
    /// When the record was written, as Lambda printed it.
    pub timestamp: String,
    /// Which invocation failed and why it stopped.
    pub request_context: RequestContext,
    /// The original event.
    pub request_payload: Value,
    /// The outcome of the last attempt.
    pub response_context: ResponseContext,
    /// What the function returned, usually `{"errorMessage", "errorType", ...}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_payload: Option<Value>,
    /// Fields this reader does not know, kept for an exact round trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The legacy function DLQ's attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDlqFailure {
    /// The Lambda request id.
    pub request_id: Option<String>,
    /// e.g. `200` or an error name.
    pub error_code: Option<String>,
    /// The function's error message.
    pub error_message: Option<String>,
}

/// Where a DLQ message came from, with what that source says about the failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DlqSource {
    /// See [`TargetFailure`].
    EventbridgeTarget(TargetFailure),
    /// See [`InvocationRecord`].
    LambdaDestination(Box<InvocationRecord>),
    /// See [`FunctionDlqFailure`].
    LambdaDlq(FunctionDlqFailure),
    /// Not one of the three formats.
    Unknown {
        /// Why the message is not recognised.
        reason: String,
    },
}

/// The fields of the original event the CLI filters and shows, read leniently from raw JSON so
/// that an event of an unknown version still shows its order and correlation id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSummary {
    /// `detail-type`.
    pub detail_type: Option<String>,
    /// `source`.
    pub source: Option<String>,
    /// `detail.eventVersion`.
    pub event_version: Option<String>,
    /// `detail.metadata.eventId`, else the envelope id.
    pub event_id: Option<String>,
    /// `detail.order.orderId` or `detail.orderId`.
    pub order_id: Option<String>,
    /// `detail.metadata.correlationId`.
    pub correlation_id: Option<String>,
    /// `detail.metadata.causationId`.
    pub causation_id: Option<String>,
}

impl EventSummary {
    /// Read what can be read from an event's JSON.
    pub fn of(event: &Value) -> Self {
        // Field by field, not `Value::pointer`, which allocates for each step of its path:
        // this runs for every message a scan or a redrive reads.
        let at = |root: Option<&Value>, path: &[&str]| {
            path.iter()
                .try_fold(root?, |value, key| value.get(key))
                .and_then(value_text)
        };
        let text = |path: &[&str]| at(Some(event), path);
        let detail = |path: &[&str]| at(event.get("detail"), path);
        Self {
            detail_type: text(&["detail-type"]),
            source: text(&["source"]),
            event_version: detail(&["eventVersion"]),
            event_id: detail(&["metadata", "eventId"]).or_else(|| text(&["id"])),
            order_id: detail(&["order", "orderId"]).or_else(|| detail(&["orderId"])),
            correlation_id: detail(&["metadata", "correlationId"]),
            causation_id: detail(&["metadata", "causationId"]),
        }
    }
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A DLQ message, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DlqRecord {
    /// The format and what it says about the failure.
    pub source: DlqSource,
    /// The original event, when the message carries one as JSON.
    pub event: Option<Value>,
    /// Lenient summary of the original event (empty when there is none).
    pub summary: EventSummary,
}

const EB_ATTRIBUTES: [&str; 6] = [
    "RULE_ARN",
    "TARGET_ARN",
    "ERROR_CODE",
    "ERROR_MESSAGE",
    "EXHAUSTED_RETRY_CONDITION",
    "RETRY_ATTEMPTS",
];
const LAMBDA_DLQ_ATTRIBUTES: [&str; 3] = ["RequestID", "ErrorCode", "ErrorMessage"];

/// The message attributes that say a record's format, its error code and the rule whose target
/// failed: all that a reader which does not show the failure needs (a redrive). The others, the
/// error message, the target's ARN and the attempts, are there to be shown.
pub const IDENTIFYING_ATTRIBUTES: [&str; 4] = ["RULE_ARN", "ERROR_CODE", "RequestID", "ErrorCode"];

impl DlqRecord {
    /// Read a DLQ message in any of the three formats. Never fails.
    pub fn parse(body: &str, attributes: &MessageAttributes) -> Self {
        let attr = |name: &str| {
            attributes
                .get(name)
                .and_then(AttributeValue::as_text)
                .map(str::to_owned)
        };
        let json: Result<Value, _> = serde_json::from_str(body);

        if EB_ATTRIBUTES.iter().any(|a| attributes.contains_key(*a)) {
            let failure = TargetFailure {
                rule_arn: attr("RULE_ARN"),
                target_arn: attr("TARGET_ARN"),
                error_code: attr("ERROR_CODE"),
                error_message: attr("ERROR_MESSAGE"),
                exhausted_retry_condition: attr("EXHAUSTED_RETRY_CONDITION"),
                retry_attempts: attr("RETRY_ATTEMPTS").and_then(|s| s.trim().parse().ok()),
            };
            return Self::with_event(DlqSource::EventbridgeTarget(failure), json.ok());
        }
        if LAMBDA_DLQ_ATTRIBUTES
            .iter()
            .any(|a| attributes.contains_key(*a))
        {
            let failure = FunctionDlqFailure {
                request_id: attr("RequestID"),
                error_code: attr("ErrorCode"),
                error_message: attr("ErrorMessage"),
            };
            return Self::with_event(DlqSource::LambdaDlq(failure), json.ok());
        }
        let value = match json {
            Ok(value) => value,
            Err(e) => {
                return Self::unknown(format!("body is not JSON ({e})"), None);
            }
        };
        if value.get("requestContext").is_some() && value.get("requestPayload").is_some() {
            return match serde_json::from_value::<InvocationRecord>(value.clone()) {
                Ok(record) => {
                    let event = Some(record.request_payload.clone());
                    Self::with_event(DlqSource::LambdaDestination(Box::new(record)), event)
                }
                Err(e) => {
                    Self::unknown(format!("invocation record is malformed ({e})"), Some(value))
                }
            };
        }
        let reason = if value.get("detail-type").is_some() {
            "an event without DLQ error attributes (sent by hand?)".to_owned()
        } else {
            "JSON that is neither an event nor an invocation record".to_owned()
        };
        let event = value.get("detail-type").is_some().then_some(value);
        Self::unknown(reason, event)
    }

    fn with_event(source: DlqSource, event: Option<Value>) -> Self {
        let summary = event.as_ref().map(EventSummary::of).unwrap_or_default();
        Self {
            source,
            event,
            summary,
        }
    }

    fn unknown(reason: String, event: Option<Value>) -> Self {
        Self::with_event(DlqSource::Unknown { reason }, event)
    }

    /// Which format.
    pub fn kind(&self) -> DlqKind {
        match self.source {
            DlqSource::EventbridgeTarget(_) => DlqKind::EventbridgeTarget,
            DlqSource::LambdaDestination(_) => DlqKind::LambdaDestination,
            DlqSource::LambdaDlq(_) => DlqKind::LambdaDlq,
            DlqSource::Unknown { .. } => DlqKind::Unknown,
        }
    }

    /// The error code: EventBridge's `ERROR_CODE`, the function's `errorType`, or `ErrorCode`.
    pub fn error_code(&self) -> Option<&str> {
        match &self.source {
            DlqSource::EventbridgeTarget(f) => f.error_code.as_deref(),
            DlqSource::LambdaDestination(r) => r
                .response_payload
                .as_ref()
                .and_then(|p| p.get("errorType"))
                .and_then(Value::as_str)
                .or(r.response_context.function_error.as_deref()),
            DlqSource::LambdaDlq(f) => f.error_code.as_deref(),
            DlqSource::Unknown { .. } => None,
        }
    }

    /// The error message, or why the message is unknown.
    pub fn error_message(&self) -> Option<&str> {
        match &self.source {
            DlqSource::EventbridgeTarget(f) => f.error_message.as_deref(),
            DlqSource::LambdaDestination(r) => r
                .response_payload
                .as_ref()
                .and_then(|p| p.get("errorMessage"))
                .and_then(Value::as_str),
            DlqSource::LambdaDlq(f) => f.error_message.as_deref(),
            DlqSource::Unknown { reason } => Some(reason),
        }
    }

    /// How many times delivery or the function was attempted, when the format says.
    pub fn attempts(&self) -> Option<u32> {
        match &self.source {
            // RETRY_ATTEMPTS counts retries; the first try makes one more attempt.
            DlqSource::EventbridgeTarget(f) => f.retry_attempts.map(|r| r + 1),
            DlqSource::LambdaDestination(r) => Some(r.request_context.approximate_invoke_count),
            DlqSource::LambdaDlq(_) | DlqSource::Unknown { .. } => None,
        }
    }

    /// Why retrying stopped: `MaximumRetryAttempts`, `MaximumEventAgeInSeconds`,
    /// `RetriesExhausted` or `EventAgeExceeded`.
    pub fn exhausted_condition(&self) -> Option<&str> {
        match &self.source {
            DlqSource::EventbridgeTarget(f) => f.exhausted_retry_condition.as_deref(),
            DlqSource::LambdaDestination(r) => Some(&r.request_context.condition),
            DlqSource::LambdaDlq(_) | DlqSource::Unknown { .. } => None,
        }
    }

    /// The ARN of what failed: the EventBridge target, or the function.
    pub fn failed_arn(&self) -> Option<&str> {
        match &self.source {
            DlqSource::EventbridgeTarget(f) => f.target_arn.as_deref(),
            DlqSource::LambdaDestination(r) => Some(&r.request_context.function_arn),
            DlqSource::LambdaDlq(_) | DlqSource::Unknown { .. } => None,
        }
    }

    /// Decode the original event: `None` when there is none, an error when it does not fit the
    /// contract (an unknown major version, say).
    pub fn decode(&self) -> Option<Result<DomainEvent, ContractError>> {
        let event = self.event.as_ref()?;
        Some(EventEnvelope::from_value(event.clone()).and_then(|e| e.decode()))
    }

    /// Write the record back in its own format; `None` for an unknown message, whose raw body
    /// is the only truth.
    pub fn to_message(&self) -> Option<DlqMessage> {
        match &self.source {
            DlqSource::EventbridgeTarget(f) => {
                Some(DlqMessage::eventbridge_target(self.event.as_ref()?, f))
            }
            DlqSource::LambdaDestination(r) => Some(DlqMessage::lambda_destination(r)),
            DlqSource::LambdaDlq(f) => Some(DlqMessage::lambda_dlq(self.event.as_ref()?, f)),
            DlqSource::Unknown { .. } => None,
        }
    }
}

impl DlqMessage {
    /// What an EventBridge target DLQ receives: the event verbatim, the failure in attributes.
    pub fn eventbridge_target(event: &Value, failure: &TargetFailure) -> Self {
        let mut attributes = MessageAttributes::new();
        let mut put = |name: &str, value: Option<&String>| {
            if let Some(v) = value {
                attributes.insert(name.to_owned(), AttributeValue::string(v.clone()));
            }
        };
        put("RULE_ARN", failure.rule_arn.as_ref());
        put("TARGET_ARN", failure.target_arn.as_ref());
        put("ERROR_CODE", failure.error_code.as_ref());
        put("ERROR_MESSAGE", failure.error_message.as_ref());
        put(
            "EXHAUSTED_RETRY_CONDITION",
            failure.exhausted_retry_condition.as_ref(),
        );
        put(
            "RETRY_ATTEMPTS",
            failure.retry_attempts.map(|n| n.to_string()).as_ref(),
        );
        Self {
            body: event.to_string(),
            attributes,
        }
    }

    /// What a Lambda on-failure destination receives: the invocation record as the body.
    pub fn lambda_destination(record: &InvocationRecord) -> Self {
        let body = serde_json::to_string(record).expect("invocation records always serialize");
        Self {
            body,
            attributes: MessageAttributes::new(),
        }
    }

    /// What a legacy function DLQ receives: the event verbatim, the failure in attributes.
    pub fn lambda_dlq(event: &Value, failure: &FunctionDlqFailure) -> Self {
        let mut attributes = MessageAttributes::new();
        for (name, value) in [
            ("RequestID", &failure.request_id),
            ("ErrorCode", &failure.error_code),
            ("ErrorMessage", &failure.error_message),
        ] {
            if let Some(v) = value {
                attributes.insert(name.to_owned(), AttributeValue::string(v.clone()));
            }
        }
        Self {
            body: event.to_string(),
            attributes,
        }
    }
}

impl InvocationRecord {
    /// The record Lambda writes when every async attempt of `function_arn` failed.
    #[allow(
        clippy::too_many_arguments,
        reason = "one argument per field of the record"
    )]
    pub fn failed(
        timestamp: String,
        request_id: String,
        function_arn: String,
        condition: &str,
        approximate_invoke_count: u32,
        event: Value,
        error_type: &str,
        error_message: &str,
    ) -> Self {
        Self {
            version: "1.0".to_owned(),
            timestamp,
            request_context: RequestContext {
                request_id,
                function_arn,
                condition: condition.to_owned(),
                approximate_invoke_count,
                extra: Map::new(),
            },
            request_payload: event,
            response_context: ResponseContext {
                status_code: 200,
                executed_version: "$LATEST".to_owned(),
                function_error: Some("Unhandled".to_owned()),
                extra: Map::new(),
            },
            response_payload: Some(serde_json::json!({
                "errorType": error_type,
                "errorMessage": error_message,
            })),
            extra: Map::new(),
        }
    }
}
