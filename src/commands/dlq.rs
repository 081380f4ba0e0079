//! `ecomm dlq ls | show | export | purge`.

use std::io::Write as _;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use ecomm_events::{DlqRecord, MessageAttributes};
use serde::Serialize;
use serde_json::Value;

use crate::backend::{self, Backend, Consumer};
use crate::cli::{ExportArgs, PurgeArgs, ShowArgs};
use crate::render::{self, Printer};
use crate::scan::{self, Held, Scan, Scanned};
use crate::{Outcome, UsageError};

/// One row of `dlq ls`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DlqRow {
    /// The consumer (target id).
    pub target: String,
    /// Its function.
    pub function: Option<String>,
    /// Its DLQ's name.
    pub dlq: Option<String>,
    /// Messages ready to read.
    pub visible: Option<u64>,
    /// Messages being read by someone (a redrive, a scan).
    pub in_flight: Option<u64>,
    /// When the oldest message was sent, when known.
    pub oldest_sent: Option<DateTime<Utc>>,
    /// Whether EventBridge delivery failures reach the DLQ (target DeadLetterConfig).
    pub delivery_failures_wired: bool,
    /// Whether function errors reach the DLQ (on-failure destination to the same queue).
    pub function_errors_wired: bool,
    /// Problems with the wiring.
    pub findings: Vec<String>,
}

fn wired(consumer: &Consumer) -> (bool, bool) {
    let dlq_arn = consumer.dlq.as_ref().map(|q| q.arn.as_str());
    let delivery = consumer.delivery_dlq.is_some() && consumer.delivery_dlq.as_deref() == dlq_arn;
    let function = consumer.function_dlq.is_some() && consumer.function_dlq.as_deref() == dlq_arn;
    (delivery, function)
}

/// `dlq ls`: every consumer, its DLQ's counters fetched concurrently.
pub async fn ls(backend: &dyn Backend, printer: &Printer) -> anyhow::Result<Outcome> {
    let consumers = backend.consumers().await?;
    let stats = futures::future::join_all(consumers.iter().map(|c| async move {
        match &c.dlq {
            Some(queue) => Some(match backend.queue_stats(queue).await {
                Ok(mut stats) => {
                    if stats.oldest_sent.is_none() {
                        stats.oldest_sent = backend.oldest_sent(queue).await;
                    }
                    Ok(stats)
                }
                Err(e) => Err(e),
            }),
            None => None,
        }
    }))
    .await;
    let mut rows = Vec::new();
    for (consumer, stats) in consumers.iter().zip(stats) {
        let stats = stats.transpose()?;
        let (delivery, function) = wired(consumer);
        rows.push(DlqRow {
            target: consumer.target.clone(),
            function: consumer.function.clone(),
            dlq: consumer.dlq.as_ref().map(|q| q.name.clone()),
            visible: stats.as_ref().map(|s| s.visible),
            in_flight: stats.as_ref().map(|s| s.in_flight),
            oldest_sent: stats.and_then(|s| s.oldest_sent),
            delivery_failures_wired: delivery,
            function_errors_wired: function,
            findings: consumer.findings.clone(),
        });
    }
    render::dlq::ls(printer, &backend.banner(), &rows);
    Ok(Outcome::Success)
}

/// One message as `dlq show` presents it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    /// The SQS message id.
    pub message_id: String,
    /// When it entered the DLQ.
    pub sent_at: Option<DateTime<Utc>>,
    /// `ApproximateReceiveCount` (this read included).
    pub receive_count: u32,
    /// `eventbridge-target`, `lambda-destination`, `lambda-dlq` or `unknown`.
    pub kind: &'static str,
    /// The error code.
    pub error_code: Option<String>,
    /// The error message (or why the format is unknown).
    pub error_message: Option<String>,
    /// Attempts made before giving up.
    pub attempts: Option<u32>,
    /// Why retrying stopped.
    pub exhausted_condition: Option<String>,
    /// The target or function that failed.
    pub failed_arn: Option<String>,
    /// The original event's detail-type.
    pub detail_type: Option<String>,
    /// Its `detail.eventVersion`.
    pub event_version: Option<String>,
    /// Its idempotency key.
    pub event_id: Option<String>,
    /// The order.
    pub order_id: Option<String>,
    /// The order journey.
    pub correlation_id: Option<String>,
    /// The body as stored (with `--raw`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The message attributes (with `--raw`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<MessageAttributes>,
}

impl MessageView {
    /// Present a scanned message.
    pub fn of(scanned: &Scanned, raw: bool) -> Self {
        let r: &DlqRecord = &scanned.record;
        let m = &scanned.message;
        Self {
            message_id: m.message_id.clone(),
            sent_at: m.sent,
            receive_count: m.receive_count,
            kind: r.kind().as_str(),
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
        }
    }
}

/// A message as exported and archived: exactly what SQS holds.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedMessage {
    /// The SQS message id.
    pub message_id: String,
    /// `SentTimestamp`.
    pub sent_at: Option<DateTime<Utc>>,
    /// `ApproximateReceiveCount`.
    pub receive_count: u32,
    /// The body, verbatim.
    pub body: String,
    /// The message attributes, verbatim.
    pub attributes: MessageAttributes,
}

impl From<&Scanned> for ExportedMessage {
    fn from(s: &Scanned) -> Self {
        Self {
            message_id: s.message.message_id.clone(),
            sent_at: s.message.sent,
            receive_count: s.message.receive_count,
            body: s.message.body.clone(),
            attributes: s.message.attributes.clone(),
        }
    }
}

/// Scan a consumer's DLQ, always releasing what was held, also on Ctrl-C.
async fn scan_target(
    backend: &dyn Backend,
    target: &str,
    filters: &crate::cli::Filters,
    args: &crate::cli::ScanArgs,
) -> anyhow::Result<(Scan, crate::backend::QueueRef, Held)> {
    let consumers = backend.consumers().await?;
    let queue = backend::find(&consumers, target)?.require_dlq()?.clone();
    let held = Held::default();
    let result = scan::until_interrupted(async {
        Ok(scan::scan(backend, &queue, filters, args, &held).await?)
    })
    .await;
    match result {
        Ok(scan) => Ok((scan, queue, held)),
        Err(e) => {
            scan::release(backend, &queue, &held).await;
            Err(e)
        }
    }
}

/// `dlq show`.
pub async fn show(
    backend: &dyn Backend,
    args: &ShowArgs,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let (scan, queue, held) = scan_target(backend, &args.target, &args.filters, &args.scan).await?;
    let unreleased = scan::release(backend, &queue, &held).await;
    let views: Vec<MessageView> = scan
        .matching
        .iter()
        .map(|s| MessageView::of(s, args.raw))
        .collect();
    render::dlq::show(
        printer,
        &backend.banner(),
        &queue.name,
        &views,
        &scan,
        args.raw,
        args.show_pii,
        unreleased,
    );
    Ok(if scan.incomplete.is_some() {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}

/// `dlq export`.
pub async fn export(
    backend: &dyn Backend,
    args: &ExportArgs,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let (scan, queue, held) = scan_target(backend, &args.target, &args.filters, &args.scan).await?;
    let unreleased = scan::release(backend, &queue, &held).await;
    let lines: Vec<ExportedMessage> = scan.matching.iter().map(ExportedMessage::from).collect();
    match &args.file {
        Some(path) => {
            write_ndjson(path, &lines, false)?;
            render::dlq::exported(
                printer,
                &backend.banner(),
                lines.len(),
                path,
                &scan,
                unreleased,
            );
        }
        None => render::dlq::ndjson(&lines),
    }
    Ok(if scan.incomplete.is_some() {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}

/// Write `lines` to `path`, replacing it, or with `append` adding to it.
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

/// What a purge did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgeReport {
    /// The queue.
    pub queue: String,
    /// Messages deleted (for a full purge: the approximate count before it).
    pub deleted: u64,
    /// Messages that matched but could not be deleted (they stay in the queue).
    pub failed: u64,
    /// The archive written first, if any.
    pub archive: Option<String>,
    /// Whether the whole queue was purged with PurgeQueue.
    pub full_purge: bool,
}

/// `dlq purge`.
pub async fn purge(
    backend: &dyn Backend,
    args: &PurgeArgs,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    if !args.filters.narrows() && args.archive.is_none() && args.filters.limit.is_none() {
        let consumers = backend.consumers().await?;
        let queue = backend::find(&consumers, &args.target)?
            .require_dlq()?
            .clone();
        let stats = backend.queue_stats(&queue).await?;
        let count = stats.visible + stats.in_flight;
        confirm(
            printer,
            args.yes,
            &format!(
                "Purge all {count} message(s) of {} (PurgeQueue, no archive)?",
                queue.name
            ),
        )?;
        backend.purge(&queue).await?;
        let report = PurgeReport {
            queue: queue.name,
            deleted: count,
            full_purge: true,
            ..PurgeReport::default()
        };
        render::dlq::purged(printer, &backend.banner(), &report);
        return Ok(Outcome::Success);
    }
    let (scan, queue, held) = scan_target(backend, &args.target, &args.filters, &args.scan).await?;
    let outcome =
        scan::until_interrupted(purge_scanned(backend, args, printer, &scan, &queue, &held)).await;
    scan::release(backend, &queue, &held).await;
    let report = outcome?;
    render::dlq::purged(printer, &backend.banner(), &report);
    Ok(if report.failed > 0 || scan.incomplete.is_some() {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}

async fn purge_scanned(
    backend: &dyn Backend,
    args: &PurgeArgs,
    printer: &Printer,
    scan: &Scan,
    queue: &crate::backend::QueueRef,
    held: &Held,
) -> anyhow::Result<PurgeReport> {
    let mut report = PurgeReport {
        queue: queue.name.clone(),
        ..PurgeReport::default()
    };
    if scan.matching.is_empty() {
        return Ok(report);
    }
    if let Some(path) = &args.archive {
        let lines: Vec<ExportedMessage> = scan.matching.iter().map(ExportedMessage::from).collect();
        // Appended: an archive may hold the only copy of messages deleted by earlier purges.
        write_ndjson(path, &lines, true)?;
        report.archive = Some(path.display().to_string());
    }
    confirm(
        printer,
        args.yes,
        &format!(
            "Delete {} message(s) from {}?",
            scan.matching.len(),
            queue.name
        ),
    )?;
    for batch in scan.matching.chunks(10) {
        let receipts: Vec<String> = batch
            .iter()
            .filter_map(|s| held.receipt(&s.message.message_id))
            .collect();
        let outcomes = backend.delete(queue, &receipts).await?;
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
    Ok(report)
}

fn confirm(printer: &Printer, yes: bool, question: &str) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    match printer.confirm(question) {
        Some(true) => Ok(()),
        Some(false) => Err(UsageError("nothing deleted: not confirmed".to_owned()).into()),
        None => Err(UsageError(format!(
            "{question} — stdin is not a terminal; pass --yes to confirm"
        ))
        .into()),
    }
}

/// Mask customer emails, names and addresses in a JSON body, for human output.
pub fn mask_pii(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match key.as_str() {
                    "email" => {
                        if let Some(email) = v.as_str() {
                            *v = Value::String(mask_email(email));
                        }
                    }
                    "name" | "shippingAddress" | "line1" | "postalCode" => {
                        *v = Value::String("***".to_owned());
                    }
                    _ => mask_pii(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_pii),
        Value::String(text) => {
            // Bodies wrapped as JSON strings (an invocation record's payload, say).
            if let Ok(mut inner) = serde_json::from_str::<Value>(text)
                && inner.is_object()
            {
                mask_pii(&mut inner);
                *text = inner.to_string();
            }
        }
        _ => {}
    }
}

/// `ada.001@example.com` → `a***@example.com`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".to_owned(),
    }
}

/// Mask PII in a raw body: JSON is masked field by field; other text has its email-like
/// words masked.
pub fn mask_body(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(mut value) => {
            mask_pii(&mut value);
            value.to_string()
        }
        Err(_) => mask_text(body),
    }
}

/// Mask the email-like words of a text (an error message, an attribute).
pub fn mask_text(text: &str) -> String {
    text.split(' ')
        .map(|w| {
            if w.contains('@') {
                mask_email(w)
            } else {
                w.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pii_is_masked_in_nested_json_and_in_text() {
        let body = r#"{"detail":{"customer":{"userId":"u1","email":"ada.001@example.com","name":"Ada","shippingAddress":{"line1":"1 St"}}}}"#;
        let masked = mask_body(body);
        assert!(!masked.contains("ada.001"), "{masked}");
        assert!(masked.contains("a***@example.com"), "{masked}");
        assert!(!masked.contains("Ada"), "{masked}");
        assert!(masked.contains("\"userId\":\"u1\""), "ids stay: {masked}");
        assert_eq!(
            mask_body("mail ada@example.com failed"),
            "mail a***@example.com failed"
        );
    }
}
