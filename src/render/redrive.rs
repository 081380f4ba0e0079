//! `redrive` output.

use super::Printer;
use super::fit::{Cell, Column, Priority, Tone};
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
                    v.message_id.clone().into(),
                    v.kind.as_str().into(),
                    Cell::toned(v.error_code.clone().unwrap_or_default(), Tone::Bad),
                    v.detail_type.clone().unwrap_or_default().into(),
                    v.order_id.clone().unwrap_or_default().into(),
                ]
            })
            .collect();
        printer.table(
            &[
                Column::cut("message", Priority::High, 8),
                Column::keep("kind", Priority::Low),
                Column::cut("error", Priority::Essential, 16),
                Column::keep("event", Priority::Medium),
                Column::keep("order", Priority::Essential),
            ],
            rows,
        );
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
    let count = |header: &'static str, n: u64, tone: fn(u64) -> Tone| {
        (
            Column::keep(header, Priority::Essential),
            Cell::toned(n.to_string(), tone(n)),
        )
    };
    let mut cells = vec![
        if report.keep {
            count("copied", report.copied, Tone::good_above_zero)
        } else {
            count("redriven", report.redriven, Tone::good_above_zero)
        },
        count("failed", report.failed, Tone::bad_above_zero),
        count("skipped", report.skipped, Tone::warn_above_zero),
    ];
    if !report.keep {
        cells.push(count(
            "delivered, not deleted",
            report.delivered_not_deleted,
            Tone::warn_above_zero,
        ));
    }
    cells.push(count("not selected", report.not_selected, |_| Tone::Plain));
    cells.push(match report.left_in_queue {
        Some(left) => count("left in DLQ", left, Tone::bad_above_zero),
        None => (
            Column::keep("left in DLQ", Priority::Essential),
            Cell::toned("?", Tone::Warn),
        ),
    });
    let (columns, row): (Vec<Column>, Vec<Cell>) = cells.into_iter().unzip();
    printer.table(&columns, vec![row]);
}
