//! Discovery: the bus's rules, their targets' `DeadLetterConfig`, and the functions' on-failure
//! destinations, turned into the consumers `dlq ls` lists, with what is miswired.

use aws_sdk_eventbridge::operation::describe_event_bus::DescribeEventBusError;
use aws_sdk_lambda::operation::get_function_event_invoke_config::GetFunctionEventInvokeConfigError;

use futures::{StreamExt as _, TryStreamExt as _};

use super::AwsBackend;
use super::errors::classify;
use crate::backend::targets::{TargetArn, TargetInput, TargetKind};
use crate::backend::{BackendError, Consumer, QueueReader, QueueRef, RecordBucket};

/// Rules, and targets, looked at at once during discovery.
const DISCOVERY_CONCURRENCY: usize = 8;

/// `my-function` of `arn:aws:lambda:<region>:<account>:function:my-function[:qualifier]`.
fn function_name(arn: &str) -> String {
    arn.split(':').nth(6).unwrap_or(arn).to_owned()
}

impl AwsBackend {
    /// Fail with `BusNotFound` unless the bus exists.
    pub(super) async fn check_bus(&self) -> Result<(), BackendError> {
        self.events
            .describe_event_bus()
            .name(&self.bus)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(DescribeEventBusError::is_resource_not_found_exception)
                {
                    BackendError::BusNotFound(self.bus.clone())
                } else {
                    classify("while reading the event bus", &e)
                }
            })?;
        Ok(())
    }

    /// Every target of every rule of the bus, with its DLQ wiring.
    ///
    /// Rules and targets are looked at [`DISCOVERY_CONCURRENCY`] at a time, not one after the
    /// other: each target costs a few calls (its queue, its function's on-failure destination,
    /// its DLQ), and every command starts with this.
    pub(super) async fn discover(&self) -> Result<Vec<Consumer>, BackendError> {
        let rules = self.rules().await?;
        let targets: Vec<(&str, &str, aws_sdk_eventbridge::types::Target)> =
            futures::stream::iter(&rules)
                .map(|(rule, rule_arn)| async move {
                    let targets = self.targets(rule).await?;
                    Ok::<_, BackendError>(
                        targets
                            .into_iter()
                            .map(|t| (rule.as_str(), rule_arn.as_str(), t))
                            .collect::<Vec<_>>(),
                    )
                })
                .buffered(DISCOVERY_CONCURRENCY)
                .try_concat()
                .await?;
        let mut consumers: Vec<Consumer> = futures::stream::iter(&targets)
            .map(|(rule, rule_arn, target)| self.consumer(rule, rule_arn, target))
            .buffered(DISCOVERY_CONCURRENCY)
            .try_collect()
            .await?;
        consumers.sort_by(|a, b| a.target.cmp(&b.target));
        Ok(consumers)
    }

    /// One target of a rule, with its DLQ wiring.
    async fn consumer(
        &self,
        rule: &str,
        rule_arn: &str,
        target: &aws_sdk_eventbridge::types::Target,
    ) -> Result<Consumer, BackendError> {
        let mut findings = Vec::new();
        let kind = match TargetKind::of_arn(target.arn()) {
            TargetArn::Known(kind) => kind,
            TargetArn::Queue => match self.queue_ref(target.arn()).await {
                Ok(queue) => TargetKind::Sqs {
                    queue,
                    message_group_id: target
                        .sqs_parameters()
                        .and_then(|p| p.message_group_id())
                        .map(str::to_owned),
                },
                Err(BackendError::QueueNotFound(_)) => {
                    findings.push(format!("the target queue {} does not exist", target.arn()));
                    TargetKind::Other {
                        service: "sqs".to_owned(),
                    }
                }
                Err(e) => return Err(e),
            },
        };
        let function = match &kind {
            TargetKind::Lambda { function, .. } => Some(function.clone()),
            _ => None,
        };
        let delivery_dlq = target
            .dead_letter_config()
            .and_then(|d| d.arn())
            .map(str::to_owned);
        let function_dlq = match &kind {
            TargetKind::Lambda {
                function,
                qualifier,
            } => {
                self.on_failure_destination(function, qualifier.as_deref())
                    .await?
            }
            _ => None,
        };
        let records = failure_bucket(function_dlq.as_deref(), function.as_deref());
        wiring_findings(
            (delivery_dlq.as_deref(), function_dlq.as_deref()),
            function.is_some(),
            records.as_ref(),
            &mut findings,
        );
        let chosen = delivery_dlq
            .clone()
            .or_else(|| function_dlq.clone().filter(|d| is_sqs(d)));
        let reader = match &kind {
            TargetKind::Sqs { queue, .. } => self.queue_reader(queue, &mut findings).await?,
            _ => None,
        };
        let failure_bucket = records.as_ref().map(RecordBucket::url);
        let dlq = match &chosen {
            Some(arn) => match self.queue_ref(arn).await {
                Ok(queue) => Some(QueueRef { records, ..queue }),
                Err(BackendError::QueueNotFound(_)) => {
                    findings.push(format!("the DLQ {arn} does not exist"));
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        Ok(Consumer {
            target: self
                .names
                .get(target.id())
                .cloned()
                .unwrap_or_else(|| target.id().to_owned()),
            rule: rule.to_owned(),
            rule_arn: rule_arn.to_owned(),
            target_arn: target.arn().to_owned(),
            kind,
            input: target_input(target),
            function,
            delivery_dlq,
            function_dlq,
            failure_bucket,
            dlq,
            reader,
            findings,
        })
    }

    /// What reads a queue target: the function of its event source mapping (ListEventSourceMappings
    /// by the queue's ARN) and its redrive policy's DLQ (the queue's `RedrivePolicy`
    /// attribute). `None` when neither exists: the queue is read by something outside.
    async fn queue_reader(
        &self,
        queue: &QueueRef,
        findings: &mut Vec<String>,
    ) -> Result<Option<QueueReader>, BackendError> {
        let mappings = self
            .lambda
            .list_event_source_mappings()
            .event_source_arn(&queue.arn)
            .send()
            .await
            .map_err(|e| classify("while listing the queue's event source mappings", &e));
        // What reads the queue only adds to the picture: a role that may not look is told so,
        // and the command goes on with the target's own DLQ.
        let function = match mappings {
            Ok(mappings) => mappings
                .event_source_mappings()
                .iter()
                .find_map(|m| m.function_arn())
                .map(function_name),
            Err(BackendError::AccessDenied(e)) => {
                findings.push(format!(
                    "cannot see which function reads {} (lambda:ListEventSourceMappings): {e}",
                    queue.name
                ));
                None
            }
            Err(e) => return Err(e),
        };
        let dlq_arn = self.redrive_dlq(queue).await?;
        if function.is_none() && dlq_arn.is_none() {
            return Ok(None);
        }
        let Some(arn) = &dlq_arn else {
            findings.push(format!(
                "the target queue {} has no redrive policy: records its function keeps failing stay until the queue's retention drops them",
                queue.name
            ));
            return Ok(Some(QueueReader {
                function,
                dlq: None,
            }));
        };
        let dlq = match self.queue_ref(arn).await {
            Ok(dlq) => Some(dlq),
            Err(BackendError::QueueNotFound(_)) => {
                findings.push(format!(
                    "the target queue's redrive DLQ {arn} does not exist"
                ));
                None
            }
            Err(e) => return Err(e),
        };
        Ok(Some(QueueReader { function, dlq }))
    }

    /// The on-failure destination of the function (of the alias or version the target names:
    /// each has its own async-invoke config).
    async fn on_failure_destination(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<Option<String>, BackendError> {
        match self
            .lambda
            .get_function_event_invoke_config()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_owned))
            .send()
            .await
        {
            Ok(config) => Ok(config
                .destination_config()
                .and_then(|d| d.on_failure())
                .and_then(|f| f.destination())
                .map(str::to_owned)),
            Err(e)
                if e.as_service_error().is_some_and(
                    GetFunctionEventInvokeConfigError::is_resource_not_found_exception,
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(classify(
                &format!("while reading the async-invoke config of {function}"),
                &e,
            )),
        }
    }

    /// The bus's rules: name and ARN.
    async fn rules(&self) -> Result<Vec<(String, String)>, BackendError> {
        let mut rules = Vec::new();
        let mut token = None;
        // ListRules has no SDK paginator: follow NextToken.
        loop {
            let page = self
                .events
                .list_rules()
                .event_bus_name(&self.bus)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify("while listing the bus's rules", &e))?;
            rules.extend(page.rules().iter().filter_map(|r| {
                Some((r.name()?.to_owned(), r.arn().unwrap_or_default().to_owned()))
            }));
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(rules);
            }
        }
    }

    async fn targets(
        &self,
        rule: &str,
    ) -> Result<Vec<aws_sdk_eventbridge::types::Target>, BackendError> {
        let mut targets = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .events
                .list_targets_by_rule()
                .rule(rule)
                .event_bus_name(&self.bus)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify(&format!("while listing the targets of rule {rule}"), &e))?;
            targets.extend(page.targets().iter().cloned());
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(targets);
            }
        }
    }
}

/// What the target sends instead of the event: `Input`, `InputPath` or `InputTransformer`.
fn target_input(target: &aws_sdk_eventbridge::types::Target) -> TargetInput {
    if let Some(input) = target.input() {
        TargetInput::Constant {
            input: input.to_owned(),
        }
    } else if let Some(path) = target.input_path() {
        TargetInput::Path {
            path: path.to_owned(),
        }
    } else if let Some(transformer) = target.input_transformer() {
        TargetInput::Transformer {
            paths: transformer
                .input_paths_map()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            template: transformer.input_template().to_owned(),
        }
    } else {
        TargetInput::Event
    }
}

fn is_sqs(arn: &str) -> bool {
    arn.split(':').nth(2) == Some("sqs")
}

/// Lambda's S3 on-failure destination (`arn:aws:s3:::BUCKET`) as the prefix it writes the
/// function's records under: `s3://BUCKET/aws/lambda/async/FUNCTION/`.
fn failure_bucket(destination: Option<&str>, function: Option<&str>) -> Option<RecordBucket> {
    let bucket = destination?.strip_prefix("arn:aws:s3:::")?;
    let bucket = bucket.split('/').next().unwrap_or(bucket);
    Some(RecordBucket {
        bucket: bucket.to_owned(),
        prefix: format!("aws/lambda/async/{}/", function?),
    })
}

/// What is miswired, from where delivery failures (`delivery`) and function errors (`function`)
/// go: `(delivery, function)` destinations, whether the target is a function, and the bucket
/// when function errors go to S3.
fn wiring_findings(
    (delivery, errors): (Option<&str>, Option<&str>),
    is_function: bool,
    bucket: Option<&RecordBucket>,
    findings: &mut Vec<String>,
) {
    if let (Some(bucket), None) = (bucket, delivery) {
        findings.push(format!(
            "function errors go to {} (Lambda's S3 on-failure destination), but there is no target DeadLetterConfig: ecomm reads a bucket's records with the DLQ they belong to, so it cannot read them; read them with `aws s3 ls {} --recursive`",
            bucket.url(),
            bucket.url()
        ));
    }
    let miswired = match (delivery, errors) {
        (None, None) => {
            Some("no DLQ: failed deliveries and function errors are dropped".to_owned())
        }
        (None, Some(_)) => {
            Some("no target DeadLetterConfig: EventBridge delivery failures are dropped".to_owned())
        }
        (Some(_), None) if is_function => Some(
            "no on-failure destination: function errors are dropped after Lambda's async retries"
                .to_owned(),
        ),
        (Some(a), Some(b)) if a != b && bucket.is_none() => Some(format!(
            "function errors go to {b}, not to the target DLQ {a}; ecomm reads {a}"
        )),
        _ => None,
    };
    findings.extend(miswired);
    if errors.is_some_and(|d| !is_sqs(d)) && bucket.is_none() {
        findings.push("the on-failure destination is not an SQS queue".to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUEUE: &str = "arn:aws:sqs:eu-west-1:111122223333:ecomm-prod-analytics-dlq";
    const BUCKET: &str = "arn:aws:s3:::ecomm-prod-analytics-failures-111122223333";

    fn findings(delivery: Option<&str>, errors: Option<&str>) -> Vec<String> {
        let bucket = failure_bucket(errors, Some("ecomm-prod-analytics"));
        let mut findings = Vec::new();
        wiring_findings((delivery, errors), true, bucket.as_ref(), &mut findings);
        findings
    }

    #[test]
    fn a_bucket_beside_the_target_dlq_is_read_with_it_and_is_no_finding() {
        assert_eq!(
            failure_bucket(Some(BUCKET), Some("ecomm-prod-analytics")).map(|b| b.url()),
            Some(
                "s3://ecomm-prod-analytics-failures-111122223333/aws/lambda/async/ecomm-prod-analytics/"
                    .to_owned()
            )
        );
        assert_eq!(findings(Some(QUEUE), Some(BUCKET)), Vec::<String>::new());
    }

    #[test]
    fn a_bucket_without_a_target_dlq_is_said_to_be_unreadable() {
        let found = findings(None, Some(BUCKET));
        assert!(
            found.iter().any(|f| f.contains("cannot read them")
                && f.contains("aws s3 ls s3://ecomm-prod-analytics-failures-111122223333/")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|f| f.contains("EventBridge delivery failures are dropped")),
            "{found:?}"
        );
    }
}
