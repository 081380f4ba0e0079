//! `dlq ls | show | export | purge` output.

use super::Printer;
use super::cells::{age, message_name, opt};
use super::fit::{Cell, Column, Priority, Tone};
use super::pii::{mask_text, pretty_body};
use crate::cli::OutputFormat;
use crate::report::dlq::{Coverage, DlqList, ExportReport, PurgeReport, ShowReport};

/// Whether a failure path is wired: an unwired one is red.
fn tick(yes: bool) -> Cell {
    if yes {
        Cell::toned("yes", Tone::Good)
    } else {
        Cell::toned("NO", Tone::Bad)
    }
}

/// `dlq ls`'s columns: the function's name goes first when space runs out, then the DLQ's.
/// Names that share their prefix (`ecomm-local-…`) are shown whole or not at all.
const LS_COLUMNS: [Column; 8] = [
    Column::keep("target", Priority::Essential),
    Column::keep("function", Priority::Low),
    Column::keep("DLQ", Priority::Medium),
    Column::keep("visible", Priority::Essential),
    Column::keep("in flight", Priority::High),
    Column::keep("oldest", Priority::High),
    Column::keep("delivery failures", Priority::High),
    Column::keep("function errors", Priority::High),
];

/// `dlq show`'s columns: what failed, why and for which order stay longest.
const SHOW_COLUMNS: [Column; 10] = [
    Column::cut("message", Priority::High, 8),
    Column::keep("age", Priority::Essential),
    Column::keep("receives", Priority::Low),
    Column::keep("kind", Priority::Low),
    Column::cut("error", Priority::Essential, 16),
    Column::wrap("message", Priority::Essential, 24),
    Column::keep("attempts", Priority::Low),
    Column::keep("event", Priority::Medium),
    Column::keep("order", Priority::Essential),
    Column::cut("correlation", Priority::Low, 8),
];

/// `dlq ls`.
pub(super) fn ls(printer: &Printer, banner: &str, list: &DlqList) {
    match printer.format() {
        OutputFormat::Ndjson => {
            for row in &list.rows {
                printer.json(row);
            }
            return;
        }
        OutputFormat::Json | OutputFormat::Mermaid => {
            printer.json(list);
            return;
        }
        OutputFormat::Table | OutputFormat::Wide => {}
    }
    printer.message(banner);
    // Across accounts, the account has a column of its own (the target stays `NAME@ACCOUNT`
    // in JSON, as `--target` takes it).
    let across = list.rows.iter().any(|r| r.account.is_some());
    let mut columns = LS_COLUMNS.to_vec();
    if across {
        columns.insert(1, Column::keep("account", Priority::Essential));
    }
    let table = list
        .rows
        .iter()
        .map(|r| {
            let name = match &r.account {
                Some(account) => r
                    .target
                    .strip_suffix(&format!("@{account}"))
                    .unwrap_or(&r.target),
                None => &r.target,
            };
            let mut cells: Vec<Cell> = vec![
                Cell::toned(
                    name,
                    if r.unreachable.is_some() {
                        Tone::Bad
                    } else {
                        Tone::Plain
                    },
                ),
                opt(r.function.as_ref()).into(),
                opt(r.dlq.as_ref()).into(),
                Cell::toned(opt(r.visible), Tone::bad_above_zero(r.visible.unwrap_or(0))),
                Cell::toned(
                    opt(r.in_flight),
                    Tone::warn_above_zero(r.in_flight.unwrap_or(0)),
                ),
                opt(r.oldest_sent.map(age)).into(),
                tick(r.delivery_failures_wired),
                r.function_errors_wired.map_or_else(|| "-".into(), tick),
            ];
            if let Some(account) = r.account.as_ref().filter(|_| across) {
                cells.insert(
                    1,
                    r.account_name.as_ref().unwrap_or(account).as_str().into(),
                );
            }
            cells
        })
        .collect();
    printer.table(&columns, table);
    for row in &list.rows {
        // Short lines: a laptop terminal is 80 columns.
        if let Some(reader) = &row.reader {
            let held = match (reader.visible, reader.in_flight) {
                (Some(0), Some(0)) => "empty".to_owned(),
                (Some(v), Some(f)) => format!("{v} visible, {f} in flight"),
                _ => "not read".to_owned(),
            };
            printer.message(&format!(
                "{}: records its function {} kept failing:",
                row.target,
                opt(reader.function.as_ref())
            ));
            printer.message(&format!("  {}: {held}", opt(reader.dlq.as_ref())));
            if reader.visible.is_some_and(|v| v > 0) {
                printer.message(
                    "  move them back to the queue with SQS's DLQ redrive (StartMessageMoveTask)",
                );
            }
        }
        if let (Some(bucket), Some(objects)) = (&row.failure_bucket, row.failure_objects) {
            let oldest = row
                .oldest_object
                .map(|t| format!(", oldest {}", age(t)))
                .unwrap_or_default();
            printer.message(&format!(
                "{}: {objects} function error record(s) in S3{oldest}:",
                row.target
            ));
            printer.message(&format!("  {bucket} (counted in visible)"));
        }
        for finding in &row.findings {
            printer.message(&format!("warning: {}: {finding}", row.target));
        }
        if let Some(reason) = &row.unreachable {
            for line in reason.lines().skip(1) {
                printer.message(&format!("  {}", line.trim()));
            }
        }
    }
}

/// `dlq show`.
pub(super) fn show(printer: &Printer, banner: &str, report: &ShowReport) {
    match printer.format() {
        OutputFormat::Ndjson => {
            for view in &report.messages {
                printer.json(view);
            }
            return;
        }
        OutputFormat::Json | OutputFormat::Mermaid => {
            printer.json(report);
            return;
        }
        OutputFormat::Table | OutputFormat::Wide => {}
    }
    printer.message(&format!(
        "{banner}\n{}: {} matching of {} read",
        report.queue,
        report.messages.len(),
        report.coverage.seen
    ));
    if let Some(bucket) = &report.bucket {
        printer.message(&format!("  with the function errors' records in {bucket}"));
    }
    // Error messages and attributes quote what failed, e.g. the address SES rejected.
    let pii = |text: &str| {
        if report.show_pii {
            text.to_owned()
        } else {
            mask_text(text)
        }
    };
    if report.raw {
        for view in &report.messages {
            printer.message(&format!(
                "--- {} ({}, sent {})",
                view.message_id,
                view.kind.as_str(),
                opt(view.sent_at)
            ));
            for (name, value) in view.attributes.iter().flatten() {
                printer.message(&format!(
                    "  {name} [{}] = {}",
                    value.data_type(),
                    value.as_text().map_or_else(|| "<binary>".to_owned(), pii)
                ));
            }
            printer.message(&pretty_body(
                view.body.as_deref().unwrap_or_default(),
                report.show_pii,
            ));
            for record in view.bus_log.iter().flatten() {
                printer.message(&format!("  bus log: {}", pii(record)));
            }
        }
    } else {
        let rows = report
            .messages
            .iter()
            .map(|v| {
                vec![
                    message_name(&v.message_id).into(),
                    opt(v.sent_at.map(age)).into(),
                    v.receive_count.to_string().into(),
                    v.kind.as_str().into(),
                    Cell::toned(opt(v.error_code.as_deref()), Tone::Bad),
                    opt(v.error_message.as_deref().map(pii)).into(),
                    opt(v.attempts).into(),
                    format!(
                        "{} {}",
                        v.detail_type.as_deref().unwrap_or("-"),
                        v.event_version
                            .as_deref()
                            .map(|x| format!("v{x}"))
                            .unwrap_or_default()
                    )
                    .into(),
                    opt(v.order_id.as_ref()).into(),
                    opt(v.correlation_id.as_deref()).into(),
                ]
            })
            .collect();
        printer.table(&SHOW_COLUMNS, rows);
    }
    deliveries(printer, report);
    for note in &report.notes {
        printer.message(&format!("note: {note}"));
    }
    coverage(printer, &report.coverage);
}

/// What the bus itself logged of each failed delivery, one line a message.
fn deliveries(printer: &Printer, report: &ShowReport) {
    let deliveries: Vec<String> = report
        .messages
        .iter()
        .filter_map(|v| {
            let delivery = v.delivery.as_ref()?;
            // By order, as on-call looks for it; else by the message's id.
            let which = v
                .order_id
                .as_deref()
                .unwrap_or_else(|| v.message_id.get(..8).unwrap_or(&v.message_id));
            Some(format!("  {which}  {}", delivery.summary()))
        })
        .collect();
    if !deliveries.is_empty() {
        printer.message("delivery attempts, from the bus's log:");
        for line in deliveries {
            printer.message(&line);
        }
    }
}

/// What a scan could not see or give back.
fn coverage(printer: &Printer, coverage: &Coverage) {
    if let Some(reason) = &coverage.incomplete {
        printer.message(&format!("incomplete: {reason}"));
    }
    if coverage.interrupted {
        printer.message(&super::interrupted("read"));
    }
    if coverage.unreleased > 0 {
        printer.message(&format!(
            "warning: {} message(s) could not be made visible again; they reappear when the visibility timeout ends",
            coverage.unreleased
        ));
    }
}

/// `dlq export`: NDJSON on stdout whatever `--output` says, or a summary of the file written.
pub(super) fn export(printer: &Printer, banner: &str, report: &ExportReport) {
    let Some(path) = &report.file else {
        for line in &report.messages {
            super::out(&serde_json::to_string(line).expect("messages always serialize"));
        }
        return;
    };
    if !printer.is_human() {
        printer.json(report);
        return;
    }
    printer.message(&format!(
        "{banner}\nexported {} message(s) to {}",
        report.exported,
        path.display()
    ));
    coverage(printer, &report.coverage);
}

/// `dlq purge`.
pub(super) fn purged(printer: &Printer, banner: &str, report: &PurgeReport) {
    if !printer.is_human() {
        printer.json(report);
        return;
    }
    printer.message(banner);
    if let Some(archive) = &report.archive {
        printer.message(&format!("archived to {archive}"));
    }
    let bucket = report
        .bucket
        .as_ref()
        .map(|b| format!(" and {b}"))
        .unwrap_or_default();
    if report.full_purge {
        printer.message(&format!(
            "purged {}{bucket} (about {} message(s))",
            report.queue, report.deleted
        ));
    } else {
        printer.message(&format!(
            "deleted {} message(s) from {}{bucket}",
            report.deleted, report.queue
        ));
    }
    if report.failed > 0 {
        printer.message(&format!(
            "{} message(s) could not be deleted and are still in the queue",
            report.failed
        ));
    }
    if let Some(reason) = &report.incomplete {
        printer.message(&format!("incomplete: {reason}"));
    }
    if report.interrupted {
        printer.message(&super::interrupted("not deleted"));
    }
}
