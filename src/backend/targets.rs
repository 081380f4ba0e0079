//! What a rule's target is, and what EventBridge sends it: the facts a redrive needs to deliver
//! an event exactly as EventBridge would have.

use serde::Serialize;

pub(crate) use ecomm_consumers::input::TargetInput;

use super::QueueRef;

/// The kind of resource a rule's target is, from its ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub(crate) enum TargetKind {
    /// A Lambda function, invoked asynchronously.
    Lambda {
        /// The function name.
        function: String,
        /// The alias or version the target names (`function:NAME:QUALIFIER`), invoked as such.
        qualifier: Option<String>,
    },
    /// An SQS queue (FIFO when its name ends in `.fifo`).
    #[serde(rename_all = "camelCase")]
    Sqs {
        /// The queue.
        queue: QueueRef,
        /// The target's `SqsParameters.MessageGroupId` (FIFO queues).
        message_group_id: Option<String>,
    },
    /// An SNS topic.
    #[serde(rename_all = "camelCase")]
    Sns {
        /// The topic ARN.
        topic_arn: String,
    },
    /// A Step Functions state machine.
    #[serde(rename_all = "camelCase")]
    StepFunctions {
        /// The state machine ARN.
        state_machine_arn: String,
    },
    /// Another event bus, in this account or another.
    #[serde(rename_all = "camelCase")]
    EventBus {
        /// The bus ARN.
        bus_arn: String,
    },
    /// Anything else: a redrive refuses it.
    Other {
        /// The ARN's service, e.g. `kinesis`.
        service: String,
    },
}

impl TargetKind {
    /// The kind of target an ARN names. SQS targets get their queue from `queue`, resolved by
    /// the caller.
    pub(crate) fn of_arn(arn: &str) -> TargetArn {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let service = parts.get(2).copied().unwrap_or_default();
        let resource = parts.get(5).copied().unwrap_or_default();
        match service {
            "lambda" => match resource.strip_prefix("function:") {
                Some(rest) => {
                    let (function, qualifier) = match rest.split_once(':') {
                        Some((name, qualifier)) => (name, Some(qualifier.to_owned())),
                        None => (rest, None),
                    };
                    TargetArn::Known(Self::Lambda {
                        function: function.to_owned(),
                        qualifier,
                    })
                }
                None => TargetArn::Known(Self::Other {
                    service: service.to_owned(),
                }),
            },
            "sqs" => TargetArn::Queue,
            "sns" => TargetArn::Known(Self::Sns {
                topic_arn: arn.to_owned(),
            }),
            "states" if resource.starts_with("stateMachine:") => {
                TargetArn::Known(Self::StepFunctions {
                    state_machine_arn: arn.to_owned(),
                })
            }
            "events" if resource.starts_with("event-bus/") => TargetArn::Known(Self::EventBus {
                bus_arn: arn.to_owned(),
            }),
            other => TargetArn::Known(Self::Other {
                service: other.to_owned(),
            }),
        }
    }

    /// The name an `Invoke` takes: the function, with the target's qualifier.
    pub(crate) fn invoke_name(function: &str, qualifier: Option<&str>) -> String {
        match qualifier {
            Some(q) => format!("{function}:{q}"),
            None => function.to_owned(),
        }
    }

    /// What people call it, e.g. "SQS FIFO queue".
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Lambda { .. } => "Lambda function".to_owned(),
            Self::Sqs { queue, .. } if queue.is_fifo() => "SQS FIFO queue".to_owned(),
            Self::Sqs { .. } => "SQS queue".to_owned(),
            Self::Sns { .. } => "SNS topic".to_owned(),
            Self::StepFunctions { .. } => "Step Functions state machine".to_owned(),
            Self::EventBus { .. } => "event bus".to_owned(),
            Self::Other { service } => format!("{service} target"),
        }
    }
}

/// What an ARN alone says of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TargetArn {
    /// The kind, complete.
    Known(TargetKind),
    /// An SQS queue: its URL is still to be looked up.
    Queue,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_arn_names_its_kind_and_unknown_services_are_named_for_the_refusal() {
        let known = |arn: &str| match TargetKind::of_arn(arn) {
            TargetArn::Known(kind) => kind,
            TargetArn::Queue => panic!("{arn} is not a queue"),
        };
        assert_eq!(
            known("arn:aws:lambda:eu-west-1:111122223333:function:ecomm-inventory:live"),
            TargetKind::Lambda {
                function: "ecomm-inventory".to_owned(),
                qualifier: Some("live".to_owned()),
            }
        );
        assert_eq!(
            TargetKind::of_arn("arn:aws:sqs:eu-west-1:111122223333:audit.fifo"),
            TargetArn::Queue
        );
        assert!(matches!(
            known("arn:aws:states:eu-west-1:111122223333:stateMachine:refunds"),
            TargetKind::StepFunctions { .. }
        ));
        assert!(matches!(
            known("arn:aws:events:eu-west-1:444455556666:event-bus/central"),
            TargetKind::EventBus { .. }
        ));
        assert!(matches!(
            known("arn:aws:sns:eu-west-1:111122223333:orders"),
            TargetKind::Sns { .. }
        ));
        assert_eq!(
            known("arn:aws:kinesis:eu-west-1:111122223333:stream/clicks").describe(),
            "kinesis target"
        );
    }
}
