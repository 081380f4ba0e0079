//! `dlq ls | show | export | purge` output.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::Printer;
use crate::commands::dlq::{
    DlqRow, ExportedMessage, MessageView, PurgeReport, mask_body, mask_text,
};
use crate::scan::Scan;

/// `3m`, `2h 5m`, `4d 3h`: how long ago.
pub fn age(since: DateTime<Utc>) -> String {
    let secs = (Utc::now() - since).num_seconds().max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn tick(yes: bool) -> &'static str {
    if yes { "yes" } else { "NO" }
}

/// `dlq ls`.
pub fn ls(printer: &Printer, banner: &str, rows: &[DlqRow]) {
    if printer.format() == crate::cli::OutputFormat::Ndjson {
        for row in rows {
            printer.json(row);
        }
        return;
    }
    if !printer.is_human() {
        printer.json(&rows);
        return;
    }
    printer.message(banner);
    let table = rows
        .iter()
        .map(|r| {
            vec![
                r.target.clone(),
                opt(r.function.as_ref()),
                opt(r.dlq.as_ref()),
                opt(r.visible),
                opt(r.in_flight),
                opt(r.oldest_sent.map(age)),
                tick(r.delivery_failures_wired).to_owned(),
                tick(r.function_errors_wired).to_owned(),
            ]
        })
        .collect();
    printer.table(
        &[
            "target",
            "function",
            "DLQ",
            "visible",
            "in flight",
            "oldest",
            "delivery failures",
            "function errors",
        ],
        table,
    );
    for row in rows {
        for finding in &row.findings {
            printer.message(&format!("warning: {}: {finding}", row.target));
        }
    }
}

fn short(text: Option<&str>, max: usize) -> String {
    match text {
        None => "-".to_owned(),
        Some(t) if t.chars().count() <= max => t.to_owned(),
        Some(t) => format!("{}…", t.chars().take(max - 1).collect::<String>()),
    }
}

/// `dlq show`.
#[allow(
    clippy::too_many_arguments,
    reason = "a renderer of one command's whole answer"
)]
pub fn show(
    printer: &Printer,
    banner: &str,
    queue: &str,
    views: &[MessageView],
    scan: &Scan,
    raw: bool,
    show_pii: bool,
    unreleased: usize,
) {
    if !printer.is_human() {
        if printer.format() == crate::cli::OutputFormat::Ndjson {
            for view in views {
                printer.json(view);
            }
        } else {
            printer.json(&serde_json::json!({"queue": queue, "messages": views, "seen": scan.seen, "complete": scan.incomplete.is_none(), "incomplete": scan.incomplete}));
        }
        return;
    }
    printer.message(&format!(
        "{banner}\n{queue}: {} matching of {} read",
        views.len(),
        scan.seen
    ));
    // Error messages and attributes quote what failed, e.g. the address SES rejected.
    let pii = |text: &str| {
        if show_pii {
            text.to_owned()
        } else {
            mask_text(text)
        }
    };
    if raw {
        for view in views {
            printer.message(&format!(
                "--- {} ({}, sent {})",
                view.message_id,
                view.kind,
                opt(view.sent_at)
            ));
            if let Some(attributes) = &view.attributes {
                for (name, value) in attributes {
                    printer.message(&format!(
                        "  {name} [{}] = {}",
                        value.data_type(),
                        value.as_text().map_or_else(|| "<binary>".to_owned(), pii)
                    ));
                }
            }
            let body = view.body.as_deref().unwrap_or_default();
            let body = if show_pii {
                body.to_owned()
            } else {
                mask_body(body)
            };
            let pretty = serde_json::from_str::<serde_json::Value>(&body)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or(body);
            printer.message(&pretty);
        }
    } else {
        let rows = views
            .iter()
            .map(|v| {
                vec![
                    short(Some(&v.message_id), 8),
                    opt(v.sent_at.map(age)),
                    v.receive_count.to_string(),
                    v.kind.to_owned(),
                    short(v.error_code.as_deref(), 24),
                    short(v.error_message.as_deref().map(pii).as_deref(), 48),
                    opt(v.attempts),
                    format!(
                        "{} {}",
                        v.detail_type.as_deref().unwrap_or("-"),
                        v.event_version
                            .as_deref()
                            .map(|x| format!("v{x}"))
                            .unwrap_or_default()
                    ),
                    opt(v.order_id.as_ref()),
                    short(v.correlation_id.as_deref(), 16),
                ]
            })
            .collect();
        printer.table(
            &[
                "message",
                "age",
                "receives",
                "kind",
                "error",
                "message",
                "attempts",
                "event",
                "order",
                "correlation",
            ],
            rows,
        );
    }
    if let Some(reason) = &scan.incomplete {
        printer.message(&format!("incomplete: {reason}"));
    }
    if unreleased > 0 {
        printer.message(&format!("warning: {unreleased} message(s) could not be made visible again; they reappear when the visibility timeout ends"));
    }
}

/// `dlq export` to stdout: NDJSON whatever `--output` says.
pub fn ndjson(lines: &[ExportedMessage]) {
    for line in lines {
        super::out(&serde_json::to_string(line).expect("messages always serialize"));
    }
}

/// `dlq export --file`.
pub fn exported(
    printer: &Printer,
    banner: &str,
    count: usize,
    path: &Path,
    scan: &Scan,
    unreleased: usize,
) {
    if !printer.is_human() {
        printer.json(&serde_json::json!({"exported": count, "file": path, "seen": scan.seen, "complete": scan.incomplete.is_none()}));
        return;
    }
    printer.message(&format!(
        "{banner}\nexported {count} message(s) to {}",
        path.display()
    ));
    if let Some(reason) = &scan.incomplete {
        printer.message(&format!("incomplete: {reason}"));
    }
    if unreleased > 0 {
        printer.message(&format!(
            "warning: {unreleased} message(s) could not be made visible again"
        ));
    }
}

/// `dlq purge`.
pub fn purged(printer: &Printer, banner: &str, report: &PurgeReport) {
    if !printer.is_human() {
        printer.json(report);
        return;
    }
    printer.message(banner);
    if let Some(archive) = &report.archive {
        printer.message(&format!("archived to {archive}"));
    }
    if report.full_purge {
        printer.message(&format!(
            "purged {} (about {} message(s))",
            report.queue, report.deleted
        ));
    } else {
        printer.message(&format!(
            "deleted {} message(s) from {}",
            report.deleted, report.queue
        ));
    }
    if report.failed > 0 {
        printer.message(&format!(
            "{} message(s) could not be deleted and are still in the queue",
            report.failed
        ));
    }
}
