//! `redrive` output.

use super::Printer;
use crate::report::redrive::RedriveReport;

/// The redrive summary; an error that stopped the run follows it on stderr.
pub(super) fn print(printer: &Printer, banner: &str, report: &RedriveReport) {
    if printer.is_human() {
        human(printer, banner, report);
    } else {
        printer.json(report);
    }
    if let Some(error) = &report.error {
        super::error_text(error);
    }
}

fn human(printer: &Printer, banner: &str, report: &RedriveReport) {
    printer.message(banner);
    if report.dry_run {
        printer.message(&format!(
            "dry run: {} message(s) of {} would be redriven via {}",
            report.would_redrive.len(),
            report.queue,
            report.via.name()
        ));
        let rows = report
            .would_redrive
            .iter()
            .map(|v| {
                vec![
                    v.message_id.clone(),
                    v.kind.as_str().to_owned(),
                    v.error_code.clone().unwrap_or_default(),
                    v.detail_type.clone().unwrap_or_default(),
                    v.order_id.clone().unwrap_or_default(),
                ]
            })
            .collect();
        printer.table(&["message", "kind", "error", "event", "order"], rows);
        for preview in &report.transform_preview {
            printer.message(&format!("--transform changes {}:", preview.message_id));
            for change in &preview.changes {
                let show = |v: &Option<serde_json::Value>| {
                    v.as_ref()
                        .map_or_else(|| "(absent)".to_owned(), ToString::to_string)
                };
                printer.message(&format!(
                    "  {}: {} -> {}",
                    change.path,
                    show(&change.before),
                    show(&change.after)
                ));
            }
            if preview.changes.is_empty() {
                printer.message("  nothing");
            }
        }
    } else {
        if report.keep {
            printer.message(&format!(
                "--keep: {} message(s) copied to {} and left in {}",
                report.copied, report.target, report.queue
            ));
        }
        summary(printer, report);
    }
    for item in &report.not_redriven {
        printer.message(&format!(
            "  {} ({}): {}",
            item.message_id,
            item.order_id.as_deref().unwrap_or("-"),
            item.reason
        ));
    }
    if report.interrupted {
        printer.message(&super::interrupted("not confirmed delivered"));
    }
    if let Some(reason) = &report.incomplete {
        printer.message(&format!("incomplete: {reason}"));
    }
    printer.hint(&format!("journal: {}", report.journal));
}

/// The counts: copies replace redrives with `--keep` (nothing is deleted, so nothing can be
/// delivered and not deleted).
fn summary(printer: &Printer, report: &RedriveReport) {
    let left = report
        .left_in_queue
        .map_or_else(|| "?".to_owned(), |n| n.to_string());
    let mut headers = vec![
        if report.keep { "copied" } else { "redriven" },
        "failed",
        "skipped",
    ];
    let mut row = vec![
        if report.keep {
            report.copied
        } else {
            report.redriven
        }
        .to_string(),
        report.failed.to_string(),
        report.skipped.to_string(),
    ];
    if !report.keep {
        headers.push("delivered, not deleted");
        row.push(report.delivered_not_deleted.to_string());
    }
    headers.extend(["not selected", "left in DLQ"]);
    row.extend([report.not_selected.to_string(), left]);
    printer.table(&headers, vec![row]);
}
