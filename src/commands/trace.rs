//! `ecomm trace`: an order's event chain, rebuilt from every function's log records and every
//! DLQ.
//!
//! The argument (order id, correlation id or event id) is resolved to correlation ids through
//! the log records; the records and DLQ messages of those correlations are gathered
//! concurrently and filtered exactly on the client; the chain is built from `eventId` and
//! `causationId`: each event, the consumer invocations it caused (attempts, outcome,
//! duration), the events they emitted, the messages stuck in a DLQ with the command that
//! replays them, and the steps the rules say should have happened but did not.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use ecomm_events::{DlqRecord, LogLevel, LogRecord, Outcome as LogOutcome, detail_types, sources};
use ecomm_local::config::Routing;
use serde::Serialize;
use serde_json::json;

use crate::Outcome;
use crate::backend::{Backend, Consumer, LogRequest};
use crate::cli::{Filters, TraceArgs};
use crate::render::{self, Printer};
use crate::scan::{self, Held};

/// One attempt of an invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// Lambda's attempt number, when known.
    pub attempt: Option<u32>,
    /// When it started.
    pub at: DateTime<Utc>,
    /// `succeeded`, `failed`, `duplicate`, `skipped`, `running` (no outcome logged yet), or
    /// `unfinished` (no outcome was ever logged, yet a later attempt ran or the event is in the
    /// DLQ: the function timed out or crashed).
    pub outcome: String,
    /// How long it took.
    pub duration_ms: Option<u64>,
    /// The error, when it failed.
    pub error: Option<String>,
}

/// A message of the chain that sits in a DLQ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stuck {
    /// The consumer whose DLQ holds it.
    pub consumer: String,
    /// The queue.
    pub queue: String,
    /// The SQS message id.
    pub message_id: String,
    /// When it entered the DLQ.
    pub sent_at: Option<DateTime<Utc>>,
    /// The error code.
    pub error_code: Option<String>,
    /// The error message.
    pub error_message: Option<String>,
    /// Attempts made before it was dead-lettered.
    pub attempts: Option<u32>,
    /// The command that replays it.
    pub redrive: String,
}

/// A consumer's handling of one event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    /// The consumer.
    pub consumer: String,
    /// The final state: the last attempt's outcome, or `stuck` when the event is in the DLQ.
    pub outcome: String,
    /// Every attempt logged.
    pub attempts: Vec<Attempt>,
    /// The events this invocation emitted.
    pub emitted: Vec<EventNode>,
    /// The DLQ message, when stuck.
    pub stuck: Option<Stuck>,
}

/// One event of the chain.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventNode {
    /// The idempotency key.
    pub event_id: String,
    /// The detail-type.
    pub detail_type: String,
    /// Who published it, when the log says.
    pub published_by: Option<String>,
    /// When it was published (or first seen).
    pub at: Option<DateTime<Utc>>,
    /// The consumers that handled (or failed) it.
    pub invocations: Vec<Invocation>,
    /// Consumers whose rule matches this event but that never saw it.
    pub missing: Vec<String>,
}

/// The answer of `trace`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    /// What was asked.
    pub query: String,
    /// The correlation ids it resolved to.
    pub correlation_ids: Vec<String>,
    /// The order(s).
    pub order_ids: Vec<String>,
    /// The chains, roots first.
    pub events: Vec<EventNode>,
    /// Log groups or DLQs that could not be read (the rest is shown).
    pub problems: Vec<String>,
    /// Whether some source may be incomplete.
    pub partial: bool,
}

#[derive(Default)]
struct EventFacts {
    detail_type: String,
    publisher: Option<String>,
    causation: Option<String>,
    at: Option<DateTime<Utc>>,
}

/// Gather and build the trace.
#[allow(
    clippy::too_many_lines,
    reason = "resolve, gather, filter, build: one pass, read top to bottom"
)]
pub async fn gather(
    backend: &dyn Backend,
    args: &TraceArgs,
    consumers: &[Consumer],
) -> anyhow::Result<Trace> {
    let start = args
        .since
        .unwrap_or_else(|| Utc::now() - Duration::hours(24));
    let end = args
        .until
        .unwrap_or_else(|| Utc::now() + Duration::minutes(5));
    let groups = backend.log_groups(consumers);
    let mut problems = Vec::new();
    let mut partial = false;

    // Resolve: records naming the argument give the correlation ids. The DLQs may know the
    // order even when the logs do not (logs expired, a delivery failure). Both at once: each
    // DLQ scan ends with a long poll that proves the queue drained, seconds the log search
    // need not wait for.
    let resolve = LogRequest {
        groups: &groups,
        term: &args.id,
        start,
        end,
        insights: args.insights,
    };
    let (first, dlq) = futures::join!(
        backend.search_logs(&resolve),
        scan_dlqs(backend, consumers, args)
    );
    let first = first?;
    problems.extend(first.problems);
    partial |= first.partial;
    let first_records: Vec<LogRecord> = first
        .lines
        .iter()
        .filter_map(|l| LogRecord::parse(&l.message))
        .collect();
    let mut correlations: BTreeSet<String> = first_records
        .iter()
        .filter(|r| {
            [&r.order_id, &r.correlation_id, &r.event_id]
                .iter()
                .any(|v| v.as_deref() == Some(args.id.as_str()))
        })
        .filter_map(|r| r.correlation_id.clone())
        .collect();

    problems.extend(dlq.1);
    let messages = dlq.0;
    for (_, record, _) in &messages {
        let s = &record.summary;
        if [&s.order_id, &s.correlation_id, &s.event_id]
            .iter()
            .any(|v| v.as_deref() == Some(args.id.as_str()))
        {
            correlations.extend(s.correlation_id.clone());
        }
    }
    if correlations.is_empty() {
        // Nothing names it yet: treat it as a correlation id (and find nothing, or, with
        // --follow, find it once it appears).
        correlations.insert(args.id.clone());
    }
    // Every line of a correlation carries its id: search by it, once per correlation (the
    // first search already was that search when the argument is the correlation id).
    let mut records = Vec::new();
    for correlation in &correlations {
        if correlation == &args.id {
            records.extend(first_records.iter().cloned());
            continue;
        }
        let more = backend
            .search_logs(&LogRequest {
                groups: &groups,
                term: correlation,
                start,
                end,
                insights: args.insights,
            })
            .await?;
        problems.extend(more.problems);
        partial |= more.partial;
        records.extend(
            more.lines
                .iter()
                .filter_map(|l| LogRecord::parse(&l.message)),
        );
    }
    // Exact filtering on the client: the server-side filter is a substring match at best.
    records.retain(|r| {
        r.correlation_id
            .as_ref()
            .is_some_and(|c| correlations.contains(c))
    });
    records.sort_by_key(|r| r.timestamp);
    let messages: Vec<_> = messages
        .into_iter()
        .filter(|(_, r, _)| {
            r.summary
                .correlation_id
                .as_ref()
                .is_some_and(|c| correlations.contains(c))
        })
        .collect();
    let order_ids: BTreeSet<String> = records
        .iter()
        .filter_map(|r| r.order_id.clone())
        .chain(
            messages
                .iter()
                .filter_map(|(_, r, _)| r.summary.order_id.clone()),
        )
        .collect();

    let events = build(&records, &messages, consumers);
    // Every search meets the same unreadable group: say so once.
    let mut seen = BTreeSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    Ok(Trace {
        query: args.id.clone(),
        correlation_ids: correlations.into_iter().collect(),
        order_ids: order_ids.into_iter().collect(),
        events,
        problems,
        partial,
    })
}

type DlqHit = (String, DlqRecord, Stuck);

async fn scan_dlqs(
    backend: &dyn Backend,
    consumers: &[Consumer],
    args: &TraceArgs,
) -> (Vec<DlqHit>, Vec<String>) {
    let scans = futures::future::join_all(
        consumers
            .iter()
            .filter_map(|c| c.dlq.clone().map(|q| (c.target.clone(), q)))
            .map(|(target, queue)| async move {
                let held = Held::default();
                let result =
                    scan::scan(backend, &queue, &Filters::default(), &args.scan, &held).await;
                scan::release(backend, &queue, &held).await;
                (target, queue, result)
            }),
    )
    .await;
    let mut hits = Vec::new();
    let mut problems = Vec::new();
    for (target, queue, result) in scans {
        match result {
            Ok(scan) => {
                if let Some(reason) = scan.incomplete {
                    problems.push(format!("{}: {reason}", queue.name));
                }
                for scanned in scan.matching {
                    let record = scanned.record;
                    let stuck = Stuck {
                        consumer: target.clone(),
                        queue: queue.name.clone(),
                        message_id: scanned.message.message_id.clone(),
                        sent_at: scanned.message.sent,
                        error_code: record.error_code().map(str::to_owned),
                        error_message: record.error_message().map(str::to_owned),
                        attempts: record.attempts(),
                        redrive: format!(
                            "ecomm redrive --target {target} --message-id {}",
                            scanned.message.message_id
                        ),
                    };
                    hits.push((target.clone(), record, stuck));
                }
            }
            Err(e) => problems.push(format!("{}: {e}", queue.name)),
        }
    }
    (hits, problems)
}

fn outcome_name(outcome: LogOutcome) -> &'static str {
    ecomm_ports::consumer::outcome_name(outcome)
}

const PRODUCER: &str = "order-producer";

fn source_of(detail_type: &str) -> &'static str {
    match detail_type {
        detail_types::INVENTORY_RESERVED | detail_types::INVENTORY_OUT_OF_STOCK => {
            sources::INVENTORY
        }
        detail_types::REFUND_COMPLETED | detail_types::REFUND_FAILED => sources::PAYMENTS,
        _ => sources::ORDERS,
    }
}

/// The consumers whose rule matches an event of this detail-type, per the declarations.
fn expected_consumers(routing: Option<&Routing>, detail_type: &str) -> Vec<String> {
    let Some(routing) = routing else {
        return Vec::new();
    };
    let probe = json!({"version": "0", "id": "probe", "detail-type": detail_type, "source": source_of(detail_type),
                       "account": "0", "time": "2026-01-01T00:00:00Z", "region": "probe", "resources": [], "detail": {}});
    routing
        .targets(&probe)
        .into_iter()
        .map(|i| routing.consumers[i].name.clone())
        .collect()
}

/// Build the chains from the records and DLQ messages of one or more correlations; `consumers`
/// are the bus's, the only ones whose absence is a missing step.
pub fn build(records: &[LogRecord], messages: &[DlqHit], consumers: &[Consumer]) -> Vec<EventNode> {
    let mut events: BTreeMap<String, EventFacts> = BTreeMap::new();
    // (event id, consumer) → attempts
    let mut invocations: BTreeMap<(String, String), Vec<Attempt>> = BTreeMap::new();
    for r in records {
        let Some(event_id) = r.event_id.clone() else {
            continue;
        };
        if r.outcome == Some(LogOutcome::Published) {
            let facts = events.entry(event_id).or_default();
            facts.detail_type = r.detail_type.clone().unwrap_or_default();
            facts.publisher = Some(r.service.clone());
            facts.causation.clone_from(&r.causation_id);
            facts.at = Some(r.timestamp);
            continue;
        }
        if r.service == PRODUCER {
            continue;
        }
        let facts = events.entry(event_id.clone()).or_default();
        if facts.detail_type.is_empty() {
            facts.detail_type = r.detail_type.clone().unwrap_or_default();
        }
        if facts.causation.is_none() {
            facts.causation.clone_from(&r.causation_id);
        }
        facts.at = Some(facts.at.map_or(r.timestamp, |at| at.min(r.timestamp)));
        let attempts = invocations
            .entry((event_id, r.service.clone()))
            .or_default();
        match r.outcome {
            // A line without an outcome is the start line (INFO), or a warning or debug line
            // within the invocation: only the start line opens an attempt.
            None if r.level != LogLevel::Info => {}
            None => attempts.push(Attempt {
                attempt: r.attempt,
                at: r.timestamp,
                outcome: "running".to_owned(),
                duration_ms: None,
                error: None,
            }),
            Some(outcome) => {
                let open = attempts.iter_mut().rev().find(|a| a.outcome == "running");
                let attempt = if let Some(a) = open {
                    a
                } else {
                    attempts.push(Attempt {
                        attempt: r.attempt,
                        at: r.timestamp,
                        outcome: String::new(),
                        duration_ms: None,
                        error: None,
                    });
                    attempts.last_mut().expect("just pushed")
                };
                outcome_name(outcome).clone_into(&mut attempt.outcome);
                attempt.duration_ms = r.duration_ms;
                attempt.error.clone_from(&r.error);
            }
        }
    }
    // An attempt that never logged an outcome but was followed by another did not finish: the
    // function timed out or crashed (Lambda prints no record of ours for that).
    for attempts in invocations.values_mut() {
        let last = attempts.len().saturating_sub(1);
        for attempt in &mut attempts[..last] {
            if attempt.outcome == "running" {
                "unfinished".clone_into(&mut attempt.outcome);
            }
        }
    }
    let mut stuck: BTreeMap<(String, String), Stuck> = BTreeMap::new();
    for (consumer, record, hit) in messages {
        let s = &record.summary;
        let Some(event_id) = s.event_id.clone() else {
            continue;
        };
        let facts = events.entry(event_id.clone()).or_default();
        if facts.detail_type.is_empty() {
            facts.detail_type = s.detail_type.clone().unwrap_or_default();
        }
        if facts.causation.is_none() {
            facts.causation.clone_from(&s.causation_id);
        }
        stuck.insert((event_id, consumer.clone()), hit.clone());
    }
    let routing = Routing::embedded().ok();
    let deployed: BTreeSet<&str> = consumers.iter().map(|c| c.target.as_str()).collect();
    let context = Context {
        events: &events,
        invocations: &invocations,
        stuck: &stuck,
        routing: routing.as_ref(),
        deployed: &deployed,
    };
    let known: BTreeSet<String> = events.keys().cloned().collect();
    let roots: Vec<String> = events
        .iter()
        .filter(|(_, f)| f.causation.as_ref().is_none_or(|c| !known.contains(c)))
        .map(|(id, _)| id.clone())
        .collect();
    let mut nodes: Vec<EventNode> = roots.iter().map(|id| node(id, &context, 0)).collect();
    nodes.sort_by_key(|n| n.at);
    nodes
}

/// What every node of one build reads.
struct Context<'a> {
    events: &'a BTreeMap<String, EventFacts>,
    /// (event id, consumer) → attempts.
    invocations: &'a BTreeMap<(String, String), Vec<Attempt>>,
    stuck: &'a BTreeMap<(String, String), Stuck>,
    routing: Option<&'a Routing>,
    /// The consumers on the bus.
    deployed: &'a BTreeSet<&'a str>,
}

fn node(event_id: &str, cx: &Context<'_>, depth: usize) -> EventNode {
    let Context {
        events,
        invocations,
        stuck,
        routing,
        deployed,
    } = cx;
    let facts = &events[event_id];
    let mut consumers: BTreeSet<String> = invocations
        .keys()
        .filter(|(e, _)| e == event_id)
        .map(|(_, c)| c.clone())
        .collect();
    consumers.extend(
        stuck
            .keys()
            .filter(|(e, _)| e == event_id)
            .map(|(_, c)| c.clone()),
    );
    let mut list: Vec<Invocation> = consumers
        .into_iter()
        .map(|consumer| {
            let mut attempts = invocations
                .get(&(event_id.to_owned(), consumer.clone()))
                .cloned()
                .unwrap_or_default();
            let in_dlq = stuck.get(&(event_id.to_owned(), consumer.clone())).cloned();
            if in_dlq.is_some() {
                // Lambda gave up on it: an attempt without an outcome is not still running.
                for attempt in &mut attempts {
                    if attempt.outcome == "running" {
                        "unfinished".clone_into(&mut attempt.outcome);
                    }
                }
            }
            let outcome = if in_dlq.is_some() {
                "stuck".to_owned()
            } else {
                attempts
                    .iter()
                    .rev()
                    .find(|a| a.outcome != "duplicate")
                    .or(attempts.last())
                    .map_or_else(|| "unknown".to_owned(), |a| a.outcome.clone())
            };
            // Guard against a cycle in corrupt data: the chain is short by nature.
            let emitted = if depth > 16 {
                Vec::new()
            } else {
                let mut children: Vec<EventNode> = events
                    .iter()
                    .filter(|(_, f)| {
                        f.causation.as_deref() == Some(event_id)
                            && f.publisher.as_deref() == Some(consumer.as_str())
                    })
                    .map(|(id, _)| node(id, cx, depth + 1))
                    .collect();
                children.sort_by_key(|n| n.at);
                children
            };
            Invocation {
                consumer,
                outcome,
                attempts,
                emitted,
                stuck: in_dlq,
            }
        })
        .collect();
    list.sort_by_key(|i| i.attempts.first().map(|a| a.at));
    let seen: BTreeSet<&str> = list.iter().map(|i| i.consumer.as_str()).collect();
    // Only a consumer the bus has can be missing: the declarations may name one this
    // environment does not deploy.
    let missing = expected_consumers(*routing, &facts.detail_type)
        .into_iter()
        .filter(|c| deployed.contains(c.as_str()) && !seen.contains(c.as_str()))
        .collect();
    EventNode {
        event_id: event_id.to_owned(),
        detail_type: if facts.detail_type.is_empty() {
            "?".to_owned()
        } else {
            facts.detail_type.clone()
        },
        published_by: facts.publisher.clone(),
        at: facts.at,
        invocations: list,
        missing,
    }
}

/// Run `trace`.
pub async fn run(
    backend: &dyn Backend,
    args: &TraceArgs,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let consumers = backend.consumers().await?;
    if !args.follow {
        let trace = gather(backend, args, &consumers).await?;
        if trace.events.is_empty() {
            // Say what could not be read: "not found" is not an answer when the logs were not
            // readable.
            let unread = if trace.problems.is_empty() {
                String::new()
            } else {
                format!(
                    "\n  and these could not be read:\n    {}",
                    trace.problems.join("\n    ")
                )
            };
            anyhow::bail!(
                "no log record or DLQ message mentions {} in the window; check the id, or widen it with --since (default 24h){unread}",
                args.id
            );
        }
        render::trace::print(printer, &backend.banner(), &trace);
        return Ok(if trace.partial || !trace.problems.is_empty() {
            Outcome::Partial
        } else {
            Outcome::Success
        });
    }
    let mut shown = BTreeSet::new();
    scan::until_interrupted(async {
        loop {
            let trace = gather(backend, args, &consumers).await?;
            render::trace::follow(printer, &backend.banner(), &trace, &mut shown);
            tokio::time::sleep(std::time::Duration::from_secs(args.interval)).await;
        }
    })
    .await
    .or_else(|e| {
        if e.is::<scan::Interrupted>() {
            Ok(Outcome::Success)
        } else {
            Err(e)
        }
    })
}
