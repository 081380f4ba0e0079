//! `trace` output: a tree for people, the tree as JSON, or a Mermaid sequence diagram.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::Printer;
use super::cells::age;
use super::fit::{Tone, TreeLine};
use crate::cli::OutputFormat;
use crate::report::buslog::AttemptResult;
use crate::report::trace::{AttemptOutcome, EventNode, Invocation, InvocationOutcome, TraceReport};

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
        .filter(|a| a.outcome.did_not_finish())
        .count();
    let mut line = format!("{:<13} {}", inv.consumer, inv.outcome);
    if let InvocationOutcome::Attempt(AttemptOutcome::Logged(logged)) = &inv.outcome
        && !logged.is_known()
    {
        line.push_str(" (an outcome this ecomm does not know)");
    }
    if let Some(a) = last {
        let _ = write!(line, "  {}", time(Some(a.at)));
        if let Some(ms) = a.duration_ms {
            let _ = write!(line, " · {ms} ms");
        }
    }
    if inv.attempts.len() > 1 {
        let _ = write!(line, " · {} attempts", inv.attempts.len());
    }
    if failed > 0 && !inv.outcome.is_failure() {
        let _ = write!(line, " · recovered after {failed} failure(s)");
    }
    line
}

/// A line of the tree: `lead` before the text, `cont` before its wrapped continuation.
fn line(lead: &str, cont: &str, text: String, tone: Tone) -> TreeLine {
    TreeLine {
        lead: lead.to_owned(),
        cont: cont.to_owned(),
        text,
        tone,
        command: false,
    }
}

/// The colour of an invocation's line.
fn tone_of(inv: &Invocation) -> Tone {
    if inv.outcome.is_failure() || inv.stuck.is_some() {
        Tone::Bad
    } else if inv.outcome.is_success() {
        Tone::Good
    } else {
        Tone::Warn
    }
}

/// The lines under `event`; `ages` says "stuck for 2h 5m" rather than "stuck since <time>"
/// (which does not change between two polls of `--follow`).
fn lines_of(event: &EventNode, prefix: &str, ages: bool, out: &mut Vec<TreeLine>) {
    let children = event.invocations.len() + usize::from(!event.missing.is_empty());
    for (i, inv) in event.invocations.iter().enumerate() {
        let last = i + 1 == children;
        let (branch, cont) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        let inner = format!("{prefix}{cont}");
        let detail = format!("{inner}   ");
        out.push(line(
            &format!("{prefix}{branch}"),
            &format!("{inner}  "),
            invocation_line(inv),
            tone_of(inv),
        ));
        delivery_lines(inv, &detail, out);
        // Lambda does not tell a function its attempt number on AWS: number them in order.
        for (position, a) in inv.attempts.iter().enumerate() {
            if !a.outcome.did_not_finish() {
                continue;
            }
            let why = if a.outcome == AttemptOutcome::Unfinished {
                "no outcome logged (timed out or crashed)"
            } else {
                a.error.as_deref().unwrap_or("failed")
            };
            out.push(line(
                &detail,
                &format!("{detail}  "),
                format!(
                    "attempt {} at {}: {why}",
                    a.attempt
                        .unwrap_or_else(|| u32::try_from(position + 1).unwrap_or(u32::MAX)),
                    time(Some(a.at)),
                ),
                Tone::Warn,
            ));
        }
        if let Some(stuck) = &inv.stuck {
            let how_long = if ages {
                format!("for {}", stuck.sent_at.map_or_else(|| "?".to_owned(), age))
            } else {
                format!("since {}", time(stuck.sent_at))
            };
            out.push(line(
                &detail,
                &format!("{detail}  "),
                format!(
                    "STUCK in {} {how_long}: {} {}",
                    stuck.queue,
                    stuck.error_code.as_deref().unwrap_or("-"),
                    stuck.error_message.as_deref().unwrap_or("")
                )
                .trim_end()
                .to_owned(),
                Tone::Bad,
            ));
            out.push(TreeLine {
                command: true,
                ..line(
                    &detail,
                    &detail,
                    format!("replay: {}", stuck.redrive),
                    Tone::Plain,
                )
            });
        }
        for child in &inv.emitted {
            out.push(line(
                &format!("{inner}└▶ "),
                &format!("{inner}   "),
                format!(
                    "{} {}  {}",
                    child.detail_type,
                    short(&child.event_id),
                    time(child.at)
                ),
                Tone::Plain,
            ));
            lines_of(child, &format!("{inner}   "), ages, out);
        }
    }
    if !event.missing.is_empty() {
        out.push(line(
            &format!("{prefix}└─ "),
            &format!("{prefix}     "),
            format!(
                "MISSING: no invocation of {} (their rule matches {})",
                event.missing.join(", "),
                event.detail_type
            ),
            Tone::Bad,
        ));
    }
}

/// Delivery attempts shown one by one, at most: the rest are counted.
const DELIVERY_LINES: usize = 6;

/// What the bus logged of a delivery that did not go right the first time: a summary, then
/// each failed attempt with its time and error.
fn delivery_lines(inv: &Invocation, detail: &str, out: &mut Vec<TreeLine>) {
    let Some(delivery) = inv.delivery.as_ref().filter(|d| d.troubled()) else {
        return;
    };
    out.push(line(
        detail,
        &format!("{detail}  "),
        format!("bus: {}", delivery.summary()),
        Tone::Warn,
    ));
    let failed: Vec<_> = delivery
        .attempts
        .iter()
        .filter(|a| a.result != AttemptResult::Delivered)
        .collect();
    for a in failed.iter().take(DELIVERY_LINES) {
        out.push(line(
            detail,
            &format!("{detail}  "),
            format!(
                "delivery {} at {}: {}",
                a.attempt.map_or_else(|| "?".to_owned(), |n| n.to_string()),
                time(Some(a.at)),
                a.error.as_deref().unwrap_or("failed")
            ),
            Tone::Warn,
        ));
    }
    if failed.len() > DELIVERY_LINES {
        out.push(line(
            detail,
            detail,
            format!("… {} more failed deliveries", failed.len() - DELIVERY_LINES),
            Tone::Warn,
        ));
    }
}

/// The tree, line by line, with the ages of stuck messages.
pub(super) fn tree(trace: &TraceReport) -> Vec<TreeLine> {
    tree_lines(trace, true)
}

fn tree_lines(trace: &TraceReport, ages: bool) -> Vec<TreeLine> {
    let mut out = Vec::new();
    for event in &trace.events {
        let publisher = event
            .published_by
            .as_deref()
            .map(|p| format!("  published by {p}"))
            .unwrap_or_default();
        out.push(line(
            "",
            "  ",
            format!(
                "{} {}  {}{publisher}",
                event.detail_type,
                short(&event.event_id),
                time(event.at)
            ),
            Tone::Plain,
        ));
        if !event.matched_rules.is_empty() {
            out.push(line(
                "  ",
                "    ",
                format!("matched: {}", event.matched_rules.join(", ")),
                Tone::Plain,
            ));
        }
        lines_of(event, "", ages, &mut out);
    }
    out
}

/// Text from a DLQ message, made safe for Mermaid (`;` ends a statement, `#` starts an entity).
fn note_text(text: &str) -> String {
    text.replace([';', '#'], " ")
}

/// One arrow (with its note) of the sequence diagram, placed in time.
struct Step {
    at: Option<DateTime<Utc>>,
    text: String,
}

fn walk(event: &EventNode, publisher: &str, steps: &mut Vec<Step>) {
    steps.push(Step {
        at: event.at,
        text: format!(
            "    {publisher}->>bus: {} ({})\n",
            event.detail_type,
            short(&event.event_id)
        ),
    });
    for inv in &event.invocations {
        let arrow = if inv.outcome.is_failure() {
            "-x"
        } else {
            "->>"
        };
        let mut text = format!("    bus{arrow}{}: {}\n", inv.consumer, event.detail_type);
        if let Some(stuck) = &inv.stuck {
            let _ = writeln!(
                text,
                "    Note over {}: {} — in {}",
                inv.consumer,
                note_text(stuck.error_code.as_deref().unwrap_or("failed")),
                stuck.queue
            );
        } else if !inv.outcome.is_success() {
            let _ = writeln!(text, "    Note over {}: {}", inv.consumer, inv.outcome);
        }
        if let Some(delivery) = inv.delivery.as_ref().filter(|d| d.troubled()) {
            let _ = writeln!(
                text,
                "    Note over bus,{}: {}",
                inv.consumer,
                note_text(&delivery.summary())
            );
        }
        let delivered = inv
            .attempts
            .first()
            .map(|a| a.at)
            .or_else(|| inv.stuck.as_ref().and_then(|s| s.sent_at));
        steps.push(Step {
            at: delivered.max(event.at),
            text,
        });
        for child in &inv.emitted {
            walk(child, &inv.consumer, steps);
        }
    }
    for missing in &event.missing {
        steps.push(Step {
            at: event.at,
            text: format!("    Note over bus,{missing}: no {missing} invocation\n"),
        });
    }
}

fn participants<'a>(event: &'a EventNode, publisher: &'a str, out: &mut Vec<&'a str>) {
    let mut add = |name: &'a str| {
        if !out.contains(&name) {
            out.push(name);
        }
    };
    add(publisher);
    add("bus");
    for inv in &event.invocations {
        add(&inv.consumer);
    }
    for missing in &event.missing {
        add(missing);
    }
    for inv in &event.invocations {
        for child in &inv.emitted {
            participants(child, &inv.consumer, out);
        }
    }
}

/// A Mermaid sequence diagram of the chain: every participant declared, publishers first, in
/// the order they appear.
pub(super) fn mermaid(trace: &TraceReport) -> String {
    let mut names = Vec::new();
    for event in &trace.events {
        participants(event, publisher_of(event), &mut names);
    }
    let mut out = String::from("sequenceDiagram\n    autonumber\n");
    for name in names {
        if name == "bus" {
            out.push_str("    participant bus as event bus\n");
        } else {
            let _ = writeln!(out, "    participant {name}");
        }
    }
    // A sequence diagram reads top to bottom in time: the steps of every branch, interleaved.
    let mut steps = Vec::new();
    for event in &trace.events {
        walk(event, publisher_of(event), &mut steps);
    }
    steps.sort_by_key(|s| s.at);
    for step in steps {
        out.push_str(&step.text);
    }
    out
}

/// Who published a root event; an event no log line claims (put on the bus by hand, or by a
/// producer whose logs are gone) is drawn from `producer`.
fn publisher_of(event: &EventNode) -> &str {
    event.published_by.as_deref().unwrap_or("producer")
}

/// `correlation corr-…, order ord-…`: what the trace is of.
pub(super) fn heading(trace: &TraceReport) -> String {
    let list = |ids: &[String]| {
        if ids.is_empty() {
            "-".to_owned()
        } else {
            ids.join(", ")
        }
    };
    format!(
        "correlation {}, order {}",
        list(&trace.correlation_ids),
        list(&trace.order_ids)
    )
}

/// Print a trace.
pub(super) fn print(printer: &Printer, banner: &str, trace: &TraceReport) {
    match printer.format() {
        OutputFormat::Json | OutputFormat::Ndjson => printer.json(trace),
        OutputFormat::Mermaid => super::out(mermaid(trace).trim_end()),
        OutputFormat::Table | OutputFormat::Wide => {
            printer.message(banner);
            printer.message(&format!("trace {}: {}", trace.query, heading(trace)));
            if trace.events.is_empty() {
                printer
                    .message("nothing found in the logs or DLQs for this window (try --since 7d)");
            }
            printer.tree(&tree(trace));
            for problem in &trace.problems {
                printer.message(&format!("warning: {problem}"));
            }
            for note in &trace.notes {
                printer.message(&format!("note: {note}"));
            }
            if trace.partial {
                printer.message("warning: some results may be missing (see above)");
            }
        }
    }
}

/// Print the lines not shown yet (`--follow`).
pub(super) fn follow(
    printer: &Printer,
    banner: &str,
    trace: &TraceReport,
    shown: &mut BTreeSet<String>,
) {
    // Keyed like a line, so that it is printed once even while the tree is still empty.
    if printer.is_human() && shown.insert("\0banner".to_owned()) {
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
    let warnings = trace
        .problems
        .iter()
        .map(|p| line("", "  ", format!("warning: {p}"), Tone::Warn));
    // How it follows (Live Tail or polling) is said once, and again when it changes.
    let notes = trace
        .notes
        .iter()
        .map(|n| line("", "  ", format!("note: {n}"), Tone::Plain));
    for line in notes.chain(tree_lines(trace, false)).chain(warnings) {
        if shown.insert(line.whole()) {
            printer.tree(std::slice::from_ref(&line));
        }
    }
}
