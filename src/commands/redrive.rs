//! `ecomm redrive`: replay failed events from a consumer's DLQ to exactly that consumer.
//!
//! W pipelines each receive a batch (hidden for the run), select the messages the filters name,
//! deliver their original events (async `Invoke` of the consumer's function, or `PutEvents`),
//! and delete from the DLQ exactly the entries whose delivery was confirmed. Everything not
//! deleted is made visible again at the end, also on Ctrl-C or error; a killed run's messages
//! reappear when the visibility timeout ends. Re-running finishes the job.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ecomm_events::DlqKind;
use serde_json::Value;
use tokio::time::Instant;

use crate::backend::{self, Backend, QueueRef};
use crate::cli::{RedriveArgs, Via};
use crate::commands::dlq::view;
use crate::filter::replayable;
use crate::interaction::{Interaction, Progress};
use crate::journal::{Journal, JournalRecord, MessageOutcome};
use crate::report::redrive::{NotRedriven, NotRedrivenReason, RedriveReport};
use crate::scan::{self, Held, IN_FLIGHT_LIMIT, Scanned};

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

/// A message whose delivery was confirmed and that must now leave the DLQ.
struct Delivered {
    message_id: String,
    receipt: String,
    event_id: Option<String>,
    order_id: Option<String>,
}

struct Run<'a> {
    backend: &'a dyn Backend,
    args: &'a RedriveArgs,
    queue: QueueRef,
    function: Option<String>,
    started: DateTime<Utc>,
    held: Held,
    finished: RefCell<HashSet<String>>,
    pending_delete: RefCell<Vec<Delivered>>,
    selected: Cell<usize>,
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
    let consumers = backend.consumers().await?;
    let consumer = backend::find(&consumers, &args.target)?;
    let queue = consumer.require_dlq()?.clone();
    if args.via == Via::Invoke && consumer.function.is_none() {
        anyhow::bail!(
            "target {} is not a Lambda function; use --via bus",
            consumer.target
        );
    }
    let depth = backend.queue_stats(&queue).await?;
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
    })?;
    let report = RedriveReport::new(
        &args.target,
        &queue.name,
        args.via,
        args.dry_run,
        journal.path().display().to_string(),
    );
    let run = Run {
        backend,
        args,
        queue,
        function: consumer.function.clone(),
        started: Utc::now(),
        held: Held::default(),
        finished: RefCell::default(),
        pending_delete: RefCell::default(),
        selected: Cell::new(0),
        limiter: RateLimiter::new(args.rate),
        journal: RefCell::new(journal),
        report: RefCell::new(report),
        progress: interaction.progress(depth.visible, "redriving"),
    };
    let workers = futures::future::try_join_all((0..args.concurrency).map(|_| run.worker()));
    let result = scan::until_interrupted(async { workers.await.map(drop) }).await;
    let interrupted = matches!(&result, Err(e) if e.is::<scan::Interrupted>());
    // Whatever happened, first finish deleting what was confirmed delivered, then let the
    // consumer's local run settle, then make everything else visible again.
    run.flush_pending().await;
    run.progress.finish();
    let settled = if args.dry_run {
        Ok(())
    } else {
        backend.settle().await
    };
    // Released even when settling failed: the messages must not stay hidden for the timeout.
    scan::release(backend, &run.queue, &run.held).await;
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
    run.journal.borrow_mut().write(&JournalRecord::End {
        redriven: report.redriven,
        failed: report.failed,
        skipped: report.skipped,
        delivered_not_deleted: report.delivered_not_deleted,
        interrupted,
    })?;
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

    async fn worker(&self) -> anyhow::Result<()> {
        loop {
            if self.max_reached() {
                return Ok(());
            }
            if self.held.len() >= IN_FLIGHT_LIMIT {
                self.report.borrow_mut().incomplete = Some(format!(
                    "stopped after holding {} messages: SQS keeps at most ~120,000 in flight per queue; run again for the rest",
                    self.held.len()
                ));
                return Ok(());
            }
            let batch = self
                .backend
                .receive(
                    &self.queue,
                    10,
                    self.args.scan.visibility_timeout,
                    self.args.scan.wait,
                )
                .await?;
            if batch.is_empty() {
                return Ok(());
            }
            let mut chosen = Vec::new();
            let mut duplicates = Vec::new();
            for message in batch {
                if self.finished.borrow().contains(&message.message_id) {
                    // A second copy of a message already redriven: delete it too.
                    duplicates.push(message.receipt_handle.clone());
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
            if self.args.dry_run {
                self.report
                    .borrow_mut()
                    .would_redrive
                    .extend(chosen.iter().map(|s| view(s, false)));
                continue;
            }
            self.deliver(chosen).await?;
            self.progress.status({
                let r = self.report.borrow();
                format!("redriven {}, failed {}", r.redriven, r.failed)
            });
        }
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
            let v1_on_bus = self.args.via == Via::Bus
                && scanned.record.event.as_ref().is_some_and(|e| e.pointer("/detail/metadata/eventId").is_none());
            v1_on_bus.then(|| "a v1 event has no metadata.eventId: through the bus it would get a new id and bypass idempotency; use --via invoke".to_owned())
        });
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

    /// The payload to redeliver: the original event, or the raw body of a named unknown message.
    fn payload(scanned: &Scanned) -> Result<Value, String> {
        match (&scanned.record.event, scanned.record.kind()) {
            (Some(event), _) => Ok(event.clone()),
            (None, DlqKind::Unknown) => serde_json::from_str(&scanned.message.body)
                .map_err(|e| format!("the body is not JSON: {e}")),
            (None, _) => Err("the body holds no readable event".to_owned()),
        }
    }

    async fn deliver(&self, chosen: Vec<Scanned>) -> anyhow::Result<()> {
        match self.args.via {
            Via::Invoke => {
                let function = self.function.clone().unwrap_or_default();
                let outcomes = futures::future::join_all(chosen.iter().map(|s| {
                    let function = function.clone();
                    async move {
                        let payload = Self::payload(s)?;
                        self.limiter.acquire().await;
                        self.backend
                            .invoke_async(&function, &payload.to_string())
                            .await
                            .map_err(|e| e.to_string())?;
                        // Confirmed the moment it is accepted, so that even a run stopped
                        // mid-batch deletes it.
                        self.confirm(s);
                        Ok::<(), String>(())
                    }
                }))
                .await;
                for (scanned, outcome) in chosen.iter().zip(outcomes) {
                    if let Err(reason) = outcome {
                        self.not_redriven(scanned, NotRedrivenReason::Failed, reason);
                    }
                }
            }
            Via::Bus => {
                let mut envelopes = Vec::new();
                let mut ready = Vec::new();
                for scanned in chosen {
                    match Self::payload(&scanned) {
                        Ok(envelope) => {
                            envelopes.push(envelope);
                            ready.push(scanned);
                        }
                        Err(reason) => {
                            self.not_redriven(&scanned, NotRedrivenReason::Failed, reason);
                        }
                    }
                }
                if !ready.is_empty() {
                    for _ in 0..ready.len() {
                        self.limiter.acquire().await;
                    }
                    match self.backend.put_events(&envelopes).await {
                        Ok(outcomes) => {
                            for (scanned, outcome) in ready.into_iter().zip(outcomes) {
                                match outcome {
                                    Ok(()) => self.confirm(&scanned),
                                    Err(reason) => self.not_redriven(
                                        &scanned,
                                        NotRedrivenReason::Failed,
                                        reason,
                                    ),
                                }
                            }
                        }
                        Err(e) => {
                            for scanned in &ready {
                                self.not_redriven(
                                    scanned,
                                    NotRedrivenReason::Failed,
                                    e.to_string(),
                                );
                            }
                        }
                    }
                }
            }
        }
        self.flush_pending().await;
        Ok(())
    }

    /// Record a confirmed delivery: from here on the message must be deleted, even if the run
    /// is stopped.
    fn confirm(&self, scanned: &Scanned) {
        let message_id = scanned.message.message_id.clone();
        self.finished.borrow_mut().insert(message_id.clone());
        if let Some(receipt) = self.held.receipt(&message_id) {
            self.pending_delete.borrow_mut().push(Delivered {
                message_id,
                receipt,
                event_id: scanned.record.summary.event_id.clone(),
                order_id: scanned.record.summary.order_id.clone(),
            });
        }
    }

    /// Delete every confirmed-delivered message not yet deleted.
    async fn flush_pending(&self) {
        let pending = std::mem::take(&mut *self.pending_delete.borrow_mut());
        for batch in pending.chunks(10) {
            let receipts: Vec<String> = batch.iter().map(|d| d.receipt.clone()).collect();
            let outcomes = match self.backend.delete(&self.queue, &receipts).await {
                Ok(outcomes) => outcomes,
                Err(e) => receipts.iter().map(|_| Err(e.to_string())).collect(),
            };
            for (delivered, outcome) in batch.iter().zip(outcomes) {
                let (outcome, error) = match outcome {
                    Ok(()) => {
                        self.held.forget(&delivered.message_id);
                        self.report.borrow_mut().redriven += 1;
                        (MessageOutcome::Redriven, None)
                    }
                    Err(reason) => {
                        let reason = format!(
                            "delivered, but the delete failed ({reason}); the next run delivers it again and idempotency absorbs it"
                        );
                        let mut report = self.report.borrow_mut();
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
                let _ = self.journal.borrow_mut().write(&JournalRecord::Message {
                    message_id: &delivered.message_id,
                    event_id: delivered.event_id.as_deref(),
                    order_id: delivered.order_id.as_deref(),
                    outcome,
                    error: error.as_deref(),
                });
            }
        }
    }
}
