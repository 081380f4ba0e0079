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
use ecomm_consumers::Routing;
use ecomm_events::{
    DlqRecord, DomainEvent, EventEnvelope, LogLevel, LogRecord, Outcome as Logged, services,
};

use crate::backend::targets::TargetKind;
use crate::backend::{Backend, BackendError, Consumer, LogLine, LogRequest, LogSearch};
use crate::cli::{Filters, TraceArgs};
use crate::interaction::Interaction;
use crate::report::Report;
use crate::report::buslog::Delivery;
use crate::report::trace::{
    Attempt, AttemptOutcome, EventNode, Invocation, InvocationOutcome, Stuck, TraceReport,
};
use crate::scan::{self, Held, Reading};

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
async fn gather(
    backend: &dyn Backend,
    args: &TraceArgs,
    consumers: &[Consumer],
) -> anyhow::Result<TraceReport> {
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
    let first = gave_up_as_problem(first)?;
    problems.extend(first.problems);
    partial |= first.partial;
    let first_records: Vec<LogRecord> = first.lines.iter().filter_map(record_of).collect();
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
    let notes = dlq.2;
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
        let more = gave_up_as_problem(
            backend
                .search_logs(&LogRequest {
                    groups: &groups,
                    term: correlation,
                    start,
                    end,
                    insights: args.insights,
                })
                .await,
        )?;
        problems.extend(more.problems);
        partial |= more.partial;
        records.extend(more.lines.iter().filter_map(record_of));
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

    let mut events = build(&records, &messages, consumers);
    // What the bus itself logged of each event: by the bus's ids of the events, which the
    // consumers' lines and the DLQ messages (the envelopes) carry.
    let bus_ids = bus_ids_of(&records, &messages);
    let history = super::buslog::read(
        backend,
        bus_ids.values().flatten().cloned().collect::<BTreeSet<_>>(),
        start,
        end,
    )
    .await;
    attach_deliveries(&mut events, &history, &bus_ids, consumers);
    problems.extend(history.problems.iter().cloned());
    let mut notes = notes;
    notes.extend(history.off_note());
    // Every search meets the same unreadable group: say so once.
    let mut seen = BTreeSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    Ok(TraceReport {
        query: args.id.clone(),
        correlation_ids: correlations.into_iter().collect(),
        order_ids: order_ids.into_iter().collect(),
        events,
        problems,
        notes,
        partial,
    })
}

/// The bus's ids of each event (by its `eventId`): from the consumers' lines
/// (`busEventId`) and the DLQ messages' envelopes.
fn bus_ids_of(records: &[LogRecord], messages: &[DlqHit]) -> BTreeMap<String, BTreeSet<String>> {
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // A `published` line names the new event, but its bus id is the handled one's.
    for r in records
        .iter()
        .filter(|r| r.outcome != Some(Logged::Published))
    {
        if let (Some(event), Some(bus)) = (&r.event_id, &r.bus_event_id) {
            ids.entry(event.clone()).or_default().insert(bus.clone());
        }
    }
    for (_, record, _) in messages {
        let bus = record
            .event
            .as_ref()
            .and_then(|e| e.get("id"))
            .and_then(serde_json::Value::as_str);
        if let (Some(event), Some(bus)) = (&record.summary.event_id, bus) {
            ids.entry(event.clone()).or_default().insert(bus.to_owned());
        }
    }
    ids
}

/// Each event's matched rules and each consumer's delivery, from the bus's log. A consumer
/// the bus failed to deliver to, whose function never ran, becomes an invocation of its own
/// (`undelivered`) instead of a missing one.
fn attach_deliveries(
    nodes: &mut [EventNode],
    history: &super::buslog::BusHistory,
    bus_ids: &BTreeMap<String, BTreeSet<String>>,
    consumers: &[Consumer],
) {
    for node in nodes {
        let ids: Vec<&String> = bus_ids.get(&node.event_id).into_iter().flatten().collect();
        node.bus_event_ids = ids.iter().map(|id| (*id).clone()).collect();
        node.matched_rules = ids.iter().flat_map(|id| history.rules(id)).collect();
        node.matched_rules.sort();
        node.matched_rules.dedup();
        let delivery_to = |consumer: &str| {
            let target = consumers.iter().find(|c| c.target == consumer)?;
            ids.iter()
                .rev()
                .find_map(|id| history.delivery(id, &target.rule_arn, &target.target_arn))
        };
        for invocation in &mut node.invocations {
            invocation.delivery = delivery_to(&invocation.consumer);
            attach_deliveries(&mut invocation.emitted, history, bus_ids, consumers);
        }
        for consumer in consumers {
            if node
                .invocations
                .iter()
                .any(|i| i.consumer == consumer.target)
            {
                continue;
            }
            let Some(delivery) = delivery_to(&consumer.target).filter(Delivery::troubled) else {
                continue;
            };
            node.missing.retain(|m| *m != consumer.target);
            node.invocations.push(Invocation {
                consumer: consumer.target.clone(),
                outcome: InvocationOutcome::Undelivered,
                attempts: Vec::new(),
                emitted: Vec::new(),
                stuck: None,
                delivery: Some(delivery),
            });
        }
    }
}

/// A log search that ran out of patience is a partial answer (exit 3) saying why, not a
/// failure: the DLQs and the other searches are still shown.
fn gave_up_as_problem(search: Result<LogSearch, BackendError>) -> Result<LogSearch, BackendError> {
    match search {
        Err(e @ BackendError::GaveUp { .. }) => Ok(LogSearch {
            problems: vec![format!("the log search: {e}")],
            partial: true,
            ..LogSearch::default()
        }),
        other => other,
    }
}

type DlqHit = (String, DlqRecord, Stuck);

async fn scan_dlqs(
    backend: &dyn Backend,
    consumers: &[Consumer],
    args: &TraceArgs,
) -> (Vec<DlqHit>, Vec<String>, Vec<String>) {
    let scans = futures::future::join_all(
        consumers
            .iter()
            .filter_map(|c| c.dlq.clone().map(|q| (c.target.clone(), q)))
            .map(|(target, queue)| async move {
                // A trace only looks: as many messages as the queue held are enough.
                let held = Held::default();
                let reading = Reading {
                    stop_at_start_count: true,
                    interaction: None,
                };
                let result = scan::read(
                    backend,
                    &queue,
                    &Filters::default(),
                    &args.scan,
                    &held,
                    reading,
                )
                .await;
                scan::release(backend, &queue, &held, args.scan.concurrency).await;
                (target, queue, result)
            }),
    )
    .await;
    let mut hits = Vec::new();
    let mut problems = Vec::new();
    let mut read_to_count = false;
    for (target, queue, result) in scans {
        match result {
            Ok(scan) => {
                if let Some(reason) = scan.incomplete {
                    problems.push(format!("{}: {reason}", queue.name));
                }
                read_to_count |= scan.stopped_at_count;
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
    // One line, not one per DLQ: it is the same caveat for each.
    let notes = if read_to_count {
        vec!["DLQs read up to their counts at the start; later arrivals may be missing".to_owned()]
    } else {
        Vec::new()
    };
    (hits, problems, notes)
}

/// The function consumers whose rule matches an event of this detail-type, per the
/// declarations.
fn expected_consumers(routing: Option<&Routing>, detail_type: &str) -> Vec<String> {
    let (Some(routing), Some(source)) = (routing, DomainEvent::source_of(detail_type)) else {
        return Vec::new();
    };
    // Rules match on the envelope: a probe with this detail-type and its source stands for
    // every event of the type.
    let probe = EventEnvelope {
        version: "0".to_owned(),
        id: "probe".to_owned(),
        detail_type: detail_type.to_owned(),
        source: source.to_owned(),
        account: String::new(),
        time: DateTime::UNIX_EPOCH,
        region: String::new(),
        resources: Vec::new(),
        detail: serde_json::Value::Object(serde_json::Map::new()),
    };
    let probe = serde_json::to_value(probe).expect("an envelope always serializes");
    // Only functions log their work: a queue target's deliveries leave no line to expect.
    routing
        .targets(&probe)
        .into_iter()
        .map(|i| &routing.consumers[i])
        .filter(|c| c.is_function())
        .map(|c| c.name.clone())
        .collect()
}

/// Build the chains from the records and DLQ messages of one or more correlations; `consumers`
/// are the bus's, the only ones whose absence is a missing step.
fn build(records: &[LogRecord], messages: &[DlqHit], consumers: &[Consumer]) -> Vec<EventNode> {
    let mut events: BTreeMap<String, EventFacts> = BTreeMap::new();
    // (event id, consumer) → attempts
    let mut invocations: BTreeMap<(String, String), Vec<Attempt>> = BTreeMap::new();
    for r in records {
        let Some(event_id) = r.event_id.clone() else {
            continue;
        };
        if r.outcome == Some(Logged::Published) {
            let facts = events.entry(event_id).or_default();
            facts.detail_type = r.detail_type.clone().unwrap_or_default();
            facts.publisher = Some(r.service.clone());
            facts.causation.clone_from(&r.causation_id);
            facts.at = Some(r.timestamp);
            continue;
        }
        if base(&r.service) == services::ORDER_PRODUCER {
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
        match &r.outcome {
            // A line without an outcome is the start line (INFO), or a warning or debug line
            // within the invocation: only the start line opens an attempt.
            None if r.level != LogLevel::Info => {}
            None => attempts.push(Attempt {
                attempt: r.attempt,
                at: r.timestamp,
                outcome: AttemptOutcome::Running,
                duration_ms: None,
                error: None,
            }),
            Some(outcome) => {
                let logged = AttemptOutcome::Logged(outcome.clone());
                let open = attempts
                    .iter_mut()
                    .rev()
                    .find(|a| a.outcome == AttemptOutcome::Running);
                if let Some(attempt) = open {
                    attempt.outcome = logged;
                    attempt.duration_ms = r.duration_ms;
                    attempt.error.clone_from(&r.error);
                } else {
                    attempts.push(Attempt {
                        attempt: r.attempt,
                        at: r.timestamp,
                        outcome: logged,
                        duration_ms: r.duration_ms,
                        error: r.error.clone(),
                    });
                }
            }
        }
    }
    // An attempt that never logged an outcome but was followed by another did not finish: the
    // function timed out or crashed (Lambda prints no record of ours for that).
    for attempts in invocations.values_mut() {
        let last = attempts.len().saturating_sub(1);
        for attempt in &mut attempts[..last] {
            if attempt.outcome == AttemptOutcome::Running {
                attempt.outcome = AttemptOutcome::Unfinished;
            }
        }
    }
    let stuck = stuck_events(messages, &mut events);
    let routing = Routing::embedded().ok();
    let deployed: BTreeSet<&str> = consumers.iter().map(|c| c.target.as_str()).collect();
    let buses: BTreeSet<&str> = consumers
        .iter()
        .filter(|c| matches!(c.kind, TargetKind::EventBus { .. }))
        .map(|c| c.target.as_str())
        .collect();
    let context = Context {
        events: &events,
        invocations: &invocations,
        stuck: &stuck,
        routing: routing.as_ref(),
        deployed: &deployed,
        buses: &buses,
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

/// The DLQ messages by (event id, consumer); an event known only from a DLQ gets its facts
/// from the message.
fn stuck_events(
    messages: &[DlqHit],
    events: &mut BTreeMap<String, EventFacts>,
) -> BTreeMap<(String, String), Stuck> {
    let mut stuck = BTreeMap::new();
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
    stuck
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
    /// The consumers that are another bus (a tenant's forward to the central bus).
    buses: &'a BTreeSet<&'a str>,
}

fn node(event_id: &str, cx: &Context<'_>, depth: usize) -> EventNode {
    let Context {
        events,
        invocations,
        stuck,
        routing,
        deployed,
        buses,
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
                    if attempt.outcome == AttemptOutcome::Running {
                        attempt.outcome = AttemptOutcome::Unfinished;
                    }
                }
            }
            let outcome = outcome_of(&attempts, in_dlq.is_some());
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
                delivery: None,
            }
        })
        .collect();
    list.sort_by_key(|i| i.attempts.first().map(|a| a.at));
    // Names compare without their account (`inventory@444455556666`): across accounts an
    // event reaches the consumers of the one bus it is on.
    let seen: BTreeSet<&str> = list.iter().map(|i| base(&i.consumer)).collect();
    // An event held in a forward's DLQ has not reached the bus beyond it: its consumers there
    // are not missing, they wait for the forward (shown stuck, with its replay).
    let held = list
        .iter()
        .any(|i| i.outcome == InvocationOutcome::Stuck && buses.contains(i.consumer.as_str()));
    // Only a consumer the bus has can be missing: the declarations may name one this
    // environment does not deploy.
    let missing = expected_consumers(*routing, &facts.detail_type)
        .into_iter()
        .filter(|_| !held)
        .filter(|c| !seen.contains(c.as_str()))
        .filter_map(|c| {
            deployed
                .iter()
                .find(|d| base(d) == c)
                .map(|d| (*d).to_owned())
        })
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
        bus_event_ids: Vec::new(),
        matched_rules: Vec::new(),
    }
}

/// Where an invocation stands: stuck when in the DLQ, else its last attempt's outcome (a
/// duplicate only when nothing else was logged).
fn outcome_of(attempts: &[Attempt], in_dlq: bool) -> InvocationOutcome {
    if in_dlq {
        return InvocationOutcome::Stuck;
    }
    let duplicate = AttemptOutcome::Logged(Logged::Duplicate);
    attempts
        .iter()
        .rev()
        .find(|a| a.outcome != duplicate)
        .or(attempts.last())
        .map_or(InvocationOutcome::Unknown, |a| {
            InvocationOutcome::Attempt(a.outcome.clone())
        })
}

/// How `trace --follow` learns that the trace may have changed.
enum Following<'a> {
    /// A Live Tail session's new lines.
    Tail(Box<dyn crate::backend::LiveTail + 'a>),
    /// Every `--interval` seconds, because Live Tail is not available (why).
    Poll(String),
}

/// The longest a Live Tail follow waits without a line before it traces again: a redrive or a
/// purge changes a DLQ without writing a line of the order.
const TAIL_RECHECK_SECONDS: u64 = 30;

impl Following<'_> {
    /// What the trace's notes say of the mode.
    fn note(&self, groups: usize, interval: u64) -> String {
        match self {
            Self::Tail(_) => format!(
                "following with CloudWatch Logs Live Tail ({groups} log group(s)); DLQs read again every {TAIL_RECHECK_SECONDS} s"
            ),
            Self::Poll(why) => format!("following by polling every {interval} s ({why})"),
        }
    }

    /// Until something may have changed; `Some(why)` when Live Tail ended and polling takes
    /// over.
    async fn wait(&mut self, interval: u64) -> Option<String> {
        match self {
            Self::Poll(_) => {
                tokio::time::sleep(std::time::Duration::from_secs(interval)).await;
                None
            }
            Self::Tail(session) => {
                let recheck = std::time::Duration::from_secs(TAIL_RECHECK_SECONDS.max(interval));
                match tokio::time::timeout(recheck, session.next()).await {
                    Ok(None) => Some("the Live Tail session ended".to_owned()),
                    Ok(Some(Err(e))) => Some(first_line(&e.to_string())),
                    Ok(Some(Ok(_))) | Err(_) => None,
                }
            }
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).to_owned()
}

/// A log line's record. A line of another account's group (`GROUP@ACCOUNT`, see
/// `backend::estate`) names its service after that account, as its consumer is named.
fn record_of(line: &LogLine) -> Option<LogRecord> {
    let mut record = LogRecord::parse(&line.message)?;
    if let Some((_, account)) = line.group.rsplit_once('@') {
        record.service = format!("{}@{account}", record.service);
    }
    Some(record)
}

/// A consumer's or service's name without its account.
fn base(name: &str) -> &str {
    name.split_once('@').map_or(name, |(name, _)| name)
}

/// `trace`: the chain once.
pub(crate) async fn run(backend: &dyn Backend, args: &TraceArgs) -> anyhow::Result<TraceReport> {
    let consumers = backend.consumers().await?;
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
    Ok(trace)
}

/// `trace --follow`: every state of the chain handed to `interaction` as it changes, until
/// Ctrl-C.
pub(crate) async fn follow(
    backend: &dyn Backend,
    args: &TraceArgs,
    interaction: &dyn Interaction,
) -> anyhow::Result<Report> {
    let consumers = backend.consumers().await?;
    let polls = async {
        let first = gather(backend, args, &consumers).await?;
        // Live Tail streams the lines of the order's journey as they are written: each wakes
        // the trace. The term is the journey's correlation id, which every line carries.
        let term = match first.correlation_ids.as_slice() {
            [one] => one.clone(),
            _ => args.id.clone(),
        };
        let groups = backend.log_groups(&consumers);
        let mut tail = match backend.live_tail(&groups, &term).await {
            Ok(session) => Following::Tail(session),
            Err(e) => Following::Poll(first_line(&e.to_string())),
        };
        let mut note = tail.note(groups.len(), args.interval);
        let mut trace = first;
        loop {
            trace.notes.insert(0, note.clone());
            interaction.trace_update(&trace);
            if let Some(ended) = tail.wait(args.interval).await {
                tail = Following::Poll(ended);
                note = tail.note(groups.len(), args.interval);
            }
            trace = gather(backend, args, &consumers).await?;
        }
        #[allow(unreachable_code, reason = "the loop ends on Ctrl-C or an error")]
        Ok::<(), anyhow::Error>(())
    };
    match scan::until_interrupted(polls).await {
        Err(e) if !e.is::<scan::Interrupted>() => Err(e),
        _ => Ok(Report::Followed),
    }
}
