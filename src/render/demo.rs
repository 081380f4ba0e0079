//! The demo's summary.

use ecomm_local::demo::DemoReport;

use super::Printer;
use crate::cli::OutputFormat;

/// Print the demo's report.
pub fn print(printer: &Printer, banner: &str, report: &DemoReport) {
    if printer.format() != OutputFormat::Table {
        printer.json(report);
        return;
    }
    printer.message(&format!("{banner} (seed {})", report.seed));
    printer.message(&format!(
        "orders: {} through the producer ({} accepted, {} rejected), {} from the legacy v1 producer; \
         {} poison event(s); {} events routed",
        report.orders_submitted,
        report.orders_accepted,
        report.orders_rejected,
        report.legacy_v1_events,
        report.poison_events,
        report.events_routed
    ));
    let rows = report
        .consumers
        .iter()
        .map(|c| {
            vec![
                c.consumer.clone(),
                c.succeeded.to_string(),
                c.skipped.to_string(),
                c.failed_attempts.to_string(),
                c.delivery_failures.to_string(),
                c.dlq_depth.to_string(),
            ]
        })
        .collect();
    printer.table(
        &[
            "consumer",
            "succeeded",
            "skipped",
            "failed attempts",
            "delivery failures",
            "DLQ depth",
        ],
        rows,
    );
    if let Some(rejection) = &report.rejection_example {
        let errors: Vec<String> = rejection["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {} ({})",
                            e["field"].as_str().unwrap_or(""),
                            e["code"].as_str().unwrap_or(""),
                            e["message"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        printer.message(&format!(
            "a rejected order, as the client saw it (400): {}",
            errors.join("; ")
        ));
    }
    let fullest = report
        .consumers
        .iter()
        .filter(|c| c.dlq_depth > 0)
        .max_by_key(|c| c.dlq_depth);
    printer.hint("\nnext:");
    printer.hint("  ecomm dlq ls                         every DLQ at a glance");
    if let Some(first) = fullest.map(|c| c.consumer.as_str()) {
        printer.hint(&format!(
            "  ecomm dlq show {first:<21}why each message failed"
        ));
        printer.hint(&format!(
            "  ecomm redrive --target {first:<13}replay them (faults are gone now)"
        ));
    }
    if let Some(order) = &report.out_of_stock_order {
        printer.hint(&format!(
            "  ecomm trace {order:<24}an out-of-stock order's saga"
        ));
    }
}
