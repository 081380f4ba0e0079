//! `ecomm redrive`: replay failed events from a consumer's DLQ to exactly that consumer.
//!
//! W pipelines each receive a batch (hidden for the run), select the messages the filters name,
//! deliver what each record must give on the chosen route (`delivery`: straight to the
//! consumer's target with what EventBridge would have sent it, or `PutEvents` to the bus), and
//! delete from the DLQ exactly the entries whose delivery was confirmed (`--keep`: none). Everything not
//! deleted is made visible again at the end, also on Ctrl-C or error; a killed run's messages
//! reappear when the visibility timeout ends. Re-running finishes the job.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::time::Instant;

use futures::StreamExt as _;

use crate::UsageError;
use crate::backend::{
    self, Attributes, Backend, BackendError, Consumer, DirectEntry, EntryError, QueueRef,
};
use crate::cli::{RedriveArgs, Via};
use crate::commands::dlq::view;
use crate::delivery::mend::Mend;
use crate::delivery::{self, Payload, Prepared, Refusal, Route, Shaping};
use crate::filter::replayable;
use crate::interaction::{Interaction, Progress};
use crate::journal::{Journal, JournalRecord, MessageOutcome};
use crate::report::redrive::{NotRedriven, NotRedrivenReason, RedriveReport, TransformPreview};
use crate::scan::{self, Held, IN_FLIGHT_LIMIT, Polls, Scanned};
use ecomm_consumers::input::CompiledInput;

struct RateLimiter {
    interval: Option<Duration>,
    next: Cell<Instant>,
}

impl RateLimiter {
    fn new(rate: Option<f64>) -> Self {
        let interval = rate
            .filter(|r| *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        Self {
            interval,
            next: Cell::new(Instant::now()),
        }
    }

    async fn acquire(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = self.next.get().max(Instant::now());
        self.next.set(slot + interval);
        tokio::time::sleep_until(slot).await;
    }
}

/// A message whose delivery was confirmed and that must now leave the DLQ (with `--keep`:
/// that is only to be journaled).
#[derive(Clone)]
struct Delivered {
    message_id: String,
    receipt: String,
    event_id: Option<String>,
    order_id: Option<String>,
    /// With `--transform`: the body as it was, and the event delivered instead.
    mended: Option<(String, Value)>,
}

/// A selected message and what it becomes on the route.
struct Ready {
    scanned: Scanned,
    prepared: Prepared,
}

/// How many mended messages `--dry-run --transform` shows the changes of.
const PREVIEWS: usize = 3;

struct Run<'a> {
    backend: &'a dyn Backend,
    args: &'a RedriveArgs,
    queue: QueueRef,
    consumer: &'a Consumer,
    route: Route,
    /// The target's input transformation, parsed once.
    input: CompiledInput,
    mend: Option<Mend>,
    /// Runs that delivered each event before this one, from the journal (the loop guard).
    deliveries: HashMap<String, u32>,
    started: DateTime<Utc>,
    held: Held,
    finished: RefCell<HashSet<String>>,
    /// Confirmed delivered, not yet known deleted: whatever stops the run, these are deleted
    /// before it ends (a delete in flight when it stopped is simply sent again).
    undeleted: RefCell<BTreeMap<String, Delivered>>,
    selected: Cell<usize>,
    /// Set when the workers must stop: the queue is drained, `--max` is reached, or patience
    /// ran out.
    done: Cell<bool>,
    /// Ctrl-C: a batch received from now on is only held (and so released), not delivered.
    interrupted: Cell<bool>,
    /// Which worker long-polls.
    polls: Polls,
    limiter: RateLimiter,
    journal: RefCell<Journal>,
    report: RefCell<RedriveReport>,
    progress: Box<dyn Progress>,
}

/// Run a redrive. An error after the run started is in the report (with what was done
/// before it); only errors before anything was touched are returned as errors.
pub(crate) async fn run(
    backend: &dyn Backend,
    args: &RedriveArgs,
    journal: PathBuf,
    interaction: &dyn Interaction,
) -> anyhow::Result<RedriveReport> {
    let mend = args
        .transform
        .as_deref()
        .map(Mend::compile)
        .transpose()
        .map_err(UsageError)?;
    let consumers = backend.consumers().await?;
    let consumer = backend::find(&consumers, &args.target)?;
    let queue = consumer.require_dlq()?.clone();
    let route = Route::of(consumer, args.via).map_err(UsageError)?;
    // The bus route never applies the target's input transformation: a path this parser
    // cannot read stops only the routes that do.
    let input = match (consumer.input.compile(), &route) {
        (Ok(input), _) => input,
        (Err(_), Route::Bus) => CompiledInput::default(),
        (Err(e), _) => {
            return Err(UsageError(format!(
                "target {}: {e}; --via bus puts the events on the bus instead",
                consumer.target
            ))
            .into());
        }
    };
    let depth = backend.queue_stats(&queue).await?;
    let deliveries = crate::journal::deliveries(&journal)?;
    let run_id = uuid::Uuid::new_v4().to_string();
    let mut journal = Journal::open(&journal, &run_id)?;
    journal.write(&JournalRecord::Start {
        backend: &backend.banner(),
        target: &args.target,
        queue: &queue.name,
        via: args.via,
        dry_run: args.dry_run,
        filters: &args.filters,
        max: args.max,
        keep: args.keep,
        transform: args.transform.as_deref(),
    })?;
    journal.flush()?;
    let report = RedriveReport::new(args, &queue.name, journal.path().display().to_string());
    let run = Run {
        backend,
        args,
        queue,
        consumer,
        route,
        input,
        mend,
        deliveries,
        started: Utc::now(),
        held: Held::default(),
        finished: RefCell::default(),
        undeleted: RefCell::default(),
        selected: Cell::new(0),
        done: Cell::new(depth.visible == 0 && depth.in_flight == 0),
        interrupted: Cell::new(false),
        polls: Polls::default(),
        limiter: RateLimiter::new(args.rate),
        journal: RefCell::new(journal),
        report: RefCell::new(report),
        progress: interaction.progress(depth.visible, "redriving"),
    };
    let status = || run.status();
    let watched = scan::with_weather(backend, run.progress.as_ref(), &status, run.passes());
    let result =
        scan::until_interrupted_landing(&run.interrupted, scan::landing(args.scan.wait), watched)
            .await;
    let interrupted = matches!(&result, Err(e) if e.is::<scan::Interrupted>());
    // Whatever happened, first finish deleting what was confirmed delivered, then let the
    // consumer's local run settle, then make everything else visible again.
    run.delete_undeleted().await;
    run.progress.finish();
    let settled = if args.dry_run {
        Ok(())
    } else {
        backend.settle().await
    };
    // Released even when settling failed: the messages must not stay hidden for the timeout.
    scan::release(backend, &run.queue, &run.held, args.scan.concurrency).await;
    settled?;
    let mut report = run.report.into_inner();
    report.interrupted = interrupted;
    report.left_in_queue = backend
        .queue_stats(&run.queue)
        .await
        .ok()
        .map(|s| s.visible + s.in_flight);
    if let Err(e) = result
        && !interrupted
    {
        report.error = Some(format!("{e:#}"));
    }
    let mut journal = run.journal.into_inner();
    journal.write(&JournalRecord::End {
        redriven: report.redriven,
        copied: report.copied,
        failed: report.failed,
        skipped: report.skipped,
        delivered_not_deleted: report.delivered_not_deleted,
        interrupted,
    })?;
    journal.flush()?;
    Ok(report)
}

impl Run<'_> {
    fn max_reached(&self) -> bool {
        // `--limit` caps what a command acts on; for a redrive that is what `--max` caps.
        let cap = match (self.args.max, self.args.filters.limit) {
            (Some(max), Some(limit)) => Some(max.min(limit)),
            (max, limit) => max.or(limit),
        };
        cap.is_some_and(|cap| self.selected.get() >= cap)
    }

    /// The message attributes a receive asks for: a dry run shows each failure whole; a redrive
    /// reads only what says each record's format, error code and rule.
    fn attributes(&self) -> Attributes {
        if self.args.dry_run {
            Attributes::All
        } else {
            Attributes::Identifying
        }
    }

    /// What the progress bar says in fair weather.
    fn status(&self) -> String {
        let r = self.report.borrow();
        format!("redriven {}, failed {}", r.redriven, r.failed)
    }

    fn should_stop(&self) -> bool {
        if self.done.get() || self.interrupted.get() || self.max_reached() {
            return true;
        }
        if self.held.len() >= IN_FLIGHT_LIMIT {
            self.report.borrow_mut().incomplete = Some(format!(
                "stopped after holding {} messages: SQS keeps at most ~120,000 in flight per queue; run again for the rest",
                self.held.len()
            ));
            return true;
        }
        false
    }

    /// Every worker until the queue is drained. When a receive's answer was lost on the way
    /// (a 5xx or a dropped connection after SQS handed out the messages), those messages are
    /// hidden for the visibility timeout with nobody holding them: wait for them to come back,
    /// at most that long, and drain again, so that one run finishes the job.
    async fn passes(&self) -> anyhow::Result<()> {
        let workers = || {
            futures::future::try_join_all(
                (0..self.args.scan.concurrency.max(1)).map(|_| self.worker()),
            )
        };
        workers().await?;
        // A receive lost in a pass hides its messages for the visibility timeout from then on.
        let hidden_for = Duration::from_secs(self.args.scan.visibility_timeout.into());
        let mut deadline = Instant::now() + hidden_for;
        while self.backend.lost_receives() > 0
            && self.report.borrow().incomplete.is_none()
            && !self.max_reached()
        {
            let stats = self.backend.queue_stats(&self.queue).await?;
            let hidden = stats.in_flight.saturating_sub(self.held.len() as u64);
            if stats.visible == 0 && hidden == 0 {
                break;
            }
            if stats.visible == 0 {
                if Instant::now() >= deadline {
                    break;
                }
                self.progress.status(format!(
                    "waiting for {hidden} message(s) hidden by a receive whose answer was lost (at most {}s)",
                    (deadline - Instant::now()).as_secs()
                ));
                tokio::time::sleep(Duration::from_secs(2).min(deadline - Instant::now())).await;
                continue;
            }
            self.done.set(false);
            workers().await?;
            deadline = Instant::now() + hidden_for;
        }
        Ok(())
    }

    /// One pipeline: receive, select, deliver; the delete of each batch overlaps the receive
    /// of the next.
    async fn worker(&self) -> anyhow::Result<()> {
        // Short polls while the queue hands out messages; then one worker at a time sends the
        // long poll whose empty answer proves the queue drained (`scan::Polls`).
        let mut fed = true;
        let mut deleting: Option<Vec<Delivered>> = None;
        loop {
            if self.should_stop() {
                self.done.set(true);
                break;
            }
            if !fed && let Some(batch) = deleting.take() {
                // This worker may now wait for another's long poll: delete first.
                self.delete(batch).await;
            }
            let Some(wait) = self.polls.next(fed, self.args.scan.wait, &self.done).await else {
                break;
            };
            let receive = self.backend.receive(
                &self.queue,
                10,
                self.args.scan.visibility_timeout,
                wait,
                self.attributes(),
            );
            let batch = match deleting.take() {
                Some(batch) => futures::join!(self.delete(batch), receive).1,
                None => receive.await,
            };
            let batch = match batch {
                Ok(batch) => batch,
                Err(e @ BackendError::GaveUp { .. }) => {
                    self.report.borrow_mut().incomplete = Some(e.to_string());
                    self.done.set(true);
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            if self.interrupted.get() {
                // Answered after Ctrl-C: hold it, so that the end of the run releases it.
                for message in &batch {
                    self.held.hold(message);
                }
                break;
            }
            if wait > 0 {
                self.polls.answered(batch.is_empty(), &self.done);
            }
            fed = !batch.is_empty();
            if batch.is_empty() {
                continue;
            }
            let mut chosen = Vec::new();
            let mut duplicates = Vec::new();
            for message in batch {
                if self.finished.borrow().contains(&message.message_id) {
                    // A second copy of a message already redriven: delete it too (with
                    // --keep: hold it, so that the end of the run releases it).
                    if self.args.keep {
                        self.held.hold(&message);
                    } else {
                        duplicates.push(message.receipt_handle);
                    }
                    continue;
                }
                if !self.held.hold(&message) {
                    continue;
                }
                self.progress.advance(1);
                let scanned = Scanned::new(message);
                if let Some(s) = self.select(scanned) {
                    chosen.push(s);
                }
            }
            if !duplicates.is_empty() {
                let _ = self.backend.delete(&self.queue, &duplicates).await;
            }
            let ready = self.prepare(chosen);
            if self.args.dry_run {
                self.preview(&ready);
                continue;
            }
            let delivered = self.deliver(ready).await;
            if !delivered.is_empty() {
                deleting = Some(delivered);
            }
            if self.backend.weather().is_none() {
                self.progress.status(self.status());
            }
        }
        if let Some(batch) = deleting {
            self.delete(batch).await;
        }
        Ok(())
    }

    /// Decide what to do with a received message; `Some` when it is to be delivered.
    fn select(&self, scanned: Scanned) -> Option<Scanned> {
        let filters = &self.args.filters;
        let arrived_during_run = scanned
            .message
            .sent
            .is_some_and(|sent| sent >= self.started);
        if !filters.matches(&scanned.message, &scanned.record)
            || arrived_during_run
            || self.max_reached()
        {
            self.report.borrow_mut().not_selected += 1;
            return None;
        }
        let unusable = replayable(filters, &scanned.message, &scanned.record).err().map(str::to_owned).or_else(|| {
            // (An on-failure record of a transforming target holds no event at all: refused
            // for that when its payload is prepared.)
            let holds_no_event = self.consumer.input.transforms()
                && scanned.record.kind() != ecomm_events::DlqKind::EventbridgeTarget;
            let v1_on_bus = self.args.via == Via::Bus
                && !holds_no_event
                && scanned.record.event.as_ref().is_some_and(|e| e.get("detail").and_then(|d| d.get("metadata")).and_then(|m| m.get("eventId")).is_none());
            v1_on_bus.then(|| "a v1 event has no metadata.eventId: through the bus it would get a new id and bypass idempotency; use --via target".to_owned())
        });
        let unusable = unusable.or_else(|| self.failing_again(&scanned));
        if let Some(reason) = unusable {
            self.not_redriven(&scanned, NotRedrivenReason::Skipped, reason);
            return None;
        }
        self.selected.set(self.selected.get() + 1);
        Some(scanned)
    }

    fn not_redriven(&self, scanned: &Scanned, outcome: NotRedrivenReason, reason: String) {
        let summary = &scanned.record.summary;
        let _ = self.journal.borrow_mut().write(&JournalRecord::Message {
            message_id: &scanned.message.message_id,
            event_id: summary.event_id.as_deref(),
            order_id: summary.order_id.as_deref(),
            outcome: match outcome {
                NotRedrivenReason::Skipped => MessageOutcome::Skipped,
                NotRedrivenReason::Failed => MessageOutcome::Failed,
                NotRedrivenReason::DeliveredNotDeleted => MessageOutcome::DeliveredNotDeleted,
            },
            error: Some(&reason),
            original: None,
            transformed: None,
        });
        let mut report = self.report.borrow_mut();
        match outcome {
            NotRedrivenReason::Skipped => report.skipped += 1,
            NotRedrivenReason::Failed => report.failed += 1,
            NotRedrivenReason::DeliveredNotDeleted => report.delivered_not_deleted += 1,
        }
        report.not_redriven.push(NotRedriven {
            message_id: scanned.message.message_id.clone(),
            order_id: summary.order_id.clone(),
            outcome,
            reason,
        });
    }

    /// The loop guard: why an event already redriven `--max-redrives` times is skipped.
    fn failing_again(&self, scanned: &Scanned) -> Option<String> {
        if self.args.force {
            return None;
        }
        let event_id = scanned.record.summary.event_id.as_deref()?;
        let runs = *self.deliveries.get(event_id)?;
        (runs >= self.args.max_redrives).then(|| {
            format!(
                "redriven {runs} times; failing again: find out why (ecomm trace {event_id}), mend it with --transform, or --force to redrive it anyway"
            )
        })
    }

    /// What each chosen message becomes on the route; the ones that cannot be delivered are
    /// skipped (and stay in the DLQ).
    fn prepare(&self, chosen: Vec<Scanned>) -> Vec<Ready> {
        let shaping = Shaping {
            consumer: self.consumer,
            route: &self.route,
            input: &self.input,
            mend: self.mend.as_ref(),
            force: self.args.force,
        };
        let mut ready = Vec::with_capacity(chosen.len());
        for mut scanned in chosen {
            let event = scanned.record.event.take();
            // The event stays readable for the preview of a dry run.
            let kept = if self.args.dry_run {
                event.clone()
            } else {
                None
            };
            match shaping.prepare(&scanned.record, event, &scanned.message.body) {
                Ok(prepared) => {
                    scanned.record.event = kept;
                    ready.push(Ready { scanned, prepared });
                }
                Err(Refusal::Unreadable(reason)) => {
                    self.not_redriven(&scanned, NotRedrivenReason::Failed, reason);
                }
                Err(Refusal::Refused(reason)) => {
                    self.not_redriven(&scanned, NotRedrivenReason::Skipped, reason);
                }
            }
        }
        ready
    }

    /// `--dry-run`: what would be delivered, and what `--transform` changes in the first ones.
    fn preview(&self, ready: &[Ready]) {
        let mut report = self.report.borrow_mut();
        for r in ready {
            if let (Some(mended), Some(before)) = (&r.prepared.mended, &r.scanned.record.event)
                && report.transform_preview.len() < PREVIEWS
            {
                report.transform_preview.push(TransformPreview {
                    message_id: r.scanned.message.message_id.clone(),
                    changes: delivery::diff(before, mended),
                });
            }
            report.would_redrive.push(view(&r.scanned, false));
        }
    }

    /// Deliver the prepared messages; the ones confirmed delivered, to be deleted.
    async fn deliver(&self, ready: Vec<Ready>) -> Vec<Delivered> {
        if ready.is_empty() {
            return Vec::new();
        }
        let outcomes: Vec<Result<(), String>> = match &self.route {
            Route::Invoke { function } => {
                futures::future::join_all(ready.iter().map(|r| async move {
                    let Payload::Text(payload) = &r.prepared.payload else {
                        return Err("no payload for an invoke".to_owned());
                    };
                    self.limiter.acquire().await;
                    self.backend
                        .invoke_async(function, payload)
                        .await
                        .map_err(|e| e.to_string())
                }))
                .await
            }
            Route::Bus => {
                let envelopes: Vec<&Value> = ready
                    .iter()
                    .filter_map(|r| match &r.prepared.payload {
                        Payload::Envelope(e) => Some(e),
                        Payload::Text(_) => None,
                    })
                    .collect();
                self.entries(ready.len(), self.backend.put_events(&envelopes).await)
                    .await
            }
            Route::Direct(kind) => {
                let entries: Vec<DirectEntry> = ready
                    .iter()
                    .map(|r| DirectEntry {
                        event_id: event_id(&r.scanned),
                        payload: match &r.prepared.payload {
                            Payload::Text(text) => text.clone(),
                            Payload::Envelope(e) => serde_json::to_string(e).unwrap_or_default(),
                        },
                    })
                    .collect();
                self.entries(
                    ready.len(),
                    self.backend.send_to_target(kind, &entries).await,
                )
                .await
            }
        };
        let mut delivered = Vec::new();
        for (r, outcome) in ready.iter().zip(outcomes) {
            match outcome {
                Ok(()) => delivered.push(self.confirm(r)),
                Err(reason) => self.not_redriven(&r.scanned, NotRedrivenReason::Failed, reason),
            }
        }
        delivered
    }

    /// One result per entry of a batch call, after the rate limit.
    async fn entries(
        &self,
        len: usize,
        answer: Result<Vec<backend::EntryOutcome>, BackendError>,
    ) -> Vec<Result<(), String>> {
        for _ in 0..len {
            self.limiter.acquire().await;
        }
        match answer {
            Ok(outcomes) => outcomes
                .into_iter()
                .map(|o| o.map_err(|e: EntryError| e.message))
                .collect(),
            Err(e) => (0..len).map(|_| Err(e.to_string())).collect(),
        }
    }

    /// Record a confirmed delivery: from here on the message must be deleted, even if the run
    /// is stopped.
    fn confirm(&self, ready: &Ready) -> Delivered {
        let scanned = &ready.scanned;
        let message_id = scanned.message.message_id.clone();
        self.finished.borrow_mut().insert(message_id.clone());
        let delivered = Delivered {
            receipt: self
                .held
                .receipt(&message_id)
                .unwrap_or_else(|| scanned.message.receipt_handle.clone()),
            message_id: message_id.clone(),
            event_id: scanned.record.summary.event_id.clone(),
            order_id: scanned.record.summary.order_id.clone(),
            mended: ready
                .prepared
                .mended
                .clone()
                .map(|m| (scanned.message.body.clone(), m)),
        };
        self.undeleted
            .borrow_mut()
            .insert(message_id, delivered.clone());
        delivered
    }

    /// Delete every confirmed-delivered message not yet deleted.
    async fn delete_undeleted(&self) {
        let left: Vec<Delivered> = self.undeleted.borrow().values().cloned().collect();
        futures::stream::iter(left.chunks(10))
            .for_each_concurrent(usize::from(self.args.scan.concurrency.max(1)), |batch| {
                self.delete(batch.to_vec())
            })
            .await;
    }

    /// Delete delivered messages from the DLQ. Their journal lines say `delivered` on disk
    /// before the delete is sent, so that a kill loses no trace of a deleted message; the
    /// lines of the outcome follow.
    async fn delete(&self, batch: Vec<Delivered>) {
        {
            let mut journal = self.journal.borrow_mut();
            let outcome = if self.args.keep {
                MessageOutcome::Copied
            } else {
                MessageOutcome::Delivered
            };
            for d in &batch {
                let _ = journal.write(&JournalRecord::Message {
                    message_id: &d.message_id,
                    event_id: d.event_id.as_deref(),
                    order_id: d.order_id.as_deref(),
                    outcome,
                    error: None,
                    original: d.mended.as_ref().map(|(body, _)| body.as_str()),
                    transformed: d.mended.as_ref().map(|(_, event)| event),
                });
            }
            let _ = journal.flush();
        }
        if self.args.keep {
            // A copy: the message stays in the DLQ, released at the end of the run.
            let mut undeleted = self.undeleted.borrow_mut();
            let copied = batch
                .iter()
                .filter(|d| undeleted.remove(&d.message_id).is_some())
                .count();
            self.report.borrow_mut().copied += copied as u64;
            return;
        }
        let receipts: Vec<String> = batch.iter().map(|d| d.receipt.clone()).collect();
        let outcomes = match self.backend.delete(&self.queue, &receipts).await {
            Ok(outcomes) => outcomes,
            Err(e) => receipts
                .iter()
                .map(|_| Err(EntryError::permanent(e.to_string())))
                .collect(),
        };
        let mut journal = self.journal.borrow_mut();
        let mut report = self.report.borrow_mut();
        for (delivered, outcome) in batch.iter().zip(outcomes) {
            if self
                .undeleted
                .borrow_mut()
                .remove(&delivered.message_id)
                .is_none()
            {
                // Another delete of the same message (after an interruption) already counted it.
                continue;
            }
            let (outcome, error) = match outcome {
                Ok(()) => {
                    self.held.forget(&delivered.message_id);
                    report.redriven += 1;
                    (MessageOutcome::Redriven, None)
                }
                Err(error) => {
                    let reason = format!(
                        "delivered, but the delete failed ({error}); the next run delivers it again and idempotency absorbs it"
                    );
                    report.delivered_not_deleted += 1;
                    report.not_redriven.push(NotRedriven {
                        message_id: delivered.message_id.clone(),
                        order_id: delivered.order_id.clone(),
                        outcome: NotRedrivenReason::DeliveredNotDeleted,
                        reason: reason.clone(),
                    });
                    (MessageOutcome::DeliveredNotDeleted, Some(reason))
                }
            };
            let _ = journal.write(&JournalRecord::Message {
                message_id: &delivered.message_id,
                event_id: delivered.event_id.as_deref(),
                order_id: delivered.order_id.as_deref(),
                outcome,
                error: error.as_deref(),
                original: None,
                transformed: None,
            });
        }
    }
}

/// The id a direct target deduplicates on: the event's idempotency key, else its envelope id,
/// else the message id.
fn event_id(scanned: &Scanned) -> String {
    scanned
        .record
        .summary
        .event_id
        .clone()
        .or_else(|| {
            scanned
                .record
                .event
                .as_ref()
                .and_then(|e| e.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| scanned.message.message_id.clone())
}
