//! The demo's summary.

use super::Printer;
use super::fit::{Cell, Column, Priority, Tone};
use crate::report::demo::DemoSummary;

/// Print the demo's summary.
pub(super) fn print(printer: &Printer, banner: &str, summary: &DemoSummary) {
    if !printer.is_human() {
        printer.json(summary);
        return;
    }
    let report = &summary.run;
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
            let count = |n: u64, tone: fn(u64) -> Tone| Cell::toned(n.to_string(), tone(n));
            vec![
                c.consumer.clone().into(),
                count(c.succeeded, Tone::good_above_zero),
                count(c.skipped, |_| Tone::Plain),
                count(c.failed_attempts, Tone::warn_above_zero),
                count(c.delivery_failures, Tone::bad_above_zero),
                count(c.dlq_depth, Tone::bad_above_zero),
            ]
        })
        .collect();
    printer.table(
        &[
            Column::keep("consumer", Priority::Essential),
            Column::keep("succeeded", Priority::Essential),
            Column::keep("skipped", Priority::Essential),
            Column::keep("failed attempts", Priority::Essential),
            Column::keep("delivery failures", Priority::Essential),
            Column::keep("DLQ depth", Priority::Essential),
        ],
        rows,
    );
    tenants(printer, report);
    for c in &report.consumers {
        if let Some(dlq) = c.reader_dlq.as_ref().filter(|d| d.depth > 0) {
            printer.message(&format!(
                "{}: {} record(s) its function kept failing are in {}",
                c.consumer, dlq.depth, dlq.queue
            ));
        }
    }
    if !summary.rejected_fields.is_empty() {
        let errors: Vec<String> = summary
            .rejected_fields
            .iter()
            .map(|e| format!("{} {} ({})", e.field, e.code, e.message))
            .collect();
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
    // With tenants every consumer lives in an account: the forward DLQs first, since what
    // waits there reached no consumer at all.
    let forward = report
        .tenants
        .iter()
        .find(|t| t.forward_dlq_depth > 0)
        .map(|t| format!("forward@{}", t.tenant));
    let first = forward.or_else(|| fullest.map(|c| c.consumer.clone()));
    if let Some(first) = first.as_deref() {
        printer.hint(&format!(
            "  ecomm dlq show {first:<22}why each message failed"
        ));
        printer.hint(&format!(
            "  ecomm redrive --target {first:<14}replay them (faults are gone now)"
        ));
    }
    if let Some(order) = &report.out_of_stock_order {
        printer.hint(&format!(
            "  ecomm trace {order:<25}an out-of-stock order's saga"
        ));
    }
    printer.hint("  ecomm ui                             all of it in one screen, a key away");
}

/// The tenant accounts of a demo with `--tenants`, one row each.
fn tenants(printer: &Printer, report: &ecomm_local::demo::DemoReport) {
    if report.tenants.is_empty() {
        return;
    }
    let rows = report
        .tenants
        .iter()
        .map(|t| {
            let count = |n: u64, tone: fn(u64) -> Tone| Cell::toned(n.to_string(), tone(n));
            vec![
                t.tenant.clone().into(),
                t.account.clone().into(),
                count(t.orders_accepted, Tone::good_above_zero),
                count(t.forwarded, |_| Tone::Plain),
                count(t.forward_failures, Tone::bad_above_zero),
                count(t.forward_dlq_depth, Tone::bad_above_zero),
            ]
        })
        .collect();
    printer.table(
        &[
            Column::keep("tenant", Priority::Essential),
            Column::keep("account", Priority::Essential),
            Column::keep("orders", Priority::Essential),
            Column::keep("forwarded", Priority::Essential),
            Column::keep("forward failures", Priority::Essential),
            Column::keep("forward DLQ", Priority::Essential),
        ],
        rows,
    );
}
