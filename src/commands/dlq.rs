//! `ecomm dlq ls | show | export | purge`: every consumer's DLQ at a glance, its messages read
//! without consuming them, exported verbatim, or deleted (all, or exactly those matching) after
//! an archive and a confirmation.

use std::cell::RefCell;
use std::io::Write as _;

use anyhow::Context as _;

use crate::UsageError;
use futures::StreamExt as _;

use crate::backend::{self, Backend, BackendError, Consumer, QueueRef};
use crate::cli::{ExportArgs, Filters, PurgeArgs, ScanArgs, ShowArgs};
use crate::interaction::{Confirmation, Interaction};
use crate::report::dlq::{
    Coverage, DlqList, DlqRow, ExportReport, ExportedMessage, MessageView, PurgeReport, ReaderRow,
    ShowReport,
};
use crate::scan::{self, Held, Holding, Reading, Scan, Scanned};

fn wired(consumer: &Consumer) -> (bool, bool) {
    let dlq_arn = consumer.dlq.as_ref().map(|q| q.arn.as_str());
    let delivery = consumer.delivery_dlq.is_some() && consumer.delivery_dlq.as_deref() == dlq_arn;
    let function = consumer.function_dlq.is_some() && consumer.function_dlq.as_deref() == dlq_arn
        || consumer.dlq.as_ref().is_some_and(|q| q.records.is_some());
    (delivery, function)
}

/// `dlq ls`: every consumer, its DLQ's counters fetched concurrently.
pub(crate) async fn ls(backend: &dyn Backend) -> anyhow::Result<DlqList> {
    let consumers = backend.consumers().await?;
    counters(backend, &consumers).await
}

/// The rows of `dlq ls` for consumers already discovered: queue attributes only, no
/// discovery and no message read (for a view that refreshes every few seconds).
pub(crate) async fn counters(
    backend: &dyn Backend,
    consumers: &[Consumer],
) -> anyhow::Result<DlqList> {
    let stats = futures::future::join_all(consumers.iter().map(|c| async move {
        let queue = c.dlq.as_ref()?;
        Some(match backend.queue_stats(queue).await {
            Ok(mut stats) => {
                if stats.oldest_sent.is_none() {
                    stats.oldest_sent = backend.oldest_sent(queue).await;
                }
                Ok(stats)
            }
            Err(e) => Err(e),
        })
    }))
    .await;
    let readers = futures::future::join_all(consumers.iter().map(|c| async move {
        let reader = c.reader.as_ref()?;
        let stats = match &reader.dlq {
            Some(queue) => Some(backend.queue_stats(queue).await),
            None => None,
        };
        Some((reader, stats))
    }))
    .await;
    let mut rows = Vec::new();
    for ((consumer, stats), reader) in consumers.iter().zip(stats).zip(readers) {
        let stats = stats.transpose()?;
        let reader = match reader {
            Some((reader, stats)) => {
                let stats = stats.transpose()?;
                Some(ReaderRow {
                    function: reader.function.clone(),
                    dlq: reader.dlq.as_ref().map(|q| q.name.clone()),
                    visible: stats.as_ref().map(|s| s.visible),
                    in_flight: stats.as_ref().map(|s| s.in_flight),
                })
            }
            None => None,
        };
        let (delivery, function) = wired(consumer);
        let records = stats.as_ref().and_then(|s| s.records);
        let oldest_sent = (stats.as_ref().and_then(|s| s.oldest_sent).into_iter())
            .chain(records.and_then(|r| r.oldest))
            .min();
        rows.push(DlqRow {
            target: consumer.target.clone(),
            account: None,
            account_name: None,
            unreachable: None,
            function: consumer.function.clone(),
            dlq: consumer.dlq.as_ref().map(|q| q.name.clone()),
            visible: stats.as_ref().map(|s| s.visible),
            in_flight: stats.as_ref().map(|s| s.in_flight),
            oldest_sent,
            delivery_failures_wired: delivery,
            // A target that is no function has no function errors to catch.
            function_errors_wired: consumer.function.is_some().then_some(function),
            reader,
            failure_bucket: consumer.failure_bucket.clone(),
            failure_objects: records.map(|r| r.objects),
            oldest_object: records.and_then(|r| r.oldest),
            findings: consumer.findings.clone(),
        });
    }
    Ok(DlqList { rows })
}

/// A scanned message as `dlq show` presents it; with `raw`, its body and attributes too.
pub(crate) fn view(scanned: &Scanned, raw: bool) -> MessageView {
    let r = &scanned.record;
    let m = &scanned.message;
    MessageView {
        message_id: m.message_id.clone(),
        sent_at: m.sent,
        receive_count: m.receive_count,
        kind: r.kind(),
        error_code: r.error_code().map(str::to_owned),
        error_message: r.error_message().map(str::to_owned),
        attempts: r.attempts(),
        exhausted_condition: r.exhausted_condition().map(str::to_owned),
        failed_arn: r.failed_arn().map(str::to_owned),
        detail_type: r.summary.detail_type.clone(),
        event_version: r.summary.event_version.clone(),
        event_id: r.summary.event_id.clone(),
        order_id: r.summary.order_id.clone(),
        correlation_id: r.summary.correlation_id.clone(),
        body: raw.then(|| m.body.clone()),
        attributes: raw.then(|| m.attributes.clone()),
        delivery: None,
        bus_log: None,
    }
}

fn exported(scanned: &Scanned) -> ExportedMessage {
    ExportedMessage {
        message_id: scanned.message.message_id.clone(),
        sent_at: scanned.message.sent,
        receive_count: scanned.message.receive_count,
        body: scanned.message.body.clone(),
        attributes: scanned.message.attributes.clone(),
    }
}

/// A consumer's DLQ, read until drained (or Ctrl-C), holding what it read in `held`.
async fn scan_target(
    backend: &dyn Backend,
    target: &str,
    filters: &Filters,
    args: &ScanArgs,
    held: &Held,
    interaction: &dyn Interaction,
) -> anyhow::Result<(Scan, Consumer)> {
    let consumers = backend.consumers().await?;
    let consumer = backend::find(&consumers, target)?.clone();
    let queue = consumer.require_dlq()?.clone();
    let reading = Reading {
        stop_at_start_count: false,
        interaction: Some(interaction),
    };
    match scan::read_until_interrupted(backend, &queue, filters, args, held, reading).await {
        Ok(scan) => Ok((scan, consumer)),
        Err(e) => {
            scan::release(backend, &queue, held, args.concurrency).await;
            Err(e.into())
        }
    }
}

fn coverage(scan: &Scan, unreleased: usize) -> Coverage {
    Coverage {
        seen: scan.seen,
        complete: scan.incomplete.is_none() && !scan.interrupted,
        incomplete: scan.incomplete.clone(),
        interrupted: scan.interrupted,
        unreleased,
    }
}

/// Read a consumer's DLQ and release every message at once: for commands that only look.
async fn look(
    backend: &dyn Backend,
    target: &str,
    filters: &Filters,
    args: &ScanArgs,
    interaction: &dyn Interaction,
) -> anyhow::Result<(Scan, Consumer, Coverage)> {
    let held = Held::default();
    let (scan, consumer) = scan_target(backend, target, filters, args, &held, interaction).await?;
    let queue = consumer.require_dlq()?;
    let unreleased = scan::release(backend, queue, &held, args.concurrency).await;
    let coverage = coverage(&scan, unreleased);
    Ok((scan, consumer, coverage))
}

/// `dlq show`.
pub(crate) async fn show(
    backend: &dyn Backend,
    args: &ShowArgs,
    interaction: &dyn Interaction,
) -> anyhow::Result<ShowReport> {
    let held = Held::default();
    let (scan, consumer) = scan_target(
        backend,
        &args.target,
        &args.filters,
        &args.scan,
        &held,
        interaction,
    )
    .await?;
    let queue = consumer.require_dlq()?;
    // What the bus logged is read while the messages are released: neither needs the other.
    let (unreleased, mut report) = futures::join!(
        scan::release(backend, queue, &held, args.scan.concurrency),
        shown(backend, &scan, &consumer, coverage(&scan, 0), args)
    );
    report.coverage = coverage(&scan, unreleased);
    Ok(report)
}

/// `dlq show` for a view that stays open: what it read stays hidden from other readers, held
/// in the [`Holding`] returned, which the caller renews while the view is open and releases
/// when it closes. Every message the scan read is held, matching or not.
pub(crate) async fn show_holding(
    backend: &dyn Backend,
    args: &ShowArgs,
    interaction: &dyn Interaction,
) -> anyhow::Result<(ShowReport, Holding)> {
    let held = Held::default();
    let (scan, consumer) = scan_target(
        backend,
        &args.target,
        &args.filters,
        &args.scan,
        &held,
        interaction,
    )
    .await?;
    let coverage = coverage(&scan, 0);
    let report = shown(backend, &scan, &consumer, coverage, args).await;
    let holding = Holding {
        queue: consumer.require_dlq()?.clone(),
        held,
        visibility: args.scan.visibility_timeout,
        concurrency: args.scan.concurrency,
    };
    Ok((report, holding))
}

/// The most messages whose delivery `dlq show` looks up in the bus's log: one log search each.
const DELIVERIES_LOOKED_UP: usize = 50;

async fn shown(
    backend: &dyn Backend,
    scan: &Scan,
    consumer: &Consumer,
    coverage: Coverage,
    args: &ShowArgs,
) -> ShowReport {
    let mut messages: Vec<MessageView> = scan.matching.iter().map(|s| view(s, args.raw)).collect();
    let mut notes = Vec::new();
    // A delivery failure's message is the event as put: what the bus logged of its delivery is
    // found by the event's id on the bus.
    let bus_ids: Vec<(usize, String)> = scan
        .matching
        .iter()
        .enumerate()
        .filter(|(_, s)| s.record.kind() == ecomm_events::DlqKind::EventbridgeTarget)
        .filter_map(|(i, s)| {
            let id = s.record.event.as_ref()?.get("id")?.as_str()?;
            Some((i, id.to_owned()))
        })
        .collect();
    if bus_ids.len() > DELIVERIES_LOOKED_UP {
        notes.push(format!(
            "the bus's log was read for the first {DELIVERIES_LOOKED_UP} of {} delivery failures; narrow with filters to see the others'",
            bus_ids.len()
        ));
    }
    let looked_up = &bus_ids[..bus_ids.len().min(DELIVERIES_LOOKED_UP)];
    if !looked_up.is_empty() {
        let oldest = messages.iter().filter_map(|m| m.sent_at).min();
        // EventBridge retries for up to a day before it gives up.
        let start = oldest.unwrap_or_else(chrono::Utc::now) - chrono::Duration::hours(25);
        let end = chrono::Utc::now() + chrono::Duration::minutes(5);
        let history = super::buslog::read(
            backend,
            looked_up.iter().map(|(_, id)| id.clone()),
            start,
            end,
        )
        .await;
        for (i, id) in looked_up {
            messages[*i].delivery = history.delivery(id, &consumer.rule_arn, &consumer.target_arn);
            if args.raw {
                messages[*i].bus_log = Some(history.raw(id).to_vec());
            }
        }
        notes.extend(history.off_note());
        notes.extend(history.problems);
    }
    ShowReport {
        queue: consumer
            .dlq
            .as_ref()
            .map(|q| q.name.clone())
            .unwrap_or_default(),
        bucket: records_url(consumer.dlq.as_ref()),
        messages,
        coverage,
        notes,
        raw: args.raw,
        show_pii: args.show_pii,
    }
}

/// `dlq export`: to `--file`, or the report carries the lines for stdout.
pub(crate) async fn export(
    backend: &dyn Backend,
    args: &ExportArgs,
    interaction: &dyn Interaction,
) -> anyhow::Result<ExportReport> {
    let (scan, _, coverage) = look(
        backend,
        &args.target,
        &args.filters,
        &args.scan,
        interaction,
    )
    .await?;
    let messages: Vec<ExportedMessage> = scan.matching.iter().map(exported).collect();
    if let Some(path) = &args.file {
        write_ndjson(path, &messages, false)?;
    }
    Ok(ExportReport {
        exported: messages.len(),
        file: args.file.clone(),
        coverage,
        messages,
    })
}

/// Write `lines` to `path`, replacing it, or with `append` adding to it; on disk when it returns.
fn write_ndjson(
    path: &std::path::Path,
    lines: &[ExportedMessage],
    append: bool,
) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .with_context(|| format!("while opening {}", path.display()))?;
    for line in lines {
        let text = serde_json::to_string(line)?;
        writeln!(file, "{text}").with_context(|| format!("while writing {}", path.display()))?;
    }
    // The archive must be on disk before anything is deleted.
    file.sync_all()
        .with_context(|| format!("while syncing {}", path.display()))?;
    Ok(())
}

/// `dlq purge`.
pub(crate) async fn purge(
    backend: &dyn Backend,
    args: &PurgeArgs,
    interaction: &dyn Interaction,
) -> anyhow::Result<PurgeReport> {
    if !args.filters.narrows() && args.archive.is_none() && args.filters.limit.is_none() {
        return purge_queue(backend, args, interaction).await;
    }
    let held = Held::default();
    let (scan, consumer) = scan_target(
        backend,
        &args.target,
        &args.filters,
        &args.scan,
        &held,
        interaction,
    )
    .await?;
    let queue = consumer.require_dlq()?.clone();
    let report = RefCell::new(PurgeReport {
        queue: queue.name.clone(),
        bucket: records_url(Some(&queue)),
        incomplete: scan.incomplete.clone(),
        interrupted: scan.interrupted,
        ..PurgeReport::default()
    });
    // Stopped while reading: nothing is deleted, everything read goes back.
    let result = if scan.interrupted {
        Ok(())
    } else {
        let work = delete_matching(backend, args, interaction, &scan, &queue, &held, &report);
        scan::until_interrupted(work).await
    };
    scan::release(backend, &queue, &held, args.scan.concurrency).await;
    let mut report = report.into_inner();
    match result {
        Ok(()) => Ok(report),
        Err(e) if e.is::<scan::Interrupted>() => {
            report.interrupted = true;
            Ok(report)
        }
        Err(e) => Err(e),
    }
}

/// An unfiltered purge without archive: `PurgeQueue`.
async fn purge_queue(
    backend: &dyn Backend,
    args: &PurgeArgs,
    interaction: &dyn Interaction,
) -> anyhow::Result<PurgeReport> {
    let consumers = backend.consumers().await?;
    let queue = backend::find(&consumers, &args.target)?
        .require_dlq()?
        .clone();
    let stats = backend.queue_stats(&queue).await?;
    let count = stats.visible + stats.in_flight;
    let records = match (&queue.records, stats.records) {
        (Some(at), Some(records)) => format!(
            ", {} of them records in {} (DeleteObjects)",
            records.objects,
            at.url()
        ),
        _ => String::new(),
    };
    confirm(
        interaction,
        args.yes,
        &format!(
            "Purge all {count} message(s) of {} (PurgeQueue, no archive){records}?",
            queue.name
        ),
    )?;
    backend.purge(&queue).await?;
    Ok(PurgeReport {
        bucket: records_url(Some(&queue)),
        queue: queue.name,
        deleted: count,
        full_purge: true,
        ..PurgeReport::default()
    })
}

/// Archive, confirm, delete: `report` counts as it goes, so an interruption keeps the count.
async fn delete_matching(
    backend: &dyn Backend,
    args: &PurgeArgs,
    interaction: &dyn Interaction,
    scan: &Scan,
    queue: &QueueRef,
    held: &Held,
    report: &RefCell<PurgeReport>,
) -> anyhow::Result<()> {
    if scan.matching.is_empty() {
        return Ok(());
    }
    if let Some(path) = &args.archive {
        let lines: Vec<ExportedMessage> = scan.matching.iter().map(exported).collect();
        // Appended: an archive may hold the only copy of messages deleted by earlier purges.
        write_ndjson(path, &lines, true)?;
        report.borrow_mut().archive = Some(path.display().to_string());
    }
    confirm(
        interaction,
        args.yes,
        &format!(
            "Delete {} message(s) from {}?",
            scan.matching.len(),
            queue.name
        ),
    )?;
    let deletes = futures::stream::iter(scan.matching.chunks(10))
        .map(|batch| async move {
            let receipts: Vec<String> = batch
                .iter()
                .filter_map(|s| held.receipt(&s.message.message_id))
                .collect();
            (batch, backend.delete(queue, &receipts).await)
        })
        .buffer_unordered(usize::from(args.scan.concurrency));
    futures::pin_mut!(deletes);
    while let Some((batch, outcomes)) = deletes.next().await {
        let mut report = report.borrow_mut();
        match outcomes {
            Ok(outcomes) => {
                for (scanned, outcome) in batch.iter().zip(outcomes) {
                    match outcome {
                        Ok(()) => {
                            held.forget(&scanned.message.message_id);
                            report.deleted += 1;
                        }
                        Err(_) => report.failed += 1,
                    }
                }
            }
            // The batch stays in the queue, released with the rest; so do the batches after.
            Err(e @ BackendError::GaveUp { .. }) => {
                report.failed += batch.len() as u64;
                report.incomplete = Some(e.to_string());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `s3://BUCKET/PREFIX` of the records read with a DLQ, if any.
fn records_url(queue: Option<&QueueRef>) -> Option<String> {
    queue?
        .records
        .as_ref()
        .map(crate::backend::RecordBucket::url)
}

fn confirm(interaction: &dyn Interaction, yes: bool, question: &str) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    match interaction.confirm(question) {
        Confirmation::Yes => Ok(()),
        Confirmation::No => Err(UsageError("nothing deleted: not confirmed".to_owned()).into()),
        Confirmation::NoTerminal => Err(UsageError(format!(
            "{question} — stdin is not a terminal; pass --yes to confirm"
        ))
        .into()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::RefCell;

    use ecomm_events::MessageAttributes;
    use ecomm_local::{LocalStack, StackOptions, names};

    use super::*;
    use crate::backend::local::LocalBackend;
    use crate::interaction::{Progress, Unwatched};
    use crate::report::trace::TraceReport;

    /// A person who answers every question the same way, and remembers what was asked.
    struct Answering {
        answer: Confirmation,
        asked: RefCell<Vec<String>>,
    }

    impl Interaction for Answering {
        fn confirm(&self, question: &str) -> Confirmation {
            self.asked.borrow_mut().push(question.to_owned());
            self.answer
        }

        fn progress(&self, _total: u64, _message: &str) -> Box<dyn Progress> {
            Box::new(Unwatched)
        }

        fn spinner(&self, _message: &str) -> Box<dyn Progress> {
            unreachable!("purge shows no spinner")
        }

        fn trace_update(&self, _trace: &TraceReport) {
            unreachable!("purge is not a trace")
        }
    }

    /// A local stack whose notification DLQ holds `n` messages.
    pub(crate) fn stack_with(n: usize) -> (tempfile::TempDir, LocalBackend) {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("local.sqlite");
        let stack = LocalStack::open(&state, &StackOptions::default()).unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        for i in 0..n {
            stack
                .queues()
                .send(
                    &names::dlq("notification"),
                    &format!("m-{i}"),
                    "not json",
                    &MessageAttributes::new(),
                    now,
                    now,
                )
                .unwrap();
        }
        drop(stack);
        (dir, LocalBackend::open(&state).unwrap())
    }

    /// The notification DLQ's `(visible, in flight)` now.
    pub(crate) fn dlq_counts(backend: &LocalBackend) -> (u64, u64) {
        let stats = backend
            .stack_queues()
            .stats(
                &names::dlq("notification"),
                chrono::Utc::now().timestamp_millis(),
            )
            .unwrap();
        (stats.visible, stats.in_flight)
    }

    fn purge_args(filters: Filters) -> PurgeArgs {
        PurgeArgs {
            target: "notification".to_owned(),
            filters,
            archive: None,
            yes: false,
            scan: ScanArgs {
                visibility_timeout: 30,
                wait: 1,
                concurrency: 4,
            },
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_declined_purge_asks_once_names_what_it_would_delete_and_deletes_nothing() {
        let (_dir, backend) = stack_with(3);
        let person = Answering {
            answer: Confirmation::No,
            asked: RefCell::default(),
        };
        let filters = Filters {
            message_id: vec!["m-0".to_owned(), "m-2".to_owned()],
            ..Filters::default()
        };
        let error = purge(&backend, &purge_args(filters), &person)
            .await
            .unwrap_err();
        assert!(error.is::<UsageError>(), "{error}");
        assert_eq!(
            *person.asked.borrow(),
            ["Delete 2 message(s) from ecomm-local-notification-dlq?"]
        );
        assert_eq!(dlq_counts(&backend), (3, 0), "all kept, all visible");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_confirmed_purge_deletes_exactly_the_matching_messages() {
        let (_dir, backend) = stack_with(3);
        let person = Answering {
            answer: Confirmation::Yes,
            asked: RefCell::default(),
        };
        let filters = Filters {
            message_id: vec!["m-1".to_owned()],
            ..Filters::default()
        };
        let report = purge(&backend, &purge_args(filters), &person)
            .await
            .unwrap();
        assert_eq!((report.deleted, report.failed), (1, 0));
        assert_eq!(person.asked.borrow().len(), 1);
        assert_eq!(dlq_counts(&backend), (2, 0));
    }
}
