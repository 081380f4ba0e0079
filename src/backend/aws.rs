//! The backend over AWS: EventBridge for discovery and `--via bus`, Lambda for on-failure
//! destinations and `--via invoke`, SQS for the DLQs, CloudWatch for the oldest message's age.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName,
};
use chrono::{DateTime, Utc};
use ecomm_events::{AttributeValue, MessageAttributes};

use futures::StreamExt as _;

use super::{
    Backend, BackendError, Consumer, EntryOutcome, LogLine, LogRequest, LogSearch, Message,
    QueueRef, QueueStats,
};
use crate::cli::AwsArgs;

/// AWS, for one bus in one account and region.
#[derive(Debug, Clone)]
pub struct AwsBackend {
    sqs: aws_sdk_sqs::Client,
    events: aws_sdk_eventbridge::Client,
    lambda: aws_sdk_lambda::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    /// CloudWatch Logs, for `trace`.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    bus: String,
    region: String,
    account: String,
    profile: Option<String>,
}

/// An error and its causes on one line. The SDK's `DisplayErrorContext` appends a `Debug` dump
/// of the raw response (kilobytes, for an HTML error page): fine for a log, not for a message
/// the user reads or a reason repeated for every message of a redrive report.
fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// What went wrong, in one line: the service's code and message when it sent them, else the
/// cause (an endpoint that cannot be reached, an answer that is not the service's).
fn describe<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    if let Some(service) = err.as_service_error()
        && let Some(code) = service.code()
    {
        return match service.message() {
            Some(message) => format!("{code}: {message}"),
            None => code.to_owned(),
        };
    }
    if unreachable(err) {
        let mut cause: &(dyn std::error::Error + 'static) = err;
        while let Some(next) = cause.source() {
            cause = next;
        }
        return format!(
            "cannot reach AWS: {cause}\n  fix: check the network (and any proxy), or --endpoint-url / AWS_ENDPOINT_URL"
        );
    }
    one_line(err)
}

/// Whether the request never got an answer (connection refused, DNS, timeout).
fn unreachable<E, R>(err: &SdkError<E, R>) -> bool {
    match err {
        SdkError::DispatchFailure(failure) => failure.is_io() || failure.is_timeout(),
        SdkError::TimeoutError(_) => true,
        _ => false,
    }
}

/// Map an SDK error to what the user can act on.
pub fn classify<E, R>(context: &str, err: &SdkError<E, R>) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    let detail = format!("{context}: {}", describe(err));
    let code = err
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .unwrap_or_default();
    match code {
        "AccessDenied" | "AccessDeniedException" | "AuthorizationError" => {
            BackendError::AccessDenied(detail)
        }
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch" => BackendError::Credentials(detail),
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" | "RequestThrottled" => {
            BackendError::Throttled(detail)
        }
        "AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist" => {
            BackendError::QueueNotFound(detail)
        }
        _ => BackendError::Other(detail),
    }
}

impl AwsBackend {
    /// Build the one `SdkConfig` from `--profile`, `--region`, `--endpoint-url` and the standard
    /// environment, check the credentials, and find the bus.
    pub async fn connect(args: &AwsArgs, bus: &str) -> Result<Self, BackendError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = &args.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &args.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &args.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let config: SdkConfig = loader.load().await;
        let region = config.region().ok_or(BackendError::NoRegion)?.to_string();
        let provider = config.credentials_provider().ok_or_else(|| {
            BackendError::Credentials("no credentials provider is configured".to_owned())
        })?;
        aws_credential_types::provider::ProvideCredentials::provide_credentials(&provider)
            .await
            .map_err(|e| BackendError::Credentials(one_line(&e)))?;
        let identity = aws_sdk_sts::Client::new(&config)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| {
                let at = args
                    .endpoint_url
                    .as_deref()
                    .map(|url| format!(" at {url}"))
                    .unwrap_or_default();
                classify(
                    &format!("while checking the credentials (sts:GetCallerIdentity{at})"),
                    &e,
                )
            })?;
        let backend = Self {
            sqs: aws_sdk_sqs::Client::new(&config),
            events: aws_sdk_eventbridge::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            // The oldest message's age is a nicety of `dlq ls`: one try, no retries.
            cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
                aws_sdk_cloudwatch::config::Builder::from(&config)
                    .retry_config(aws_config::retry::RetryConfig::disabled())
                    .build(),
            ),
            // FilterLogEvents allows 5–25 calls per second per account: back off and retry
            // throttling patiently rather than failing the trace.
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                aws_sdk_cloudwatchlogs::config::Builder::from(&config)
                    .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(10))
                    .build(),
            ),
            bus: bus.to_owned(),
            region,
            account: identity.account().unwrap_or("unknown").to_owned(),
            profile: args.profile.clone(),
        };
        backend.events.describe_event_bus().name(bus).send().await.map_err(|e| {
            if e.as_service_error().is_some_and(aws_sdk_eventbridge::operation::describe_event_bus::DescribeEventBusError::is_resource_not_found_exception) {
                BackendError::BusNotFound(bus.to_owned())
            } else {
                classify("while reading the event bus", &e)
            }
        })?;
        Ok(backend)
    }

    async fn queue_ref(&self, arn: &str) -> Result<QueueRef, BackendError> {
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
            .map_err(|e| match classify(&format!("while looking up {arn}"), &e) {
                BackendError::QueueNotFound(_) => BackendError::QueueNotFound(arn.to_owned()),
                other => other,
            })?;
        Ok(QueueRef {
            name: (*name).to_owned(),
            arn: arn.to_owned(),
            url: url.queue_url().unwrap_or_default().to_owned(),
        })
    }

    async fn on_failure_destination(&self, function: &str) -> Result<Option<String>, BackendError> {
        match self.lambda.get_function_event_invoke_config().function_name(function).send().await {
            Ok(config) => Ok(config
                .destination_config()
                .and_then(|d| d.on_failure())
                .and_then(|f| f.destination())
                .map(str::to_owned)),
            Err(e) if e.as_service_error().is_some_and(aws_sdk_lambda::operation::get_function_event_invoke_config::GetFunctionEventInvokeConfigError::is_resource_not_found_exception) => Ok(None),
            Err(e) => Err(classify(&format!("while reading the async-invoke config of {function}"), &e)),
        }
    }

    async fn rules(&self) -> Result<Vec<String>, BackendError> {
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
            rules.extend(
                page.rules()
                    .iter()
                    .filter_map(|r| r.name().map(str::to_owned)),
            );
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

/// Lines of one log group containing `term`, every page (a page can be empty while a token
/// remains; the paginator follows it).
async fn filter_group(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    request: &LogRequest<'_>,
) -> Result<Vec<LogLine>, String> {
    let mut pages = logs
        .filter_log_events()
        .log_group_name(group)
        // A quoted plain term: JSON filter patterns are not to be trusted (and ids contain `-`).
        .filter_pattern(format!("\"{}\"", request.term.replace('"', "")))
        .start_time(request.start.timestamp_millis())
        .end_time(request.end.timestamp_millis())
        .into_paginator()
        .send();
    let mut lines = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            if e.as_service_error().is_some_and(aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError::is_resource_not_found_exception) {
                format!("log group {group} does not exist")
            } else {
                classify(&format!("while reading {group}"), &e).to_string()
            }
        })?;
        for event in page.events() {
            lines.push(LogLine {
                group: group.to_owned(),
                timestamp: DateTime::from_timestamp_millis(event.timestamp().unwrap_or_default())
                    .unwrap_or_default(),
                message: event.message().unwrap_or_default().to_owned(),
            });
        }
    }
    Ok(lines)
}

/// One Logs Insights query across the groups (up to 50), polled to completion.
async fn insights(
    logs: &aws_sdk_cloudwatchlogs::Client,
    request: &LogRequest<'_>,
) -> Result<LogSearch, BackendError> {
    use aws_sdk_cloudwatchlogs::types::QueryStatus;
    let mut search = LogSearch::default();
    for groups in request.groups.chunks(50) {
        let query = format!(
            "fields @timestamp, @message, @log | filter @message like \"{}\" | sort @timestamp asc | limit 10000",
            request.term.replace('"', "")
        );
        let started = logs
            .start_query()
            .set_log_group_names(Some(groups.to_vec()))
            .start_time(request.start.timestamp())
            .end_time(request.end.timestamp())
            .query_string(query)
            .send()
            .await
            .map_err(|e| classify("while starting a Logs Insights query", &e))?;
        let id = started.query_id().unwrap_or_default().to_owned();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_mins(2);
        loop {
            let results = logs
                .get_query_results()
                .query_id(&id)
                .send()
                .await
                .map_err(|e| classify("while reading a Logs Insights query", &e))?;
            let status = results.status().cloned().unwrap_or(QueryStatus::Running);
            let done = matches!(
                status,
                QueryStatus::Complete
                    | QueryStatus::Failed
                    | QueryStatus::Cancelled
                    | QueryStatus::Timeout
            );
            if done || tokio::time::Instant::now() >= deadline {
                for row in results.results() {
                    let field = |name: &str| {
                        row.iter()
                            .find(|f| f.field() == Some(name))
                            .and_then(|f| f.value())
                            .unwrap_or_default()
                    };
                    // Insights prints `2026-01-22 11:45:00.123`; some emulators print epoch ms.
                    let raw = field("@timestamp");
                    let timestamp =
                        chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.3f")
                            .map(|t| t.and_utc())
                            .ok()
                            .or_else(|| {
                                raw.parse::<i64>()
                                    .ok()
                                    .and_then(DateTime::from_timestamp_millis)
                            })
                            .unwrap_or_default();
                    let group = field("@log")
                        .rsplit(':')
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    search.lines.push(LogLine {
                        group,
                        timestamp,
                        message: field("@message").to_owned(),
                    });
                }
                if status != QueryStatus::Complete {
                    search.partial = true;
                    search.problems.push(format!(
                        "the Logs Insights query ended {status:?}: results may be incomplete"
                    ));
                    if !done {
                        let _ = logs.stop_query().query_id(&id).send().await;
                    }
                }
                if results.results().len() >= 10_000 {
                    search.partial = true;
                    search.problems.push(
                        "Logs Insights returned its 10,000-row maximum: narrow the window"
                            .to_owned(),
                    );
                }
                break;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
    search.lines.sort_by_key(|l| l.timestamp);
    Ok(search)
}

/// The function name of a Lambda ARN (`arn:aws:lambda:r:a:function:NAME[:qualifier]`).
fn function_name(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.split(':').collect();
    (parts.get(2) == Some(&"lambda") && parts.get(5) == Some(&"function"))
        .then(|| parts.get(6).map(|s| (*s).to_owned()))
        .flatten()
}

fn is_sqs(arn: &str) -> bool {
    arn.split(':').nth(2) == Some("sqs")
}

fn attributes(raw: Option<&HashMap<String, MessageAttributeValue>>) -> MessageAttributes {
    let mut out = MessageAttributes::new();
    for (name, value) in raw.into_iter().flatten() {
        let data_type = value.data_type();
        let converted = if data_type.starts_with("Binary") {
            AttributeValue::binary(
                value
                    .binary_value()
                    .map(aws_sdk_sqs::primitives::Blob::as_ref)
                    .unwrap_or_default(),
            )
        } else if data_type.starts_with("Number") {
            AttributeValue::number(value.string_value().unwrap_or_default())
        } else {
            AttributeValue::string(value.string_value().unwrap_or_default())
        };
        out.insert(name.clone(), converted);
    }
    out
}

#[async_trait(?Send)]
impl Backend for AwsBackend {
    fn banner(&self) -> String {
        let profile = self
            .profile
            .as_deref()
            .map(|p| format!(", profile {p}"))
            .unwrap_or_default();
        format!(
            "aws: account {}, region {}, bus {}{profile}",
            self.account, self.region, self.bus
        )
    }

    async fn consumers(&self) -> Result<Vec<Consumer>, BackendError> {
        let mut consumers = Vec::new();
        for rule in self.rules().await? {
            for target in self.targets(&rule).await? {
                let function = function_name(target.arn());
                let delivery_dlq = target
                    .dead_letter_config()
                    .and_then(|d| d.arn())
                    .map(str::to_owned);
                let function_dlq = match &function {
                    Some(f) => self.on_failure_destination(f).await?,
                    None => None,
                };
                let mut findings = Vec::new();
                match (&delivery_dlq, &function_dlq) {
                    (None, None) => findings.push("no DLQ: failed deliveries and function errors are dropped".to_owned()),
                    (None, Some(_)) => findings.push("no target DeadLetterConfig: EventBridge delivery failures are dropped".to_owned()),
                    (Some(_), None) if function.is_some() => findings.push(
                        "no on-failure destination: function errors are dropped after Lambda's async retries".to_owned(),
                    ),
                    (Some(a), Some(b)) if a != b => findings.push(format!("function errors go to {b}, not to the target DLQ {a}; ecomm reads {a}")),
                    _ => {}
                }
                let chosen = delivery_dlq
                    .clone()
                    .or_else(|| function_dlq.clone().filter(|d| is_sqs(d)));
                if function_dlq.as_deref().is_some_and(|d| !is_sqs(d)) {
                    findings.push("the on-failure destination is not an SQS queue".to_owned());
                }
                let dlq = match &chosen {
                    Some(arn) => match self.queue_ref(arn).await {
                        Ok(queue) => Some(queue),
                        Err(BackendError::QueueNotFound(_)) => {
                            findings.push(format!("the DLQ {arn} does not exist"));
                            None
                        }
                        Err(e) => return Err(e),
                    },
                    None => None,
                };
                consumers.push(Consumer {
                    target: target.id().to_owned(),
                    rule: rule.clone(),
                    target_arn: target.arn().to_owned(),
                    function,
                    delivery_dlq,
                    function_dlq,
                    dlq,
                    findings,
                });
            }
        }
        consumers.sort_by(|a, b| a.target.cmp(&b.target));
        Ok(consumers)
    }

    async fn queue_stats(&self, queue: &QueueRef) -> Result<QueueStats, BackendError> {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(&queue.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| classify(&format!("while reading {}", queue.name), &e))?;
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
        })
    }

    async fn oldest_sent(&self, queue: &QueueRef) -> Option<DateTime<Utc>> {
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

    async fn receive(
        &self,
        queue: &QueueRef,
        max: u8,
        visibility_s: u32,
        wait_s: u8,
    ) -> Result<Vec<Message>, BackendError> {
        let response = self
            .sqs
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(i32::from(max))
            .visibility_timeout(i32::try_from(visibility_s).unwrap_or(i32::MAX))
            .wait_time_seconds(i32::from(wait_s))
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| classify(&format!("while receiving from {}", queue.name), &e))?;
        Ok(response
            .messages()
            .iter()
            .map(|m| {
                let system = m.attributes();
                let sent = system
                    .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                    .and_then(|v| v.parse::<i64>().ok())
                    .and_then(DateTime::from_timestamp_millis);
                let receive_count = system
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                Message {
                    message_id: m.message_id().unwrap_or_default().to_owned(),
                    receipt_handle: m.receipt_handle().unwrap_or_default().to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                    attributes: attributes(m.message_attributes()),
                    sent,
                    receive_count,
                }
            })
            .collect())
    }

    async fn delete(
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
            .map_err(|e| classify(&format!("while deleting from {}", queue.name), &e))?;
        let ok = response
            .successful()
            .iter()
            .map(aws_sdk_sqs::types::DeleteMessageBatchResultEntry::id);
        Ok(per_entry(receipts.len(), ok, response.failed()))
    }

    async fn change_visibility(
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
            .map_err(|e| classify(&format!("while changing visibility in {}", queue.name), &e))?;
        let ok = response
            .successful()
            .iter()
            .map(aws_sdk_sqs::types::ChangeMessageVisibilityBatchResultEntry::id);
        Ok(per_entry(receipts.len(), ok, response.failed()))
    }

    async fn purge(&self, queue: &QueueRef) -> Result<(), BackendError> {
        self.sqs.purge_queue().queue_url(&queue.url).send().await.map_err(|e| {
            if e.as_service_error().is_some_and(aws_sdk_sqs::operation::purge_queue::PurgeQueueError::is_purge_queue_in_progress) {
                BackendError::PurgeInProgress(format!("{} was purged less than 60 s ago; SQS allows one purge per minute", queue.name))
            } else {
                classify(&format!("while purging {}", queue.name), &e)
            }
        })?;
        Ok(())
    }

    async fn invoke_async(&self, function: &str, payload: &str) -> Result<(), BackendError> {
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

    async fn search_logs(&self, request: &LogRequest<'_>) -> Result<LogSearch, BackendError> {
        if request.insights {
            return insights(&self.logs, request).await;
        }
        // In parallel, but within the account's FilterLogEvents rate.
        let results: Vec<Result<Vec<LogLine>, String>> =
            futures::stream::iter(request.groups.iter())
                .map(|group| filter_group(&self.logs, group, request))
                .buffered(5)
                .collect()
                .await;
        let mut search = LogSearch::default();
        for result in results {
            match result {
                Ok(lines) => search.lines.extend(lines),
                Err(problem) => search.problems.push(problem),
            }
        }
        search.lines.sort_by_key(|l| l.timestamp);
        Ok(search)
    }

    async fn put_events(
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
                Some(entry) => Err(format!(
                    "{}: {}",
                    entry.error_code().unwrap_or("Unknown"),
                    entry.error_message().unwrap_or_default()
                )),
                None => Err("PutEvents returned no result for this entry".to_owned()),
            })
            .collect())
    }
}

/// One outcome per entry, in request order, from a batch call's `Successful` and `Failed` lists;
/// an entry in neither is a failure, never assumed done.
fn per_entry<'a>(
    len: usize,
    ok: impl Iterator<Item = &'a str>,
    failed: &[aws_sdk_sqs::types::BatchResultErrorEntry],
) -> Vec<EntryOutcome> {
    let ok: Vec<&str> = ok.collect();
    let failed: HashMap<&str, String> = failed
        .iter()
        .map(|f| {
            (
                f.id(),
                format!("{}: {}", f.code(), f.message().unwrap_or_default()),
            )
        })
        .collect();
    (0..len)
        .map(|i| {
            let id = i.to_string();
            if let Some(error) = failed.get(id.as_str()) {
                Err(error.clone())
            } else if ok.contains(&id.as_str()) {
                Ok(())
            } else {
                Err("no result returned for this entry".to_owned())
            }
        })
        .collect()
}
