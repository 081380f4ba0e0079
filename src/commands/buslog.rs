//! The bus's own log (its `LogConfig` records), read for the commands that show what
//! EventBridge did with an event: `trace` and `dlq show`. Records are found by the bus's event
//! id (the envelope's `id`), one search per event, a few at a time.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ecomm_events::buslog::{BusLogRecord, BusStep};
use futures::StreamExt as _;

use crate::backend::{Backend, LogRequest};
use crate::report::buslog::{AttemptResult, Delivery, DeliveryAttempt, DeliveryEnd};

/// Searches at once: `FilterLogEvents` allows as few as 5 per second per account.
const AT_ONCE: usize = 4;

/// What the bus logged of some events.
#[derive(Debug, Default)]
pub(crate) struct BusHistory {
    /// By the bus's event id, oldest first.
    records: BTreeMap<String, Vec<BusLogRecord>>,
    /// The same, as logged.
    raw: BTreeMap<String, Vec<String>>,
    /// The bus log groups that do not exist: logging is off on those buses.
    pub(crate) off: Vec<String>,
    /// Searches that failed otherwise.
    pub(crate) problems: Vec<String>,
}

/// The bus's records of `event_ids` (the bus's ids) between `start` and `end`.
pub(crate) async fn read(
    backend: &dyn Backend,
    event_ids: impl IntoIterator<Item = String>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> BusHistory {
    let groups = backend.bus_log_groups();
    let mut history = BusHistory::default();
    if groups.is_empty() {
        return history;
    }
    let mut groups = groups;
    let mut ids = event_ids.into_iter();
    // The first search alone: a group that does not exist (the bus does not log) is not
    // searched again for every other event.
    let Some(first) = ids.next() else {
        return history;
    };
    let found = search(backend, &groups, first, (start, end)).await;
    history.take(found, &groups);
    groups.retain(|g| !history.off.contains(g));
    if groups.is_empty() {
        return history;
    }
    let groups = &groups;
    let searches: Vec<_> = futures::stream::iter(ids)
        .map(|id| search(backend, groups, id, (start, end)))
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    for found in searches {
        history.take(found, groups);
    }
    history.off.sort();
    history.off.dedup();
    history.problems.sort();
    history.problems.dedup();
    history
}

/// One event's search: its id, and what the search found.
async fn search(
    backend: &dyn Backend,
    groups: &[String],
    id: String,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> (
    String,
    Result<crate::backend::LogSearch, crate::backend::BackendError>,
) {
    let request = LogRequest {
        groups,
        term: &id,
        start,
        end,
        insights: false,
    };
    let found = backend.search_logs(&request).await;
    (id, found)
}

impl BusHistory {
    /// Keep what one search found of its event: the event's records (its own only: the search
    /// matches a substring), the groups that do not exist, the other problems.
    fn take(
        &mut self,
        (id, search): (
            String,
            Result<crate::backend::LogSearch, crate::backend::BackendError>,
        ),
        groups: &[String],
    ) {
        let search = match search {
            Ok(search) => search,
            Err(e) => {
                self.problems.push(format!("the bus's log: {e}"));
                return;
            }
        };
        for problem in search.problems {
            // Across accounts a group is `GROUP@ACCOUNT`, its problem names `GROUP`.
            let named = |g: &&String| {
                let base = g.split_once('@').map_or(g.as_str(), |(base, _)| base);
                problem.contains(base)
            };
            match groups.iter().find(named) {
                Some(group) if problem.contains("does not exist") => {
                    self.off.push(group.clone());
                }
                _ => self.problems.push(problem),
            }
        }
        let mut found: Vec<(BusLogRecord, String)> = search
            .lines
            .into_iter()
            .filter_map(|l| BusLogRecord::parse(&l.message).map(|r| (r, l.message)))
            .filter(|(r, _)| r.event_id == id)
            .collect();
        found.sort_by_key(|(r, _)| r.message_timestamp_ms);
        let (records, raw): (Vec<_>, Vec<_>) = found.into_iter().unzip();
        self.records.entry(id.clone()).or_default().extend(records);
        self.raw.entry(id).or_default().extend(raw);
    }

    /// What the bus logged of event `event_id`'s delivery by rule `rule_arn` to `target_arn`
    /// (two tenants' forwards share their target, not their rule).
    pub(crate) fn delivery(
        &self,
        event_id: &str,
        rule_arn: &str,
        target_arn: &str,
    ) -> Option<Delivery> {
        let records: Vec<&BusLogRecord> = self
            .records
            .get(event_id)?
            .iter()
            .filter(|r| {
                r.details
                    .rule_arn
                    .as_deref()
                    .is_none_or(|rule| rule == rule_arn)
            })
            .filter(|r| {
                r.target_arn() == Some(target_arn)
                    || r.details.target_arns.iter().any(|t| t == target_arn)
            })
            .collect();
        if records.is_empty() {
            return None;
        }
        let rule = records
            .iter()
            .find_map(|r| r.details.rule_arn.as_deref())
            .map(rule_name);
        let attempts = records
            .iter()
            .filter_map(|r| {
                let result = match r.message_type {
                    BusStep::InvocationAttemptSuccess => AttemptResult::Delivered,
                    BusStep::InvocationAttemptThrottle => AttemptResult::Throttled,
                    BusStep::InvocationAttemptRetryableFailure => AttemptResult::Failed,
                    BusStep::InvocationAttemptPermanentFailure => AttemptResult::Refused,
                    _ => return None,
                };
                Some(DeliveryAttempt {
                    attempt: r.details.attempt_count,
                    at: DateTime::from_timestamp_millis(r.message_timestamp_ms).unwrap_or_default(),
                    result,
                    error: r.failure().map(str::to_owned),
                    message: r.error.as_ref().and_then(|e| e.error_message.clone()),
                })
            })
            .collect();
        let ended = records.iter().rev().find_map(|r| match r.message_type {
            BusStep::InvocationSuccess => Some(DeliveryEnd::Delivered),
            BusStep::InvocationDlq => Some(DeliveryEnd::SentToDlq),
            BusStep::InvocationFailure => Some(
                if records
                    .iter()
                    .any(|r| r.message_type == BusStep::InvocationDlq)
                {
                    DeliveryEnd::SentToDlq
                } else {
                    DeliveryEnd::Failed
                },
            ),
            _ => None,
        });
        Some(Delivery {
            rule,
            attempts,
            ended,
        })
    }

    /// The rules that matched event `event_id`, by name.
    pub(crate) fn rules(&self, event_id: &str) -> Vec<String> {
        let mut rules: Vec<String> = self
            .records
            .get(event_id)
            .into_iter()
            .flatten()
            .filter(|r| r.message_type == BusStep::RuleMatch)
            .filter_map(|r| r.details.rule_arn.as_deref().map(rule_name))
            .collect();
        rules.sort();
        rules.dedup();
        rules
    }

    /// The records of event `event_id`, as logged, oldest first.
    pub(crate) fn raw(&self, event_id: &str) -> &[String] {
        self.raw.get(event_id).map_or(&[], Vec::as_slice)
    }

    /// Said once when a bus has no log to read.
    pub(crate) fn off_note(&self) -> Option<String> {
        if self.off.is_empty() {
            return None;
        }
        Some(format!(
            "bus logging is off ({} does not exist): deliveries that never reached a function show only as missing; turn it on with the bus's LogConfig and a vended-logs delivery (docs/deploy.md, \"Bus logging\")",
            self.off.join(", ")
        ))
    }
}

/// A rule's name from its ARN (`arn:aws:events:…:rule/BUS/NAME`).
fn rule_name(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}
