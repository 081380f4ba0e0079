//! The backend over AWS, one module per concern: [`errors`] (what the user can act on),
//! [`discovery`] (rules, targets, on-failure destinations), [`sqs`] (the DLQs), [`logs`]
//! (`FilterLogEvents` and Logs Insights), [`delivery`] (`Invoke` and `PutEvents`) and
//! [`records`] (Lambda's on-failure records in S3, the other half of a DLQ). This file connects,
//! and maps the port onto them.

mod delivery;
mod discovery;
mod errors;
mod logs;
mod records;
mod sqs;

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use chrono::{DateTime, Utc};

use self::errors::{classify, one_line};
use super::targets::TargetKind;
use super::{
    Attributes, Backend, BackendError, Consumer, DirectEntry, EntryOutcome, LogRequest, LogSearch,
    Message, QueueRef, QueueStats,
};
use crate::cli::AwsArgs;

/// AWS, for one bus in one account and region.
#[derive(Debug, Clone)]
pub(crate) struct AwsBackend {
    sqs: aws_sdk_sqs::Client,
    events: aws_sdk_eventbridge::Client,
    lambda: aws_sdk_lambda::Client,
    sns: aws_sdk_sns::Client,
    sfn: aws_sdk_sfn::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    s3: aws_sdk_s3::Client,
    /// What this process holds of the records in S3 (S3 has no visibility timeout).
    records: records::Leases,
    /// `--read-timeout`: a long poll's receive waits this long on top of its wait.
    read_timeout: std::time::Duration,
    bus: String,
    names: BTreeMap<String, String>,
    region: String,
    account: String,
    profile: Option<String>,
}

/// `config` with the credentials of `role`.
async fn assume(config: SdkConfig, role: &str) -> Result<SdkConfig, BackendError> {
    let assumed = aws_config::sts::AssumeRoleProvider::builder(role)
        .session_name("ecomm-oncall")
        .configure(&config)
        .build()
        .await;
    // Assumed once here, to say at once which account refuses; the clients' identity
    // cache then holds the session for the run and assumes the role again when it
    // nears its expiry.
    aws_credential_types::provider::ProvideCredentials::provide_credentials(&assumed)
        .await
        .map_err(|e| BackendError::RoleNotAssumed {
            role: role.to_owned(),
            reason: one_line(&e),
        })?;
    Ok(config
        .into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(assumed),
        )
        .build())
}

/// The SDK's connect timeout (its default), and `read` for the first byte of every answer.
/// Without a read timeout, a call whose connection hangs after the request went out would
/// wait forever: neither the SDK's retries nor `--give-up-after` would get their turn.
pub(super) fn timeouts(read: std::time::Duration) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_millis(3100))
        .read_timeout(read)
        .build()
}

impl AwsBackend {
    /// Build the one `SdkConfig` from `--profile`, `--region`, `--endpoint-url` and the standard
    /// environment, check the credentials, and find the bus.
    ///
    /// With a `role` (an ARN), the credentials of the standard chain assume it first, and every
    /// call uses that session (refreshed by the SDK as it nears its expiry). `names` renames
    /// consumers, by target id (the config file's `[names]`).
    pub(crate) async fn connect(
        args: &AwsArgs,
        bus: &str,
        role: Option<&str>,
        names: &BTreeMap<String, String>,
    ) -> Result<Self, BackendError> {
        let config = Self::sdk_config(args).await;
        Self::connect_with(config, args, bus, role, names).await
    }

    /// The one `SdkConfig` of `--profile`, `--region`, `--endpoint-url` and the environment.
    pub(crate) async fn sdk_config(args: &AwsArgs) -> SdkConfig {
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
        loader
            .timeout_config(timeouts(args.read_timeout()))
            .load()
            .await
    }

    async fn connect_with(
        mut config: SdkConfig,
        args: &AwsArgs,
        bus: &str,
        role: Option<&str>,
        names: &BTreeMap<String, String>,
    ) -> Result<Self, BackendError> {
        let region = config.region().ok_or(BackendError::NoRegion)?.to_string();
        if let Some(role) = role {
            config = assume(config, role).await?;
        }
        let provider = config.credentials_provider().ok_or_else(|| {
            BackendError::Credentials("no credentials provider is configured".to_owned())
        })?;
        aws_credential_types::provider::ProvideCredentials::provide_credentials(&provider)
            .await
            .map_err(|e| BackendError::Credentials(one_line(&e)))?;
        // The SDK retries a failed request a few times at once (standard mode); the patience
        // of a whole run (backoff, the AIMD window, --give-up-after) is `backend::patient`'s.
        // Not the SDK's adaptive mode: its client-side rate limiter starts from the rate it
        // measured so far, and under steady throttling it held a 60-message redrive on moto at
        // ~1.5 requests/s (42 s, against 5 s in standard mode with the same faults).
        let standard = || aws_config::retry::RetryConfig::standard().with_max_attempts(3);
        let mut backend = Self {
            // SQS calls are retried by `backend::patient` alone: it must see a receive that
            // failed after SQS may have handed out messages (a 5xx, a dropped connection), to
            // wait for them at the end of a redrive; the SDK would retry it out of sight.
            sqs: aws_sdk_sqs::Client::from_conf(
                aws_sdk_sqs::config::Builder::from(&config)
                    .retry_config(aws_config::retry::RetryConfig::disabled())
                    .build(),
            ),
            events: aws_sdk_eventbridge::Client::from_conf(
                aws_sdk_eventbridge::config::Builder::from(&config)
                    .retry_config(standard())
                    .build(),
            ),
            lambda: aws_sdk_lambda::Client::from_conf(
                aws_sdk_lambda::config::Builder::from(&config)
                    .retry_config(standard())
                    .build(),
            ),
            sns: aws_sdk_sns::Client::from_conf(
                aws_sdk_sns::config::Builder::from(&config)
                    .retry_config(standard())
                    .build(),
            ),
            sfn: aws_sdk_sfn::Client::from_conf(
                aws_sdk_sfn::config::Builder::from(&config)
                    .retry_config(standard())
                    .build(),
            ),
            // The oldest message's age is a nicety of `dlq ls`: one try, no retries.
            cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
                aws_sdk_cloudwatch::config::Builder::from(&config)
                    .retry_config(aws_config::retry::RetryConfig::disabled())
                    .build(),
            ),
            // FilterLogEvents allows as few as 5 calls per second per account.
            logs: {
                let mut logs =
                    aws_sdk_cloudwatchlogs::config::Builder::from(&config).retry_config(standard());
                if config.endpoint_url().is_some() {
                    logs = logs.interceptor(logs::EndpointAsGiven);
                }
                aws_sdk_cloudwatchlogs::Client::from_conf(logs.build())
            },
            // An endpoint given (moto, LocalStack) serves buckets by path, not by host name.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&config)
                    .retry_config(standard())
                    .force_path_style(config.endpoint_url().is_some())
                    .build(),
            ),
            records: records::Leases::default(),
            read_timeout: args.read_timeout(),
            bus: bus.to_owned(),
            names: names.clone(),
            region,
            account: String::new(),
            profile: args.profile.clone(),
        };
        // Who the credentials are and whether the bus exists, asked at once: an error of the
        // former (bad credentials) is the one to report when both fail.
        let sts = aws_sdk_sts::Client::new(&config);
        let (identity, bus) = futures::join!(sts.get_caller_identity().send(), backend.check_bus());
        let at = args
            .endpoint_url
            .as_deref()
            .map(|url| format!(" at {url}"))
            .unwrap_or_default();
        let identity = identity.map_err(|e| {
            classify(
                &format!("while checking the credentials (sts:GetCallerIdentity{at})"),
                &e,
            )
        })?;
        bus?;
        identity
            .account()
            .unwrap_or("unknown")
            .clone_into(&mut backend.account);
        Ok(backend)
    }
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
        self.discover().await
    }

    async fn queue_stats(&self, queue: &QueueRef) -> Result<QueueStats, BackendError> {
        let mut stats = self.stats(queue).await?;
        if let Some(at) = &queue.records {
            let (records, held) = self.record_stats(at).await?;
            stats.visible += records.objects.saturating_sub(held);
            stats.in_flight += held;
            stats.records = Some(records);
        }
        Ok(stats)
    }

    async fn oldest_sent(&self, queue: &QueueRef) -> Option<DateTime<Utc>> {
        self.oldest_message_sent(queue).await
    }

    /// The records in the bucket first, while this walk of it hands any out; then the queue.
    async fn receive(
        &self,
        queue: &QueueRef,
        max: u8,
        visibility_s: u32,
        wait_s: u8,
        attributes: Attributes,
    ) -> Result<Vec<Message>, BackendError> {
        if let Some(at) = &queue.records {
            let records = self.receive_records(at, max, visibility_s).await?;
            if !records.is_empty() {
                return Ok(records);
            }
        }
        self.receive_messages(queue, max, visibility_s, wait_s, attributes)
            .await
    }

    async fn delete(
        &self,
        queue: &QueueRef,
        receipts: &[String],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        let (objects, messages) = by_place(receipts);
        let mut outcomes = Vec::new();
        if !objects.is_empty() {
            let refs: Vec<&str> = objects.iter().map(|(_, r)| *r).collect();
            outcomes.extend(self.delete_records(&refs).await?.into_iter().zip(objects));
        }
        if !messages.is_empty() {
            let owned: Vec<String> = messages.iter().map(|(_, r)| (*r).to_owned()).collect();
            outcomes.extend(
                self.delete_batch(queue, &owned)
                    .await?
                    .into_iter()
                    .zip(messages),
            );
        }
        Ok(in_order(outcomes))
    }

    async fn change_visibility(
        &self,
        queue: &QueueRef,
        receipts: &[String],
        seconds: u32,
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        let (objects, messages) = by_place(receipts);
        let mut outcomes = Vec::new();
        if let Some(at) = queue.records.as_ref().filter(|_| !objects.is_empty()) {
            let refs: Vec<&str> = objects.iter().map(|(_, r)| *r).collect();
            let leased = self.lease_records(at, &refs, seconds).await;
            outcomes.extend(leased.into_iter().zip(objects));
        }
        if !messages.is_empty() {
            let owned: Vec<String> = messages.iter().map(|(_, r)| (*r).to_owned()).collect();
            let changed = self.change_visibility_batch(queue, &owned, seconds).await?;
            outcomes.extend(changed.into_iter().zip(messages));
        }
        Ok(in_order(outcomes))
    }

    async fn purge(&self, queue: &QueueRef) -> Result<(), BackendError> {
        if let Some(at) = &queue.records {
            self.purge_records(at).await?;
        }
        self.purge_queue(queue).await
    }

    async fn invoke_async(&self, function: &str, payload: &str) -> Result<(), BackendError> {
        self.invoke_event(function, payload).await
    }

    async fn send_to_target(
        &self,
        target: &TargetKind,
        entries: &[DirectEntry],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        self.send_direct(target, entries).await
    }

    async fn put_events(
        &self,
        envelopes: &[&serde_json::Value],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        self.put_on_bus(&self.bus, envelopes).await
    }

    fn log_groups(&self, consumers: &[Consumer]) -> Vec<String> {
        log_groups_on(&self.bus, consumers)
    }

    fn bus_log_groups(&self) -> Vec<String> {
        vec![ecomm_events::buslog::bus_log_group(&self.bus)]
    }

    async fn live_tail(
        &self,
        groups: &[String],
        term: &str,
    ) -> Result<Box<dyn super::LiveTail + '_>, BackendError> {
        logs::live_tail(&self.logs, &self.region, &self.account, groups, term).await
    }

    async fn search_logs(&self, request: &LogRequest<'_>) -> Result<LogSearch, BackendError> {
        self.search(request).await
    }
}

/// A batch's receipts split into the records' and the queue's, each with its place in the batch.
type Placed<'a> = Vec<(usize, &'a str)>;

fn by_place(receipts: &[String]) -> (Placed<'_>, Placed<'_>) {
    receipts
        .iter()
        .map(String::as_str)
        .enumerate()
        .partition(|(_, r)| records::object_of(r).is_some())
}

/// The outcomes of both halves of a batch, back in the batch's order.
fn in_order(mut outcomes: Vec<(EntryOutcome, (usize, &str))>) -> Vec<EntryOutcome> {
    outcomes.sort_by_key(|(_, (i, _))| *i);
    outcomes.into_iter().map(|(o, _)| o).collect()
}

/// The log groups of the functions on `bus`: the consumers', and the producer's, named after
/// theirs. An account whose rules target no function (a tenant's, with its forward only) still
/// runs a producer: Terraform names a bus after its prefix (`ecomm-prod-acme`), so the
/// producer is `<bus>-order-producer`.
fn log_groups_on(bus: &str, consumers: &[Consumer]) -> Vec<String> {
    let mut groups = super::default_log_groups(consumers);
    let producer = format!("-{}", ecomm_events::services::ORDER_PRODUCER);
    if !groups.iter().any(|g| g.ends_with(&producer)) {
        groups.push(format!("/aws/lambda/{bus}{producer}"));
        groups.sort();
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::targets::TargetKind;

    fn forward() -> Consumer {
        let bus_arn = "arn:aws:events:eu-west-1:111122223333:event-bus/ecomm-prod".to_owned();
        Consumer {
            target: "forward".to_owned(),
            rule: "ecomm-prod-acme-forward".to_owned(),
            rule_arn:
                "arn:aws:events:eu-west-1:444455556666:rule/ecomm-prod-acme/ecomm-prod-acme-forward"
                    .to_owned(),
            target_arn: bus_arn.clone(),
            kind: TargetKind::EventBus { bus_arn },
            input: ecomm_consumers::input::TargetInput::default(),
            function: None,
            function_dlq: None,
            failure_bucket: None,
            delivery_dlq: None,
            dlq: None,
            reader: None,
            findings: Vec::new(),
        }
    }

    #[test]
    fn a_tenant_account_with_only_its_forward_still_has_its_producers_log_group() {
        assert_eq!(
            log_groups_on("ecomm-prod-acme", &[forward()]),
            ["/aws/lambda/ecomm-prod-acme-order-producer"]
        );
        let inventory = Consumer {
            target: "inventory".to_owned(),
            function: Some("ecomm-prod-inventory".to_owned()),
            ..forward()
        };
        assert_eq!(
            log_groups_on("ecomm-prod", &[inventory]),
            [
                "/aws/lambda/ecomm-prod-inventory",
                "/aws/lambda/ecomm-prod-order-producer"
            ],
            "named after the consumers' functions, as before"
        );
    }
}
