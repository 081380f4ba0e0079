//! Several accounts read as one, for the commands that follow an order wherever it went
//! (`trace --accounts`): the consumers of every account (as `NAME@ACCOUNT`), their log groups
//! (as `GROUP@ACCOUNT`: `@` is no character of a log group's name), and their DLQs, each read
//! with the session of the account that owns it, found from the queue's ARN.
//!
//! It only reads. A command that changes a DLQ or delivers acts in one account, named by
//! `--target NAME@ACCOUNT` (see `commands::accounts`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::targets::TargetKind;
use super::{
    Attributes, Backend, BackendError, Consumer, DirectEntry, EntryOutcome, LogRequest, LogSearch,
    Message, QueueRef, QueueStats,
};

/// The accounts, by id, each with its backend.
pub(crate) struct Estate<'a> {
    /// What the banner says.
    pub(crate) banner: String,
    /// The accounts that could be read.
    pub(crate) accounts: Vec<(&'a str, &'a dyn Backend)>,
}

impl Estate<'_> {
    fn of_queue(&self, queue: &QueueRef) -> Result<&dyn Backend, BackendError> {
        // arn:aws:sqs:REGION:ACCOUNT:NAME
        let account = queue.arn.split(':').nth(4).unwrap_or_default();
        self.account(account)
            .ok_or_else(|| BackendError::Other(format!("{} is in none of --accounts", queue.arn)))
    }

    fn account(&self, id: &str) -> Option<&dyn Backend> {
        self.accounts
            .iter()
            .find(|(account, _)| *account == id)
            .map(|(_, backend)| *backend)
    }
}

#[async_trait(?Send)]
impl Backend for Estate<'_> {
    fn banner(&self) -> String {
        self.banner.clone()
    }

    async fn consumers(&self) -> Result<Vec<Consumer>, BackendError> {
        let each = self.accounts.iter().map(|(account, backend)| async move {
            backend.consumers().await.map(|consumers| {
                consumers
                    .into_iter()
                    .map(|c| Consumer {
                        target: format!("{}@{account}", c.target),
                        ..c
                    })
                    .collect::<Vec<_>>()
            })
        });
        Ok(futures::future::try_join_all(each)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    async fn queue_stats(&self, queue: &QueueRef) -> Result<QueueStats, BackendError> {
        self.of_queue(queue)?.queue_stats(queue).await
    }

    async fn oldest_sent(&self, queue: &QueueRef) -> Option<DateTime<Utc>> {
        self.of_queue(queue).ok()?.oldest_sent(queue).await
    }

    async fn receive(
        &self,
        queue: &QueueRef,
        max: u8,
        visibility_s: u32,
        wait_s: u8,
        attributes: Attributes,
    ) -> Result<Vec<Message>, BackendError> {
        self.of_queue(queue)?
            .receive(queue, max, visibility_s, wait_s, attributes)
            .await
    }

    async fn delete(
        &self,
        _queue: &QueueRef,
        _receipts: &[String],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        Err(reads_only())
    }

    async fn change_visibility(
        &self,
        queue: &QueueRef,
        receipts: &[String],
        seconds: u32,
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        // Reading is receiving: what a scan read, it gives back.
        self.of_queue(queue)?
            .change_visibility(queue, receipts, seconds)
            .await
    }

    async fn purge(&self, _queue: &QueueRef) -> Result<(), BackendError> {
        Err(reads_only())
    }

    async fn invoke_async(&self, _function: &str, _payload: &str) -> Result<(), BackendError> {
        Err(reads_only())
    }

    async fn send_to_target(
        &self,
        _target: &TargetKind,
        _entries: &[DirectEntry],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        Err(reads_only())
    }

    async fn put_events(
        &self,
        _envelopes: &[&serde_json::Value],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        Err(reads_only())
    }

    fn log_groups(&self, consumers: &[Consumer]) -> Vec<String> {
        let mut groups = Vec::new();
        for (account, backend) in &self.accounts {
            let suffix = format!("@{account}");
            let own: Vec<Consumer> = consumers
                .iter()
                .filter_map(|c| {
                    let target = c.target.strip_suffix(&suffix)?;
                    Some(Consumer {
                        target: target.to_owned(),
                        ..c.clone()
                    })
                })
                .collect();
            groups.extend(
                backend
                    .log_groups(&own)
                    .into_iter()
                    .map(|g| format!("{g}{suffix}")),
            );
        }
        groups
    }

    fn bus_log_groups(&self) -> Vec<String> {
        self.accounts
            .iter()
            .flat_map(|(account, backend)| {
                backend
                    .bus_log_groups()
                    .into_iter()
                    .map(move |g| format!("{g}@{account}"))
            })
            .collect()
    }

    async fn search_logs(&self, request: &LogRequest<'_>) -> Result<LogSearch, BackendError> {
        let mut found = LogSearch::default();
        let searches = self.accounts.iter().map(|(account, backend)| async move {
            let suffix = format!("@{account}");
            let groups: Vec<String> = request
                .groups
                .iter()
                .filter_map(|g| g.strip_suffix(&suffix).map(str::to_owned))
                .collect();
            if groups.is_empty() {
                return Ok((suffix, LogSearch::default()));
            }
            let own = LogRequest {
                groups: &groups,
                ..request.clone()
            };
            backend.search_logs(&own).await.map(|s| (suffix, s))
        });
        let searches: Vec<(String, LogSearch)> = futures::future::join_all(searches)
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        // The producer runs in one account (a tenant's), yet every account's groups name it:
        // its group missing where it does not run is no problem, once it is found in one.
        let producer = format!("-{}", ecomm_events::services::ORDER_PRODUCER);
        let missing_producer = |search: &LogSearch, suffix: &str| {
            let asked = request
                .groups
                .iter()
                .filter_map(|g| g.strip_suffix(suffix))
                .find(|g| g.ends_with(&producer));
            asked.map(|group| {
                search
                    .problems
                    .iter()
                    .any(|p| p.contains(group) && p.contains("does not exist"))
            })
        };
        let producer_found = searches
            .iter()
            .any(|(suffix, search)| missing_producer(search, suffix) == Some(false));
        for (suffix, search) in searches {
            found.partial |= search.partial;
            let account = &suffix[1..];
            found.problems.extend(
                search
                    .problems
                    .into_iter()
                    .filter(|p| {
                        !(producer_found && p.contains(&producer) && p.contains("does not exist"))
                    })
                    .map(|p| format!("{p} (account {account})")),
            );
            found.lines.extend(search.lines.into_iter().map(|mut line| {
                line.group.push_str(&suffix);
                line
            }));
        }
        found.lines.sort_by_key(|l| l.timestamp);
        Ok(found)
    }

    fn weather(&self) -> Option<String> {
        self.accounts.iter().find_map(|(_, b)| b.weather())
    }
}

/// What a change asked of the estate says.
fn reads_only() -> BackendError {
    BackendError::Other(
        "across accounts this command only reads: act on one consumer with --target NAME@ACCOUNT"
            .to_owned(),
    )
}
