//! The JSON answers of the CLI, as a script reads them: spelled here, independently of the
//! code under test, and strict (`deny_unknown_fields`), so a field added, renamed or dropped
//! fails a test until this file agrees.
#![allow(
    dead_code,
    clippy::struct_field_names,
    reason = "every field of an answer is spelled as the JSON spells it, so that deny_unknown_fields holds; each test reads the ones it needs"
)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use ecomm_events::MessageAttributes;
use serde::Deserialize;
use serde_json::Value;

/// A row of `dlq ls`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct LsRow {
    pub(crate) target: String,
    /// Across accounts: the account.
    #[serde(default)]
    pub(crate) account: Option<String>,
    /// Across accounts: the account's name in the config file.
    #[serde(default)]
    pub(crate) account_name: Option<String>,
    /// Across accounts: why the account could not be read.
    #[serde(default)]
    pub(crate) unreachable: Option<String>,
    pub(crate) function: Option<String>,
    pub(crate) dlq: Option<String>,
    pub(crate) visible: Option<u64>,
    pub(crate) in_flight: Option<u64>,
    pub(crate) oldest_sent: Option<DateTime<Utc>>,
    pub(crate) delivery_failures_wired: bool,
    /// `null` for a target that is not a function.
    pub(crate) function_errors_wired: Option<bool>,
    /// The function behind a queue target and its queue's redrive DLQ.
    pub(crate) reader: Option<LsReader>,
    /// Where function errors' records go when that is a bucket.
    #[serde(default)]
    pub(crate) failure_bucket: Option<String>,
    /// How many records that bucket holds (counted in `visible` too).
    #[serde(default)]
    pub(crate) failure_objects: Option<u64>,
    /// When the oldest of them was written.
    #[serde(default)]
    pub(crate) oldest_object: Option<DateTime<Utc>>,
    pub(crate) findings: Vec<String>,
}

/// `dlq ls`'s reader of a queue target.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct LsReader {
    pub(crate) function: Option<String>,
    pub(crate) dlq: Option<String>,
    pub(crate) visible: Option<u64>,
    pub(crate) in_flight: Option<u64>,
}

/// `dlq show --output json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Shown {
    pub(crate) queue: String,
    /// The bucket of function errors' records read with the queue.
    #[serde(default)]
    pub(crate) bucket: Option<String>,
    pub(crate) messages: Vec<ShownMessage>,
    pub(crate) seen: usize,
    pub(crate) complete: bool,
    pub(crate) incomplete: Option<String>,
    pub(crate) interrupted: bool,
    /// What to know of the bus's log.
    #[serde(default)]
    pub(crate) notes: Vec<String>,
}

impl Shown {
    /// The ids shown.
    pub(crate) fn ids(&self) -> BTreeSet<String> {
        self.messages.iter().map(|m| m.message_id.clone()).collect()
    }
}

/// One message of `dlq show` (and of `redrive --dry-run`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ShownMessage {
    pub(crate) message_id: String,
    pub(crate) sent_at: Option<DateTime<Utc>>,
    pub(crate) receive_count: u32,
    /// `eventbridge-target`, `lambda-destination`, `lambda-dlq` or `unknown`.
    pub(crate) kind: String,
    pub(crate) error_code: Option<String>,
    pub(crate) error_message: Option<String>,
    pub(crate) attempts: Option<u32>,
    pub(crate) exhausted_condition: Option<String>,
    pub(crate) failed_arn: Option<String>,
    pub(crate) detail_type: Option<String>,
    pub(crate) event_version: Option<String>,
    pub(crate) event_id: Option<String>,
    pub(crate) order_id: Option<String>,
    pub(crate) correlation_id: Option<String>,
    /// With `--raw`.
    #[serde(default)]
    pub(crate) body: Option<String>,
    /// With `--raw`.
    #[serde(default)]
    pub(crate) attributes: Option<MessageAttributes>,
    /// What the bus logged of the failed delivery.
    #[serde(default)]
    pub(crate) delivery: Option<Delivery>,
    /// With `--raw`: the bus's records of the event, as logged.
    #[serde(default)]
    pub(crate) bus_log: Option<Vec<String>>,
}

/// A line of `dlq export` or of a purge archive: the message as SQS holds it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Archived {
    pub(crate) message_id: String,
    pub(crate) sent_at: Option<DateTime<Utc>>,
    pub(crate) receive_count: u32,
    pub(crate) body: String,
    pub(crate) attributes: MessageAttributes,
}

/// The lines of an archive (`dlq purge --archive`) or an export file.
pub(crate) fn read_archive(path: &std::path::Path) -> Vec<Archived> {
    std::fs::read_to_string(path)
        .expect("the archive")
        .lines()
        .map(|l| serde_json::from_str(l).expect("an archived message"))
        .collect()
}

/// `dlq export --file F --output json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Exported {
    pub(crate) exported: usize,
    pub(crate) file: Option<String>,
    pub(crate) seen: usize,
    pub(crate) complete: bool,
    pub(crate) incomplete: Option<String>,
    pub(crate) interrupted: bool,
}

/// `dlq purge --output json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Purged {
    pub(crate) queue: String,
    /// The bucket of function errors' records purged with the queue.
    #[serde(default)]
    pub(crate) bucket: Option<String>,
    pub(crate) deleted: u64,
    pub(crate) failed: u64,
    pub(crate) archive: Option<String>,
    pub(crate) full_purge: bool,
    pub(crate) incomplete: Option<String>,
    pub(crate) interrupted: bool,
}

/// `redrive --output json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RedriveReport {
    pub(crate) target: String,
    pub(crate) queue: String,
    /// `target`, `invoke` or `bus`.
    pub(crate) via: String,
    pub(crate) dry_run: bool,
    pub(crate) keep: bool,
    pub(crate) transform: Option<String>,
    pub(crate) redriven: u64,
    pub(crate) copied: u64,
    pub(crate) delivered_not_deleted: u64,
    pub(crate) failed: u64,
    pub(crate) skipped: u64,
    pub(crate) not_selected: u64,
    pub(crate) left_in_queue: Option<u64>,
    pub(crate) not_redriven: Vec<NotRedriven>,
    pub(crate) would_redrive: Vec<ShownMessage>,
    pub(crate) transform_preview: Vec<TransformPreview>,
    pub(crate) journal: String,
    pub(crate) interrupted: bool,
    pub(crate) incomplete: Option<String>,
    /// The failure that stopped the run, when one did.
    #[serde(default)]
    pub(crate) error: Option<String>,
}

impl RedriveReport {
    /// The ids not redriven, with their reasons.
    pub(crate) fn reasons(&self) -> BTreeMap<String, String> {
        self.not_redriven
            .iter()
            .map(|n| (n.message_id.clone(), n.reason.clone()))
            .collect()
    }

    /// The ids `--dry-run` would redrive, in order.
    pub(crate) fn would(&self) -> Vec<String> {
        self.would_redrive
            .iter()
            .map(|m| m.message_id.clone())
            .collect()
    }
}

/// What `--transform` changes in one message (`--dry-run`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct TransformPreview {
    pub(crate) message_id: String,
    pub(crate) changes: Vec<Change>,
}

/// One leaf changed by `--transform`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Change {
    /// A JSON pointer.
    pub(crate) path: String,
    pub(crate) before: Option<Value>,
    pub(crate) after: Option<Value>,
}

/// A message not redriven.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NotRedriven {
    pub(crate) message_id: String,
    pub(crate) order_id: Option<String>,
    /// `skipped`, `failed` or `delivered-not-deleted`.
    pub(crate) outcome: String,
    pub(crate) reason: String,
}

/// One line of the redrive journal.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "record", rename_all = "camelCase", deny_unknown_fields)]
pub(crate) enum JournalLine {
    /// A run starts.
    #[serde(rename_all = "camelCase")]
    Start {
        run: String,
        time: DateTime<Utc>,
        user: String,
        backend: String,
        target: String,
        queue: String,
        via: String,
        dry_run: bool,
        filters: Value,
        max: Option<usize>,
        keep: bool,
        /// `--transform`, when given.
        #[serde(default)]
        transform: Option<String>,
    },
    /// A message's outcome.
    #[serde(rename_all = "camelCase")]
    Message {
        run: String,
        time: DateTime<Utc>,
        user: String,
        message_id: String,
        event_id: Option<String>,
        order_id: Option<String>,
        /// `delivered`, `redriven`, `copied`, `delivered-not-deleted`, `failed` or `skipped`.
        outcome: String,
        #[serde(default)]
        error: Option<String>,
        /// With `--transform`: the body as it was in the DLQ.
        #[serde(default)]
        original: Option<String>,
        /// With `--transform`: the mended event.
        #[serde(default)]
        transformed: Option<Value>,
    },
    /// A run ends.
    #[serde(rename_all = "camelCase")]
    End {
        run: String,
        time: DateTime<Utc>,
        user: String,
        redriven: u64,
        copied: u64,
        failed: u64,
        skipped: u64,
        delivered_not_deleted: u64,
        interrupted: bool,
    },
}

impl JournalLine {
    /// The run it belongs to.
    pub(crate) fn run(&self) -> &str {
        match self {
            Self::Start { run, .. } | Self::Message { run, .. } | Self::End { run, .. } => run,
        }
    }
}

/// `demo --output json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DemoAnswer {
    pub(crate) state: String,
    pub(crate) seed: u64,
    pub(crate) orders_submitted: u64,
    pub(crate) orders_accepted: u64,
    pub(crate) orders_rejected: u64,
    pub(crate) legacy_v1_events: u64,
    pub(crate) poison_events: u64,
    pub(crate) events_routed: u64,
    pub(crate) consumers: Vec<DemoConsumer>,
    /// The producer's 400 body of the first rejected order.
    pub(crate) rejection_example: Option<Value>,
    pub(crate) out_of_stock_order: Option<String>,
    /// With `--tenants N`: each tenant account.
    #[serde(default)]
    pub(crate) tenants: Vec<DemoTenant>,
    pub(crate) stats: Value,
}

/// A tenant account's row of the demo summary.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DemoTenant {
    pub(crate) tenant: String,
    pub(crate) account: String,
    pub(crate) orders_accepted: u64,
    pub(crate) forwarded: u64,
    pub(crate) forward_failures: u64,
    pub(crate) forward_dlq: String,
    pub(crate) forward_dlq_depth: u64,
}

impl DemoAnswer {
    /// The row of `consumer`.
    pub(crate) fn consumer(&self, consumer: &str) -> &DemoConsumer {
        self.consumers
            .iter()
            .find(|c| c.consumer == consumer)
            .unwrap_or_else(|| panic!("no {consumer} in {:?}", self.consumers))
    }
}

/// A consumer's row of the demo summary.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DemoConsumer {
    pub(crate) consumer: String,
    pub(crate) succeeded: u64,
    pub(crate) skipped: u64,
    pub(crate) failed_attempts: u64,
    pub(crate) delivery_failures: u64,
    pub(crate) dlq_depth: u64,
    /// A queue target's redrive DLQ, when a function reads the queue.
    pub(crate) reader_dlq: Option<ReaderDlq>,
}

/// The demo's count of a queue target's redrive DLQ.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ReaderDlq {
    pub(crate) queue: String,
    pub(crate) depth: u64,
}

/// `local reset --output json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Reset {
    pub(crate) deleted: String,
}

/// What `trace --output json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Trace {
    pub(crate) query: String,
    pub(crate) correlation_ids: Vec<String>,
    pub(crate) order_ids: Vec<String>,
    pub(crate) events: Vec<EventNode>,
    pub(crate) problems: Vec<String>,
    pub(crate) notes: Vec<String>,
    pub(crate) partial: bool,
}

/// One event of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct EventNode {
    pub(crate) event_id: String,
    pub(crate) detail_type: String,
    pub(crate) published_by: Option<String>,
    pub(crate) at: Option<DateTime<Utc>>,
    pub(crate) invocations: Vec<Invocation>,
    pub(crate) missing: Vec<String>,
    /// The bus's ids of the event, when the bus's log was read.
    #[serde(default)]
    pub(crate) bus_event_ids: Vec<String>,
    /// The rules that matched it, per the bus's log.
    #[serde(default)]
    pub(crate) matched_rules: Vec<String>,
}

/// A consumer's handling of one event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Invocation {
    pub(crate) consumer: String,
    pub(crate) outcome: String,
    pub(crate) attempts: Vec<Attempt>,
    pub(crate) emitted: Vec<EventNode>,
    pub(crate) stuck: Option<Stuck>,
    /// What the bus logged of the delivery.
    #[serde(default)]
    pub(crate) delivery: Option<Delivery>,
}

/// What the bus logged of one event's delivery to one target.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Delivery {
    pub(crate) rule: Option<String>,
    pub(crate) attempts: Vec<DeliveryAttempt>,
    /// `delivered`, `sent-to-dlq` or `failed`.
    pub(crate) ended: Option<String>,
}

/// One delivery attempt, per the bus's log.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DeliveryAttempt {
    pub(crate) attempt: Option<u32>,
    pub(crate) at: DateTime<Utc>,
    /// `delivered`, `throttled`, `failed` or `refused`.
    pub(crate) result: String,
    pub(crate) error: Option<String>,
    pub(crate) message: Option<String>,
}

/// One attempt of an invocation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Attempt {
    /// Lambda's attempt number, when the function was told it.
    #[serde(rename = "attempt")]
    pub(crate) number: Option<u32>,
    pub(crate) at: DateTime<Utc>,
    pub(crate) outcome: String,
    pub(crate) duration_ms: Option<u64>,
    pub(crate) error: Option<String>,
}

/// A DLQ message of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Stuck {
    pub(crate) consumer: String,
    pub(crate) queue: String,
    pub(crate) message_id: String,
    pub(crate) sent_at: Option<DateTime<Utc>>,
    pub(crate) error_code: Option<String>,
    pub(crate) error_message: Option<String>,
    pub(crate) attempts: Option<u32>,
    pub(crate) redrive: String,
}

impl Trace {
    /// Every event of every chain, depth first.
    pub(crate) fn all_events(&self) -> Vec<&EventNode> {
        fn walk<'a>(event: &'a EventNode, out: &mut Vec<&'a EventNode>) {
            out.push(event);
            for inv in &event.invocations {
                for child in &inv.emitted {
                    walk(child, out);
                }
            }
        }
        let mut out = Vec::new();
        for event in &self.events {
            walk(event, &mut out);
        }
        out
    }

    /// The one root, which must be an `OrderCreated`.
    pub(crate) fn order_created(&self) -> &EventNode {
        let [root] = self.events.as_slice() else {
            panic!("expected one chain, got {:#?}", self.events);
        };
        assert_eq!(root.detail_type, "OrderCreated", "{root:#?}");
        root
    }
}

impl EventNode {
    /// The invocation of `consumer`.
    pub(crate) fn by(&self, consumer: &str) -> &Invocation {
        self.invocations
            .iter()
            .find(|i| i.consumer == consumer)
            .unwrap_or_else(|| {
                panic!(
                    "{} {} has no {consumer} invocation: {:#?}",
                    self.detail_type, self.event_id, self.invocations
                )
            })
    }
}

impl Invocation {
    /// The single event this invocation emitted.
    pub(crate) fn only_emitted(&self) -> &EventNode {
        let [child] = self.emitted.as_slice() else {
            panic!(
                "{} should have emitted one event: {:#?}",
                self.consumer, self.emitted
            );
        };
        child
    }

    /// When it first ran.
    pub(crate) fn first_at(&self) -> DateTime<Utc> {
        self.attempts
            .first()
            .unwrap_or_else(|| panic!("{} logged no attempt", self.consumer))
            .at
    }
}
