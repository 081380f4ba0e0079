//! `redrive` output.

use super::Printer;
use crate::commands::redrive::RedriveReport;

/// The redrive summary.
pub fn print(printer: &Printer, banner: &str, report: &RedriveReport) {
    if !printer.is_human() {
        printer.json(report);
        return;
    }
    printer.message(banner);
    if report.dry_run {
        printer.message(&format!(
            "dry run: {} message(s) of {} would be redriven via {}",
            report.would_redrive.len(),
            report.queue,
            report.via
        ));
        let rows = report
            .would_redrive
            .iter()
            .map(|v| {
                vec![
                    v.message_id.clone(),
                    v.kind.to_owned(),
                    v.error_code.clone().unwrap_or_default(),
                    v.detail_type.clone().unwrap_or_default(),
                    v.order_id.clone().unwrap_or_default(),
                ]
            })
            .collect();
        printer.table(&["message", "kind", "error", "event", "order"], rows);
    } else {
        printer.table(
            &[
                "redriven",
                "failed",
                "skipped",
                "delivered, not deleted",
                "not selected",
                "left in DLQ",
            ],
            vec![vec![
                report.redriven.to_string(),
                report.failed.to_string(),
                report.skipped.to_string(),
                report.delivered_not_deleted.to_string(),
                report.not_selected.to_string(),
                report
                    .left_in_queue
                    .map_or_else(|| "?".to_owned(), |n| n.to_string()),
            ]],
        );
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
        printer.message("interrupted: every message not confirmed delivered is back in the DLQ; run the same command again to finish");
    }
    if let Some(reason) = &report.incomplete {
        printer.message(&format!("incomplete: {reason}"));
    }
    printer.hint(&format!("journal: {}", report.journal));
}
