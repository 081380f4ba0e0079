//! `trace` output: a tree for people, the tree as JSON, or a Mermaid sequence diagram.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::Printer;
use super::dlq::age;
use crate::cli::OutputFormat;
use crate::commands::trace::{EventNode, Invocation, Trace};

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "?".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
    )
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn invocation_line(inv: &Invocation) -> String {
    let last = inv.attempts.last();
    let failed = inv
        .attempts
        .iter()
        .filter(|a| a.outcome == "failed")
        .count();
    let mut line = format!("{:<13} {}", inv.consumer, inv.outcome);
    if let Some(a) = last {
        let _ = write!(line, "  {}", time(Some(a.at)));
        if let Some(ms) = a.duration_ms {
            let _ = write!(line, " · {ms} ms");
        }
    }
    if inv.attempts.len() > 1 {
        let _ = write!(line, " · {} attempts", inv.attempts.len());
    }
    if failed > 0 && inv.outcome != "failed" && inv.stuck.is_none() {
        let _ = write!(line, " · recovered after {failed} failure(s)");
    }
    line
}

fn lines_of(event: &EventNode, prefix: &str, out: &mut Vec<String>) {
    let children = event.invocations.len() + usize::from(!event.missing.is_empty());
    for (i, inv) in event.invocations.iter().enumerate() {
        let last = i + 1 == children;
        let (branch, cont) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        out.push(format!("{prefix}{branch}{}", invocation_line(inv)));
        let inner = format!("{prefix}{cont}");
        for a in inv.attempts.iter().filter(|a| a.outcome == "failed") {
            out.push(format!(
                "{inner}   attempt {} at {}: {}",
                a.attempt.map_or_else(|| "?".to_owned(), |n| n.to_string()),
                time(Some(a.at)),
                a.error.as_deref().unwrap_or("failed")
            ));
        }
        if let Some(stuck) = &inv.stuck {
            out.push(format!(
                "{inner}   STUCK in {} for {}: {} {}",
                stuck.queue,
                stuck.sent_at.map_or_else(|| "?".to_owned(), age),
                stuck.error_code.as_deref().unwrap_or("-"),
                stuck.error_message.as_deref().unwrap_or("")
            ));
            out.push(format!("{inner}   replay: {}", stuck.redrive));
        }
        for child in &inv.emitted {
            out.push(format!(
                "{inner}└▶ {} {}  {}",
                child.detail_type,
                short(&child.event_id),
                time(child.at)
            ));
            lines_of(child, &format!("{inner}   "), out);
        }
    }
    if !event.missing.is_empty() {
        out.push(format!(
            "{prefix}└─ MISSING: no invocation of {} (their rule matches {})",
            event.missing.join(", "),
            event.detail_type
        ));
    }
}

/// The tree as lines.
pub fn tree(trace: &Trace) -> Vec<String> {
    let mut out = Vec::new();
    for event in &trace.events {
        let publisher = event
            .published_by
            .as_deref()
            .map(|p| format!("  published by {p}"))
            .unwrap_or_default();
        out.push(format!(
            "{} {}  {}{publisher}",
            event.detail_type,
            short(&event.event_id),
            time(event.at)
        ));
        lines_of(event, "", &mut out);
    }
    out
}

fn walk(event: &EventNode, publisher: &str, out: &mut String) {
    let _ = writeln!(
        out,
        "    {publisher}->>bus: {} ({})",
        event.detail_type,
        short(&event.event_id)
    );
    for inv in &event.invocations {
        let arrow = if inv.outcome == "stuck" || inv.outcome == "failed" {
            "-x"
        } else {
            "->>"
        };
        let _ = writeln!(out, "    bus{arrow}{}: {}", inv.consumer, event.detail_type);
        if let Some(stuck) = &inv.stuck {
            let _ = writeln!(
                out,
                "    Note over {}: {} — in {}",
                inv.consumer,
                stuck.error_code.as_deref().unwrap_or("failed"),
                stuck.queue
            );
        } else if inv.outcome != "succeeded" {
            let _ = writeln!(out, "    Note over {}: {}", inv.consumer, inv.outcome);
        }
        for child in &inv.emitted {
            walk(child, &inv.consumer, out);
        }
    }
    for missing in &event.missing {
        let _ = writeln!(out, "    Note over bus,{missing}: no {missing} invocation");
    }
}

/// A Mermaid sequence diagram of the chain.
pub fn mermaid(trace: &Trace) -> String {
    let mut out =
        String::from("sequenceDiagram\n    autonumber\n    participant bus as event bus\n");
    for event in &trace.events {
        walk(
            event,
            event.published_by.as_deref().unwrap_or("producer"),
            &mut out,
        );
    }
    out
}

/// Print a trace.
pub fn print(printer: &Printer, banner: &str, trace: &Trace) {
    match printer.format() {
        OutputFormat::Json | OutputFormat::Ndjson => printer.json(trace),
        OutputFormat::Mermaid => super::out(mermaid(trace).trim_end()),
        OutputFormat::Table => {
            printer.message(banner);
            printer.message(&format!(
                "trace {}: correlation {}, order {}",
                trace.query,
                if trace.correlation_ids.is_empty() {
                    "-".to_owned()
                } else {
                    trace.correlation_ids.join(", ")
                },
                if trace.order_ids.is_empty() {
                    "-".to_owned()
                } else {
                    trace.order_ids.join(", ")
                }
            ));
            if trace.events.is_empty() {
                printer
                    .message("nothing found in the logs or DLQs for this window (try --since 7d)");
            }
            for line in tree(trace) {
                printer.message(&line);
            }
            for problem in &trace.problems {
                printer.message(&format!("warning: {problem}"));
            }
            if trace.partial {
                printer.message("warning: some results may be missing (see above)");
            }
        }
    }
}

/// Print the lines not shown yet (`--follow`).
pub fn follow(printer: &Printer, banner: &str, trace: &Trace, shown: &mut BTreeSet<String>) {
    if shown.is_empty() && printer.is_human() {
        printer.message(banner);
        printer.message(&format!("following {} (Ctrl-C to stop)", trace.query));
    }
    if !printer.is_human() {
        let key = serde_json::to_string(trace).unwrap_or_default();
        if shown.insert(key) {
            printer.json(trace);
        }
        return;
    }
    for line in tree(trace) {
        if shown.insert(line.clone()) {
            printer.message(&line);
        }
    }
}
