//! A bus with its consumers in moto, "as Terraform would" create them (rules, Lambda targets with
//! a DLQ and a retry policy, on-failure destinations to the same queue), the verbs that seed a
//! consumer's DLQ as EventBridge or Lambda would, reading queues back with the SDK, and the
//! `ecomm` binary pointed at it.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_eventbridge::types::{DeadLetterConfig, RetryPolicy, Target};
use aws_sdk_lambda::types::{DestinationConfig, OnFailure};
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName,
};
use chrono::{DateTime, Utc};
use ecomm_events::DlqMessage;
use ecomm_events::dlq::{InvocationRecord, TargetFailure};
use ecomm_events::{AttributeValue, MessageAttributes};
use serde_json::{Value, json};

use super::Ecomm;
use super::fixtures::{cli_attributes, lambda_dlq, sdk_attribute};
use super::moto::{
    create_function, create_role, endpoint, execution_role, lambda_without_docker, sdk_config,
    sdk_config_in, unique,
};

/// How a consumer's failures reach a DLQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wiring {
    /// Target `DeadLetterConfig` and the function's on-failure destination, one queue.
    Both,
    /// Only the target `DeadLetterConfig`.
    DeliveryOnly,
    /// No DLQ at all.
    Unwired,
}

/// A rule target that is not a function, for [`Stack::deploy_target`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Direct {
    /// A standard SQS queue.
    Queue,
    /// A FIFO queue, the target's `SqsParameters.MessageGroupId` set to this group.
    FifoQueue(&'static str),
    /// An SNS topic, with an SQS subscription (raw message delivery) to read back.
    Topic,
    /// A Step Functions state machine (one `Pass` state).
    StateMachine,
    /// A Kinesis stream ARN: a type `ecomm` does not deliver to.
    Stream,
    /// Another bus, by ARN (in this account or another).
    Bus(String),
}

/// Where what reached a direct target can be read back.
#[derive(Debug, Clone)]
pub(crate) struct Sink {
    /// The queue target, or the topic's subscribed queue.
    pub(crate) queue: Option<Queue>,
    /// The state machine's ARN.
    pub(crate) state_machine: Option<String>,
}

/// An SQS queue by every name.
#[derive(Debug, Clone)]
pub(crate) struct Queue {
    /// Its name.
    pub(crate) name: String,
    /// Its URL.
    pub(crate) url: String,
    /// Its ARN.
    pub(crate) arn: String,
}

/// One deployed consumer.
#[derive(Debug, Clone)]
pub(crate) struct Deployed {
    /// The function's name.
    pub(crate) function: String,
    /// The function's ARN.
    pub(crate) function_arn: String,
    /// The rule's ARN.
    pub(crate) rule_arn: String,
    /// The DLQ, unless unwired.
    pub(crate) dlq: Option<Queue>,
}

/// A message as read back with the SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    /// The message id.
    pub(crate) message_id: String,
    /// The body.
    pub(crate) body: String,
    /// The attributes, converted like the CLI converts them.
    pub(crate) attributes: MessageAttributes,
}

/// A bus and its consumers in moto, the SDK clients to check them, and a private HOME for the
/// CLI (its redrive journal lands there).
pub(crate) struct Stack {
    /// moto.
    pub(crate) endpoint: String,
    /// The bus's name.
    pub(crate) bus: String,
    /// Checks on queues.
    pub(crate) sqs: aws_sdk_sqs::Client,
    /// Checks on the bus.
    pub(crate) events: aws_sdk_eventbridge::Client,
    /// Checks on functions.
    pub(crate) lambda: aws_sdk_lambda::Client,
    /// The functions' log groups.
    logs: aws_sdk_cloudwatchlogs::Client,
    /// The consumers by target id.
    pub(crate) consumers: BTreeMap<String, Deployed>,
    prefix: String,
    home: tempfile::TempDir,
}

impl Stack {
    /// A fresh bus with these consumers (target id, wiring), their rules matching the ecomm
    /// events.
    pub(crate) async fn deploy(consumers: &[(&str, Wiring)]) -> Self {
        let pattern = json!({"source": ["ecomm.orders", "ecomm.inventory", "ecomm.refunds"]});
        Self::deploy_with(consumers, &pattern).await
    }

    /// The same, with consumer rules that match none of the events the tests put on the bus:
    /// moto's `PutEvents` fails as a whole (HTTP 500, "NotImplementedError: Expr not defined
    /// for Rule") as soon as a matching rule has a Lambda target, so `--via bus` tests let a
    /// tap (an SQS target, which moto does deliver to) stand in for the consumers.
    pub(crate) async fn deploy_unrouted(consumers: &[(&str, Wiring)]) -> Self {
        let pattern = json!({"source": ["ecomm.never-put-by-these-tests"]});
        Self::deploy_with(consumers, &pattern).await
    }

    async fn deploy_with(consumers: &[(&str, Wiring)], pattern: &Value) -> Self {
        let endpoint = endpoint();
        let role = execution_role(&endpoint).await;
        let config = sdk_config(&endpoint).await;
        Self::deploy_as(&config, &role, &unique("ecomm"), consumers, pattern).await
    }

    /// The same bus, by name, with its consumers in another account (moto's multi-account
    /// support: a session of a role in that account).
    pub(crate) async fn deploy_in(account: &str, bus: &str, consumers: &[(&str, Wiring)]) -> Self {
        let config = sdk_config_in(&endpoint(), account).await;
        let role = create_role(&config, "ecomm-cli-test").await;
        let pattern = json!({"source": ["ecomm.orders", "ecomm.inventory", "ecomm.refunds"]});
        Self::deploy_as(&config, &role, bus, consumers, &pattern).await
    }

    async fn deploy_as(
        config: &aws_config::SdkConfig,
        role: &str,
        bus: &str,
        consumers: &[(&str, Wiring)],
        pattern: &Value,
    ) -> Self {
        let endpoint = endpoint();
        lambda_without_docker(&endpoint).await;
        let prefix = unique("ecomm");
        let mut stack = Self {
            bus: bus.to_owned(),
            sqs: aws_sdk_sqs::Client::new(config),
            events: aws_sdk_eventbridge::Client::new(config),
            lambda: aws_sdk_lambda::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            consumers: BTreeMap::new(),
            endpoint,
            prefix,
            home: tempfile::tempdir().expect("a temporary HOME"),
        };
        stack
            .events
            .create_event_bus()
            .name(&stack.bus)
            .send()
            .await
            .expect("create the bus");
        for (target, wiring) in consumers {
            let deployed = stack.consumer(target, *wiring, role, pattern).await;
            stack.consumers.insert((*target).to_owned(), deployed);
        }
        stack
    }

    async fn consumer(
        &self,
        target: &str,
        wiring: Wiring,
        role: &str,
        pattern: &Value,
    ) -> Deployed {
        let function = format!("{}-{target}", self.prefix);
        let function_arn = create_function(&self.lambda, &function, role).await;
        let rule_arn = self
            .events
            .put_rule()
            .name(&function)
            .event_bus_name(&self.bus)
            .event_pattern(pattern.to_string())
            .send()
            .await
            .expect("put the rule")
            .rule_arn
            .expect("a rule ARN");
        self.lambda
            .add_permission()
            .function_name(&function)
            .statement_id("eventbridge")
            .action("lambda:InvokeFunction")
            .principal("events.amazonaws.com")
            .source_arn(&rule_arn)
            .send()
            .await
            .expect("allow EventBridge to invoke the function");
        let dlq = match wiring {
            Wiring::Unwired => None,
            Wiring::Both | Wiring::DeliveryOnly => Some(
                self.queue(&format!("{function}-dlq"), Some(&rule_arn))
                    .await,
            ),
        };
        let mut target_builder = Target::builder()
            .id(target)
            .arn(&function_arn)
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_retry_attempts(4)
                    .maximum_event_age_in_seconds(3600)
                    .build(),
            );
        if let Some(queue) = &dlq {
            target_builder = target_builder
                .dead_letter_config(DeadLetterConfig::builder().arn(&queue.arn).build());
        }
        self.events
            .put_targets()
            .rule(&function)
            .event_bus_name(&self.bus)
            .targets(target_builder.build().expect("a complete target"))
            .send()
            .await
            .expect("put the target");
        if let (Wiring::Both, Some(queue)) = (wiring, &dlq) {
            self.lambda
                .put_function_event_invoke_config()
                .function_name(&function)
                .maximum_retry_attempts(2)
                .maximum_event_age_in_seconds(3600)
                .destination_config(
                    DestinationConfig::builder()
                        .on_failure(OnFailure::builder().destination(&queue.arn).build())
                        .build(),
                )
                .send()
                .await
                .expect("put the on-failure destination");
        }
        Deployed {
            function,
            function_arn,
            rule_arn,
            dlq,
        }
    }

    /// A standard queue; with `rule_arn`, the DLQ policy EventBridge needs.
    async fn queue(&self, name: &str, rule_arn: Option<&str>) -> Queue {
        let url = self
            .sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("create the queue")
            .queue_url
            .expect("a queue URL");
        let queue = self.queue_at(name, url).await;
        if let Some(rule_arn) = rule_arn {
            self.allow_rule(&queue, rule_arn).await;
        }
        queue
    }

    /// A queue that exists, by every name.
    async fn queue_at(&self, name: &str, url: String) -> Queue {
        let arn = self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("read the queue ARN")
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("a queue ARN");
        Queue {
            name: name.to_owned(),
            url,
            arn,
        }
    }

    /// The queue policy that lets EventBridge send to a DLQ for this rule only.
    async fn allow_rule(&self, queue: &Queue, rule_arn: &str) {
        let policy = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": queue.arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]});
        self.sqs
            .set_queue_attributes()
            .queue_url(&queue.url)
            .attributes(QueueAttributeName::Policy, policy.to_string())
            .send()
            .await
            .expect("set the DLQ policy");
    }

    /// A rule matching every ecomm event, routed to a queue of its own (target id `tap`): what
    /// `--via bus` puts on the bus shows up there.
    pub(crate) async fn tap(&self) -> Queue {
        let name = format!("{}-tap", self.prefix);
        let queue = self.queue(&name, None).await;
        self.events
            .put_rule()
            .name(&name)
            .event_bus_name(&self.bus)
            .event_pattern(json!({"source": [{"prefix": "ecomm."}]}).to_string())
            .send()
            .await
            .expect("put the tap rule");
        self.events
            .put_targets()
            .rule(&name)
            .event_bus_name(&self.bus)
            .targets(
                Target::builder()
                    .id("tap")
                    .arn(&queue.arn)
                    .build()
                    .expect("a complete target"),
            )
            .send()
            .await
            .expect("put the tap target");
        queue
    }

    /// A consumer whose target is not a function: the resource, a rule for it (matching no
    /// event the tests put), and a target DLQ; its target carries `transformer`, when given.
    pub(crate) async fn deploy_target(
        &mut self,
        id: &str,
        direct: Direct,
        transformer: Option<aws_sdk_eventbridge::types::InputTransformer>,
    ) -> Sink {
        let name = format!("{}-{id}", self.prefix);
        let (arn, group, sink) = self.direct_resource(&name, direct).await;
        let rule_arn = self
            .events
            .put_rule()
            .name(&name)
            .event_bus_name(&self.bus)
            .event_pattern(json!({"source": ["ecomm.never-put-by-these-tests"]}).to_string())
            .send()
            .await
            .expect("put the rule")
            .rule_arn
            .expect("a rule ARN");
        let dlq = self.queue(&format!("{name}-dlq"), Some(&rule_arn)).await;
        let mut target = Target::builder()
            .id(id)
            .arn(&arn)
            .dead_letter_config(DeadLetterConfig::builder().arn(&dlq.arn).build())
            .set_input_transformer(transformer);
        if let Some(group) = group {
            target = target.sqs_parameters(
                aws_sdk_eventbridge::types::SqsParameters::builder()
                    .message_group_id(group)
                    .build(),
            );
        }
        self.events
            .put_targets()
            .rule(&name)
            .event_bus_name(&self.bus)
            .targets(target.build().expect("a complete target"))
            .send()
            .await
            .expect("put the target");
        self.consumers.insert(
            id.to_owned(),
            Deployed {
                function: name,
                function_arn: arn,
                rule_arn,
                dlq: Some(dlq),
            },
        );
        sink
    }

    /// The resource of a direct target: its ARN, the FIFO group, where to read it back.
    async fn direct_resource(
        &self,
        name: &str,
        direct: Direct,
    ) -> (String, Option<&'static str>, Sink) {
        let config = sdk_config(&self.endpoint).await;
        let mut sink = Sink {
            queue: None,
            state_machine: None,
        };
        let mut group = None;
        let arn = match direct {
            Direct::Queue => {
                let queue = self.queue(name, None).await;
                let arn = queue.arn.clone();
                sink.queue = Some(queue);
                arn
            }
            Direct::FifoQueue(message_group) => {
                let url = self
                    .sqs
                    .create_queue()
                    .queue_name(format!("{name}.fifo"))
                    .attributes(QueueAttributeName::FifoQueue, "true")
                    .send()
                    .await
                    .expect("create the FIFO queue")
                    .queue_url
                    .expect("a queue URL");
                let queue = self.queue_at(&format!("{name}.fifo"), url).await;
                group = Some(message_group);
                let arn = queue.arn.clone();
                sink.queue = Some(queue);
                arn
            }
            Direct::Topic => {
                let sns = aws_sdk_sns::Client::new(&config);
                let topic = sns
                    .create_topic()
                    .name(name)
                    .send()
                    .await
                    .expect("create the topic")
                    .topic_arn
                    .expect("a topic ARN");
                let queue = self.queue(&format!("{name}-subscriber"), None).await;
                sns.subscribe()
                    .topic_arn(&topic)
                    .protocol("sqs")
                    .endpoint(&queue.arn)
                    .attributes("RawMessageDelivery", "true")
                    .send()
                    .await
                    .expect("subscribe the queue");
                sink.queue = Some(queue);
                topic
            }
            Direct::StateMachine => {
                let role = execution_role(&self.endpoint).await;
                let arn = aws_sdk_sfn::Client::new(&config)
                    .create_state_machine()
                    .name(name)
                    .role_arn(role)
                    .definition(
                        json!({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": true}}})
                            .to_string(),
                    )
                    .send()
                    .await
                    .expect("create the state machine")
                    .state_machine_arn;
                sink.state_machine = Some(arn.clone());
                arn
            }
            Direct::Stream => format!("arn:aws:kinesis:us-east-1:123456789012:stream/{name}"),
            Direct::Bus(arn) => arn,
        };
        (arn, group, sink)
    }

    /// Give a deployed function consumer's target an input transformer (its DLQ kept).
    pub(crate) async fn transform_input(
        &self,
        id: &str,
        transformer: aws_sdk_eventbridge::types::InputTransformer,
    ) {
        let consumer = self.consumer_of(id);
        let dlq = consumer.dlq.as_ref().expect("a DLQ");
        self.events
            .put_targets()
            .rule(&consumer.function)
            .event_bus_name(&self.bus)
            .targets(
                Target::builder()
                    .id(id)
                    .arn(&consumer.function_arn)
                    .dead_letter_config(DeadLetterConfig::builder().arn(&dlq.arn).build())
                    .input_transformer(transformer)
                    .build()
                    .expect("a complete target"),
            )
            .send()
            .await
            .expect("put the target again, transforming its input");
    }

    /// A consumer.
    pub(crate) fn consumer_of(&self, target: &str) -> &Deployed {
        self.consumers
            .get(target)
            .unwrap_or_else(|| panic!("no consumer {target} deployed"))
    }

    /// Every message of a queue, read with the SDK and made visible again.
    pub(crate) async fn stored(&self, queue: &Queue) -> Vec<Stored> {
        let (stored, receipts) = self.receive_all(queue).await;
        for batch in receipts.chunks(10) {
            let entries = batch
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(r)
                        .visibility_timeout(0)
                        .build()
                        .expect("a complete entry")
                })
                .collect();
            let response = self
                .sqs
                .change_message_visibility_batch()
                .queue_url(&queue.url)
                .set_entries(Some(entries))
                .send()
                .await
                .expect("release the messages read");
            assert!(response.failed.is_empty(), "{:?}", response.failed);
        }
        stored
    }

    /// The message ids of a queue (read and released).
    pub(crate) async fn ids(&self, queue: &Queue) -> BTreeSet<String> {
        self.stored(queue)
            .await
            .into_iter()
            .map(|m| m.message_id)
            .collect()
    }

    /// Every message of a queue, consumed (read and deleted): for the tap queue.
    pub(crate) async fn take_all(&self, queue: &Queue) -> Vec<Stored> {
        let (stored, receipts) = self.receive_all(queue).await;
        for receipt in receipts {
            self.sqs
                .delete_message()
                .queue_url(&queue.url)
                .receipt_handle(receipt)
                .send()
                .await
                .expect("delete a tap message");
        }
        stored
    }

    /// The events routed to the tap so far (consumed).
    pub(crate) async fn tapped(&self, tap: &Queue) -> Vec<Value> {
        self.take_all(tap)
            .await
            .iter()
            .map(|m| serde_json::from_str(&m.body).expect("the bus delivers events as JSON"))
            .collect()
    }

    async fn receive_all(&self, queue: &Queue) -> (Vec<Stored>, Vec<String>) {
        let mut stored = Vec::new();
        let mut receipts = Vec::new();
        loop {
            let response = self
                .sqs
                .receive_message()
                .queue_url(&queue.url)
                .max_number_of_messages(10)
                .visibility_timeout(30)
                .wait_time_seconds(1)
                .message_attribute_names("All")
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive");
            let messages = response.messages.unwrap_or_default();
            if messages.is_empty() {
                return (stored, receipts);
            }
            for message in messages {
                let id = message.message_id.clone().expect("a message id");
                receipts.push(message.receipt_handle.clone().expect("a receipt handle"));
                if stored.iter().any(|s: &Stored| s.message_id == id) {
                    continue;
                }
                stored.push(Stored {
                    message_id: id,
                    body: message.body.clone().unwrap_or_default(),
                    attributes: cli_attributes(message.message_attributes.as_ref()),
                });
            }
        }
    }

    /// `(ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible)`.
    pub(crate) async fn depth(&self, queue: &Queue) -> (u64, u64) {
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&queue.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("read the queue's counters")
            .attributes
            .unwrap_or_default();
        let number = |name| {
            attributes
                .get(&name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(u64::MAX)
        };
        (
            number(QueueAttributeName::ApproximateNumberOfMessages),
            number(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// Wait (up to 3 s) until the queue shows `visible` messages and none in flight: moto
    /// counts a message released with visibility 0 as visible only once its clock has moved
    /// past the release's millisecond.
    pub(crate) async fn assert_all_visible(&self, queue: &Queue, visible: u64) {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let depth = self.depth(queue).await;
            if depth == (visible, 0) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: (visible, in flight) = {depth:?}, expected ({visible}, 0)",
                queue.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `ecomm --env aws --endpoint-url <moto> --region us-east-1 --bus <bus>`, credentials on
    /// the command, HOME private to this stack.
    pub(crate) fn ecomm(&self) -> Ecomm {
        self.ecomm_at(&self.endpoint)
    }

    /// The same, through another endpoint (the recording proxy, a closed port).
    pub(crate) fn ecomm_at(&self, endpoint: &str) -> Ecomm {
        Ecomm::from_command(self.command(endpoint, &self.bus))
    }

    /// The same, naming another bus.
    pub(crate) fn ecomm_on_bus(&self, bus: &str) -> Ecomm {
        Ecomm::from_command(self.command(&self.endpoint, bus))
    }

    fn command(&self, endpoint: &str, bus: &str) -> std::process::Command {
        let home = self.home.path();
        let mut command = Ecomm::bare().process();
        command
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .args(["--env", "aws", "--endpoint-url", endpoint])
            .args(["--region", "us-east-1", "--bus", bus]);
        command
    }

    /// The redrive journal of this stack's runs.
    pub(crate) fn journal(&self) -> PathBuf {
        self.home
            .path()
            .join("data")
            .join("ecomm")
            .join("redrive-journal.ndjson")
    }

    /// The redrive journal's message lines: outcome → message ids.
    pub(crate) fn journal_outcomes(&self) -> BTreeMap<String, BTreeSet<String>> {
        let journal = std::fs::read_to_string(self.journal()).expect("the redrive journal");
        let mut outcomes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for line in journal.lines() {
            let line: super::JournalLine =
                serde_json::from_str(line).expect("the journal holds journal lines");
            if let super::JournalLine::Message {
                message_id,
                outcome,
                ..
            } = line
            {
                outcomes.entry(outcome).or_default().insert(message_id);
            }
        }
        outcomes
    }

    /// `/aws/lambda/<prefix>-<service>`: the log group of a consumer's function or the producer.
    pub(crate) fn log_group(&self, service: &str) -> String {
        format!("/aws/lambda/{}-{service}", self.prefix)
    }

    /// Create the log groups of these services.
    pub(crate) async fn log_groups(&self, services: &[&str]) {
        for service in services {
            self.logs
                .create_log_group()
                .log_group_name(self.log_group(service))
                .send()
                .await
                .expect("create the log group");
        }
    }

    /// Write lines to a new stream of a service's group, in time order, as Lambda would.
    pub(crate) async fn write_logs(&self, service: &str, lines: &[(DateTime<Utc>, String)]) {
        self.write_group(&self.log_group(service), lines).await;
    }

    /// The group the bus's own log is delivered to (as Terraform names it), created.
    pub(crate) async fn bus_log_group(&self) -> String {
        let group = ecomm_events::buslog::bus_log_group(&self.bus);
        self.logs
            .create_log_group()
            .log_group_name(&group)
            .send()
            .await
            .expect("create the bus's log group");
        group
    }

    /// Write lines to a new stream of `group`, in time order.
    pub(crate) async fn write_group(&self, group: &str, lines: &[(DateTime<Utc>, String)]) {
        let group = group.to_owned();
        let stream = format!("2026/11/26/[$LATEST]{}", unique("s"));
        self.logs
            .create_log_stream()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .send()
            .await
            .expect("create the log stream");
        let mut lines = lines.to_vec();
        lines.sort_by_key(|(at, _)| *at);
        for batch in lines.chunks(1000) {
            let events = batch
                .iter()
                .map(|(at, message)| {
                    InputLogEvent::builder()
                        .timestamp(at.timestamp_millis())
                        .message(message)
                        .build()
                        .expect("a complete log event")
                })
                .collect();
            self.logs
                .put_log_events()
                .log_group_name(&group)
                .log_stream_name(&stream)
                .set_log_events(Some(events))
                .send()
                .await
                .expect("put the log events");
        }
    }

    /// A consumer's DLQ, and the verbs that seed it.
    pub(crate) fn dlq<'a>(&'a self, target: &'a str) -> Dlq<'a> {
        let consumer = self.consumer_of(target);
        Dlq {
            stack: self,
            target,
            consumer,
            queue: consumer
                .dlq
                .as_ref()
                .unwrap_or_else(|| panic!("{target} has no DLQ")),
        }
    }
}

/// One consumer's DLQ: seeded as EventBridge or Lambda would, read back with the SDK. It
/// dereferences to the queue's names.
#[derive(Clone, Copy)]
pub(crate) struct Dlq<'a> {
    stack: &'a Stack,
    target: &'a str,
    consumer: &'a Deployed,
    queue: &'a Queue,
}

impl Deref for Dlq<'_> {
    type Target = Queue;

    fn deref(&self) -> &Queue {
        self.queue
    }
}

impl Dlq<'_> {
    /// Send a DLQ message as EventBridge or Lambda would; returns its message id.
    pub(crate) async fn seed(&self, message: &DlqMessage) -> String {
        let attributes: std::collections::HashMap<String, MessageAttributeValue> = message
            .attributes
            .iter()
            .map(|(name, value)| (name.clone(), sdk_attribute(value)))
            .collect();
        self.stack
            .sqs
            .send_message()
            .queue_url(&self.queue.url)
            .message_body(&message.body)
            .set_message_attributes((!attributes.is_empty()).then_some(attributes))
            .send()
            .await
            .expect("send the DLQ message")
            .message_id
            .expect("a message id")
    }

    /// What EventBridge writes to this target DLQ after giving up with `code`;
    /// `RETRY_ATTEMPTS` as a `Number` attribute, as it sometimes is.
    pub(crate) fn target_failure(&self, event: &Value, code: &str) -> DlqMessage {
        let mut message = DlqMessage::eventbridge_target(
            event,
            &TargetFailure {
                rule_arn: Some(self.consumer.rule_arn.clone()),
                target_arn: Some(self.consumer.function_arn.clone()),
                error_code: Some(code.to_owned()),
                error_message: Some(format!("{code} while delivering to {}", self.target)),
                exhausted_retry_condition: Some("MaximumRetryAttempts".to_owned()),
                retry_attempts: Some(4),
            },
        );
        message
            .attributes
            .insert("RETRY_ATTEMPTS".to_owned(), AttributeValue::number("4"));
        message
    }

    /// What Lambda writes to the on-failure destination of this consumer's function.
    pub(crate) fn destination_record(&self, event: &Value, error_type: &str) -> DlqMessage {
        self.failed_invocation(event, error_type, "the function failed on every attempt")
    }

    /// The same, with the function's error message.
    pub(crate) fn failed_invocation(
        &self,
        event: &Value,
        error_type: &str,
        error_message: &str,
    ) -> DlqMessage {
        DlqMessage::lambda_destination(&InvocationRecord::failed(
            "2026-01-22T11:48:17.652Z".to_owned(),
            unique("req"),
            format!("{}:$LATEST", self.consumer.function_arn),
            "RetriesExhausted",
            3,
            event.clone(),
            error_type,
            error_message,
        ))
    }

    /// Seed what EventBridge writes after giving up delivering `event` with `code`.
    pub(crate) async fn seed_target_failure(&self, event: &Value, code: &str) -> String {
        self.seed(&self.target_failure(event, code)).await
    }

    /// Seed what Lambda writes after the function failed `event` on every attempt.
    pub(crate) async fn seed_destination_record(&self, event: &Value, error_type: &str) -> String {
        self.seed(&self.destination_record(event, error_type)).await
    }

    /// Seed each event in one of the three formats, in turn (target DLQ, on-failure
    /// destination, function DLQ); returns the message ids, in order.
    pub(crate) async fn seed_in_turn(&self, events: &[Value]) -> Vec<String> {
        let mut ids = Vec::new();
        for (i, event) in events.iter().enumerate() {
            let message = match i % 3 {
                0 => self.target_failure(event, "THROTTLING"),
                1 => self.destination_record(event, "Timeout"),
                _ => lambda_dlq(event, "Unhandled"),
            };
            ids.push(self.seed(&message).await);
        }
        ids
    }

    /// The message ids (read and released).
    pub(crate) async fn ids(&self) -> BTreeSet<String> {
        self.stack.ids(self.queue).await
    }

    /// `(ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible)`.
    pub(crate) async fn depth(&self) -> (u64, u64) {
        self.stack.depth(self.queue).await
    }

    /// Wait (up to 3 s) until `visible` messages show and none is in flight.
    pub(crate) async fn assert_all_visible(&self, visible: u64) {
        self.stack.assert_all_visible(self.queue, visible).await;
    }
}
