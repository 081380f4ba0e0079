//! The consumer declarations, a contract shared by Terraform, the local stack and the CLI, and
//! the router built from them.
//!
//! Each consumer's rule is declared once, in `terraform/consumers/<name>.json`: its event
//! pattern, its EventBridge retry policy and its Lambda async-invoke settings. Terraform reads
//! the files with `jsondecode(file(...))`; this crate embeds them at build time and checks every
//! pattern with quamina when loaded, so a pattern it cannot load is an error naming the file.
//! The local stack routes with it; the CLI asks it which consumers an event should reach.

pub mod forward;
pub mod input;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use self::input::TargetInput;

/// The declaration files, embedded: `(file name, contents)`.
pub const DECLARATIONS: [(&str, &str); 5] = [
    (
        "terraform/consumers/inventory.json",
        include_str!("../../../terraform/consumers/inventory.json"),
    ),
    (
        "terraform/consumers/notification.json",
        include_str!("../../../terraform/consumers/notification.json"),
    ),
    (
        "terraform/consumers/analytics.json",
        include_str!("../../../terraform/consumers/analytics.json"),
    ),
    (
        "terraform/consumers/refund.json",
        include_str!("../../../terraform/consumers/refund.json"),
    ),
    (
        "terraform/consumers/audit.json",
        include_str!("../../../terraform/consumers/audit.json"),
    ),
];

/// EventBridge's retry policy of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// 0–185.
    pub maximum_retry_attempts: u32,
    /// 60–86400.
    pub maximum_event_age_in_seconds: u32,
}

/// Lambda's async-invoke settings of a function (`aws_lambda_function_event_invoke_config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncInvoke {
    /// 0–2.
    pub maximum_retry_attempts: u32,
    /// 60–21600.
    pub maximum_event_age_in_seconds: u32,
}

/// One consumer: its rule, target and function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerDecl {
    /// The consumer's name: the target id, and the suffix of its function and DLQ names.
    pub name: String,
    /// What it does.
    pub description: String,
    /// The rule's event pattern.
    pub event_pattern: Value,
    /// The target's retry policy.
    pub retry_policy: RetryPolicy,
    /// What the rule's target is: the consumer's function (the default), or a queue.
    #[serde(default)]
    pub target: TargetDecl,
    /// The target's input transformer; without one the target gets the event as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_transformer: Option<InputTransformerDecl>,
    /// The function's async-invoke settings (function targets only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub async_invoke: Option<AsyncInvoke>,
    /// Where Lambda sends a function error's record after its retries (function targets
    /// only): the consumer's DLQ, or a bucket of its own.
    #[serde(default)]
    pub on_failure: OnFailure,
    /// The tables the function may use.
    #[serde(default)]
    pub tables: Vec<String>,
}

/// Where a function consumer's errors go after Lambda's async retries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// The consumer's DLQ, beside its delivery failures.
    #[default]
    Sqs,
    /// A bucket of the consumer's own (`<prefix>-<name>-failures-<account>`), for payloads an
    /// SQS message cannot carry (near 1 MB). AWS only: the local stack keeps them in the DLQ.
    S3,
}

/// The kind of a consumer's rule target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum TargetDecl {
    /// The consumer's function, invoked asynchronously (`<prefix>-<name>`).
    #[default]
    Function,
    /// An SQS queue (`<prefix>-<name>`, `.fifo` when FIFO), read by whoever consumes it.
    #[serde(rename_all = "camelCase")]
    Queue {
        /// A FIFO queue.
        fifo: bool,
        /// The target's `SqsParameters.MessageGroupId` (FIFO queues).
        #[serde(default)]
        message_group_id: Option<String>,
        /// The consumer's function behind the queue, through an SQS event source mapping;
        /// without one, whoever consumes the queue is outside this system.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reader: Option<QueueReaderDecl>,
    },
}

/// The function that reads a queue target (`<prefix>-<name>`), and the queue's redrive policy
/// to its own DLQ (`<prefix>-<name>-reader-dlq`, `.fifo` when FIFO): where a record the
/// function keeps failing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueReaderDecl {
    /// Records per invocation: 1–10 (a FIFO source takes at most 10).
    pub batch_size: u32,
    /// Receives before SQS moves a record to the reader DLQ: 1–1000. With a FIFO queue and
    /// partial batch responses, the records after a failure are received too, so leave room.
    pub max_receive_count: u32,
    /// The queue's visibility timeout: how long a failed batch waits before it comes back;
    /// at least the function's timeout.
    pub visibility_timeout_seconds: u32,
}

/// A target's `InputTransformer`, as declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputTransformerDecl {
    /// Variable name to JSONPath.
    #[serde(default)]
    pub input_paths_map: BTreeMap<String, String>,
    /// The template.
    pub input_template: String,
}

impl ConsumerDecl {
    /// What its target receives instead of the event.
    pub fn target_input(&self) -> TargetInput {
        self.input_transformer
            .as_ref()
            .map_or(TargetInput::Event, |t| TargetInput::Transformer {
                paths: t.input_paths_map.clone(),
                template: t.input_template.clone(),
            })
    }

    /// Whether its target is its own function.
    pub fn is_function(&self) -> bool {
        self.target == TargetDecl::Function
    }

    /// The function behind its queue target, if it has one.
    pub fn queue_reader(&self) -> Option<&QueueReaderDecl> {
        match &self.target {
            TargetDecl::Queue { reader, .. } => reader.as_ref(),
            TargetDecl::Function => None,
        }
    }
}

/// A declaration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not JSON of the declaration's shape.
    #[error("{file}: {reason}")]
    Unreadable {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A value outside what AWS accepts.
    #[error("{file}: {reason}")]
    OutOfRange {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// The pattern is not one quamina (the local router) can load.
    #[error("{file}: the event pattern cannot be loaded: {reason}")]
    BadPattern {
        /// The file.
        file: String,
        /// What quamina said.
        reason: String,
    },
}

/// The consumers, in declaration order, with a router over their patterns and their targets'
/// input transformations, parsed.
pub struct Routing {
    /// The consumers.
    pub consumers: Vec<ConsumerDecl>,
    inputs: Vec<input::CompiledInput>,
    matcher: quamina::Quamina<usize>,
}

impl std::fmt::Debug for Routing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routing")
            .field("consumers", &self.consumers)
            .finish_non_exhaustive()
    }
}

impl Routing {
    /// The embedded declarations.
    pub fn embedded() -> Result<Self, ConfigError> {
        Self::from_files(&DECLARATIONS)
    }

    /// Declarations from `(file name, contents)` pairs.
    pub fn from_files(files: &[(&str, &str)]) -> Result<Self, ConfigError> {
        let mut consumers = Vec::new();
        let mut inputs = Vec::new();
        let mut matcher = quamina::Quamina::new();
        for (index, (file, text)) in files.iter().enumerate() {
            let decl: ConsumerDecl =
                serde_json::from_str(text).map_err(|e| ConfigError::Unreadable {
                    file: (*file).to_owned(),
                    reason: e.to_string(),
                })?;
            check_ranges(file, &decl)?;
            inputs.push(
                decl.target_input()
                    .compile()
                    .map_err(|e| ConfigError::Unreadable {
                        file: (*file).to_owned(),
                        reason: e.to_string(),
                    })?,
            );
            matcher
                .add_pattern(index, &decl.event_pattern.to_string())
                .map_err(|e| ConfigError::BadPattern {
                    file: (*file).to_owned(),
                    reason: e.to_string(),
                })?;
            consumers.push(decl);
        }
        Ok(Self {
            consumers,
            inputs,
            matcher,
        })
    }

    /// What consumer `index`'s target receives instead of the event, parsed.
    pub fn input(&self, index: usize) -> &input::CompiledInput {
        &self.inputs[index]
    }

    /// The indexes of the consumers whose pattern matches `event` (the envelope JSON).
    pub fn targets(&self, event: &Value) -> Vec<usize> {
        let mut matched = self
            .matcher
            .matches_for_event(event.to_string().as_bytes())
            .unwrap_or_default();
        matched.sort_unstable();
        matched.dedup();
        matched
    }

    /// The consumer named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.consumers.iter().position(|c| c.name == name)
    }

    /// The names of the consumers whose pattern matches `event`.
    pub fn consumers_of(&self, event: &Value) -> Vec<&str> {
        self.targets(event)
            .into_iter()
            .map(|i| self.consumers[i].name.as_str())
            .collect()
    }
}

/// EventBridge's bounds on a target's retry policy.
fn check_retry_policy(file: &str, r: RetryPolicy) -> Result<(), ConfigError> {
    let reason = if r.maximum_retry_attempts > 185 {
        format!(
            "retryPolicy.maximumRetryAttempts {} is above 185",
            r.maximum_retry_attempts
        )
    } else if !(60..=86_400).contains(&r.maximum_event_age_in_seconds) {
        format!(
            "retryPolicy.maximumEventAgeInSeconds {} is outside 60–86400",
            r.maximum_event_age_in_seconds
        )
    } else {
        return Ok(());
    };
    Err(ConfigError::OutOfRange {
        file: file.to_owned(),
        reason,
    })
}

fn check_ranges(file: &str, decl: &ConsumerDecl) -> Result<(), ConfigError> {
    let out = |reason: String| {
        Err(ConfigError::OutOfRange {
            file: file.to_owned(),
            reason,
        })
    };
    check_retry_policy(file, decl.retry_policy)?;
    if let TargetDecl::Queue {
        fifo,
        message_group_id,
        reader,
    } = &decl.target
    {
        if *fifo != message_group_id.is_some() {
            return out("a FIFO queue target needs a messageGroupId, and only it".to_owned());
        }
        if let Some(r) = reader {
            if !(1..=10).contains(&r.batch_size) {
                return out(format!(
                    "target.reader.batchSize {} is outside 1–10",
                    r.batch_size
                ));
            }
            if !(1..=1000).contains(&r.max_receive_count) {
                return out(format!(
                    "target.reader.maxReceiveCount {} is outside 1–1000",
                    r.max_receive_count
                ));
            }
            if r.visibility_timeout_seconds > 43_200 {
                return out(format!(
                    "target.reader.visibilityTimeoutSeconds {} is above 43200",
                    r.visibility_timeout_seconds
                ));
            }
        }
    }
    if decl.on_failure == OnFailure::S3 && !decl.is_function() {
        return out(
            "onFailure s3 is Lambda's on-failure destination: function targets only".to_owned(),
        );
    }
    let Some(a) = decl.async_invoke else {
        return if decl.is_function() {
            out("a function target needs asyncInvoke".to_owned())
        } else {
            Ok(())
        };
    };
    if !decl.is_function() {
        return out("asyncInvoke is for function targets only".to_owned());
    }
    if a.maximum_retry_attempts > 2 {
        return out(format!(
            "asyncInvoke.maximumRetryAttempts {} is above 2",
            a.maximum_retry_attempts
        ));
    }
    if !(60..=21_600).contains(&a.maximum_event_age_in_seconds) {
        return out(format!(
            "asyncInvoke.maximumEventAgeInSeconds {} is outside 60–21600",
            a.maximum_event_age_in_seconds
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(source: &str, detail_type: &str) -> Value {
        json!({"version": "0", "id": "1", "source": source, "detail-type": detail_type,
               "account": "000000000000", "time": "2026-01-01T00:00:00Z", "region": "local",
               "resources": [], "detail": {}})
    }

    fn routed(routing: &Routing, source: &str, detail_type: &str) -> Vec<String> {
        routing
            .targets(&event(source, detail_type))
            .into_iter()
            .map(|i| routing.consumers[i].name.clone())
            .collect()
    }

    #[test]
    fn the_embedded_declarations_route_each_event_to_its_consumers() {
        let routing = Routing::embedded().unwrap();
        assert_eq!(
            routed(&routing, "ecomm.orders", "OrderCreated"),
            ["inventory", "notification", "analytics", "audit"]
        );
        assert_eq!(
            routed(&routing, "ecomm.inventory", "InventoryOutOfStock"),
            ["refund", "audit"]
        );
        assert_eq!(
            routed(&routing, "ecomm.payments", "RefundCompleted"),
            ["notification", "audit"]
        );
        assert_eq!(
            routed(&routing, "ecomm.inventory", "InventoryReserved"),
            ["audit"]
        );
        assert_eq!(
            routed(&routing, "ecomm.payments", "RefundFailed"),
            ["audit"]
        );
        assert!(routed(&routing, "someone.else", "OrderCreated").is_empty());
    }

    #[test]
    fn every_file_in_terraform_consumers_is_embedded() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../terraform/consumers");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("json"))
            })
            .map(|p| {
                format!(
                    "terraform/consumers/{}",
                    p.file_name().unwrap().to_string_lossy()
                )
            })
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = DECLARATIONS.iter().map(|(f, _)| (*f).to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn a_pattern_quamina_cannot_load_is_an_error_naming_the_file() {
        let text = r#"{"name": "x", "description": "", "eventPattern": {"source": [{"$or": 1}]},
            "retryPolicy": {"maximumRetryAttempts": 1, "maximumEventAgeInSeconds": 60},
            "asyncInvoke": {"maximumRetryAttempts": 1, "maximumEventAgeInSeconds": 60}}"#;
        let err = Routing::from_files(&[("terraform/consumers/x.json", text)]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("terraform/consumers/x.json: the event pattern"),
            "{err}"
        );
    }

    #[test]
    fn on_failure_is_the_dlq_unless_declared_s3_and_s3_is_for_functions_only() {
        let routing = Routing::embedded().unwrap();
        assert!(
            routing
                .consumers
                .iter()
                .all(|c| c.on_failure == OnFailure::Sqs),
            "no consumer declares a bucket today"
        );
        let function = r#"{"name": "x", "description": "", "eventPattern": {"source": ["a"]},
            "retryPolicy": {"maximumRetryAttempts": 1, "maximumEventAgeInSeconds": 60},
            "asyncInvoke": {"maximumRetryAttempts": 1, "maximumEventAgeInSeconds": 60},
            "onFailure": "s3"}"#;
        let routing = Routing::from_files(&[("x.json", function)]).unwrap();
        assert_eq!(routing.consumers[0].on_failure, OnFailure::S3);
        let queue = r#"{"name": "q", "description": "", "eventPattern": {"source": ["a"]},
            "retryPolicy": {"maximumRetryAttempts": 1, "maximumEventAgeInSeconds": 60},
            "target": {"type": "queue", "fifo": false}, "onFailure": "s3"}"#;
        let err = Routing::from_files(&[("q.json", queue)]).unwrap_err();
        assert!(err.to_string().contains("function targets only"), "{err}");
    }

    #[test]
    fn a_queue_target_declares_its_fifo_group_and_no_function_settings() {
        let routing = Routing::embedded().unwrap();
        let audit = &routing.consumers[routing.index_of("audit").unwrap()];
        assert_eq!(
            audit.target,
            TargetDecl::Queue {
                fifo: true,
                message_group_id: Some("order-events".to_owned()),
                reader: Some(QueueReaderDecl {
                    batch_size: 10,
                    max_receive_count: 5,
                    visibility_timeout_seconds: 180
                })
            }
        );
        assert!(audit.target_input().transforms());
        assert!(
            routing
                .consumers
                .iter()
                .filter(|c| c.name != "audit")
                .all(ConsumerDecl::is_function)
        );
        let queue = |target: &str, extra: &str| {
            format!(
                r#"{{"name": "x", "description": "", "eventPattern": {{"source": ["a"]}},
                "retryPolicy": {{"maximumRetryAttempts": 1, "maximumEventAgeInSeconds": 60}},
                "target": {target}{extra}}}"#
            )
        };
        let no_group = queue(r#"{"type": "queue", "fifo": true}"#, "");
        let err = Routing::from_files(&[("x.json", &no_group)]).unwrap_err();
        assert!(err.to_string().contains("messageGroupId"), "{err}");
        let with_invoke = queue(
            r#"{"type": "queue", "fifo": false}"#,
            r#", "asyncInvoke": {"maximumRetryAttempts": 1, "maximumEventAgeInSeconds": 60}"#,
        );
        let err = Routing::from_files(&[("x.json", &with_invoke)]).unwrap_err();
        assert!(err.to_string().contains("function targets only"), "{err}");
        let big_batch = queue(
            r#"{"type": "queue", "fifo": false, "reader": {"batchSize": 11, "maxReceiveCount": 5, "visibilityTimeoutSeconds": 60}}"#,
            "",
        );
        let err = Routing::from_files(&[("x.json", &big_batch)]).unwrap_err();
        assert!(err.to_string().contains("batchSize 11"), "{err}");
    }

    #[test]
    fn a_transformer_path_that_cannot_be_parsed_is_an_error_naming_the_file() {
        let text = r#"{"name": "x", "description": "", "eventPattern": {"source": ["a"]},
            "retryPolicy": {"maximumRetryAttempts": 1, "maximumEventAgeInSeconds": 60},
            "target": {"type": "queue", "fifo": false},
            "inputTransformer": {"inputPathsMap": {"id": "detail.id"}, "inputTemplate": "<id>"}}"#;
        let err = Routing::from_files(&[("terraform/consumers/x.json", text)]).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("terraform/consumers/x.json: ") && message.contains("detail.id"),
            "{message}"
        );
    }

    #[test]
    fn values_aws_would_refuse_are_errors() {
        let text = r#"{"name": "x", "description": "", "eventPattern": {"source": ["a"]},
            "retryPolicy": {"maximumRetryAttempts": 186, "maximumEventAgeInSeconds": 60},
            "asyncInvoke": {"maximumRetryAttempts": 1, "maximumEventAgeInSeconds": 60}}"#;
        let err = Routing::from_files(&[("x.json", text)]).unwrap_err();
        assert!(err.to_string().contains("above 185"), "{err}");
    }
}
