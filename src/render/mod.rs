//! Everything the CLI prints: tables and text for people on stdout, JSON for scripts, progress
//! and errors on stderr. No other module prints. [`report`] renders a command's answer;
//! [`Terminal`] is the person at the terminal, as commands see them (`crate::interaction`).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "this module is where printing happens"
)]

mod cells;
mod demo;
mod dlq;
mod fit;
mod pii;
mod redrive;
mod trace;
pub(crate) mod ui;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::IsTerminal as _;
use std::time::Duration;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Color, ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::cli::{Cli, Global, OutputFormat};
use crate::interaction::{Confirmation, Interaction, Progress};
use crate::report::Report;
use crate::report::trace::TraceReport;
use fit::{Cell, Column, Tone, TreeLine};

/// Print a command's answer; `banner` says where it comes from.
pub(crate) fn report(printer: &Printer, banner: &str, report: &Report) -> anyhow::Result<()> {
    match report {
        Report::DlqList(list) => dlq::ls(printer, banner, list),
        Report::Show(shown) => dlq::show(printer, banner, shown),
        Report::Export(exported) => dlq::export(printer, banner, exported),
        Report::Purge(purged) => dlq::purged(printer, banner, purged),
        Report::Redrive(redriven) => redrive::print(printer, banner, redriven),
        Report::Trace(traced) => trace::print(printer, banner, traced),
        Report::Followed => {}
        Report::Interactive(session) => {
            if session.unreleased > 0 {
                printer.message(&format!(
                    "warning: {} message(s) could not be made visible again; they reappear within {} s",
                    session.unreleased, session.visibility_timeout
                ));
            }
        }
        Report::Demo(summary) => demo::print(printer, banner, summary),
        Report::Reset(reset) => {
            if printer.is_human() {
                printer.message(&format!("reset: deleted {}", reset.deleted.display()));
            } else {
                printer.json(reset);
            }
        }
        Report::Completions(shell) => {
            use clap::CommandFactory as _;
            clap_complete::generate(*shell, &mut Cli::command(), "ecomm", &mut std::io::stdout());
        }
        Report::Man => {
            use clap::CommandFactory as _;
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
        }
    }
    Ok(())
}

/// An error, with its causes, on stderr: the same in every output format.
pub(crate) fn error(error: &anyhow::Error) {
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

/// An error already worded, on stderr.
fn error_text(error: &str) {
    eprintln!("error: {error}");
}

/// The line that ends an interrupted command: which messages are back, and how to finish.
fn interrupted(unfinished: &str) -> String {
    format!(
        "interrupted: every message {unfinished} is back in the DLQ; run the same command again to finish"
    )
}

/// Write a line to stdout. A closed pipe (`ecomm ... | head`) ends the process quietly: the
/// reader has all it wants, and every command has released its messages before printing.
fn out(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{text}").and_then(|()| stdout.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Prints answers in the chosen format.
#[derive(Debug, Clone)]
pub(crate) struct Printer {
    format: OutputFormat,
    quiet: bool,
    color: bool,
    progress: bool,
    /// What human output must fit in; `None`: no limit.
    width: Option<usize>,
}

/// The width human output must fit: `COLUMNS` when set, else the terminal's when stdout is
/// one; a pipe has no limit.
fn output_width() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
    {
        return Some(columns);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    crossterm::terminal::size()
        .ok()
        .map(|(columns, _)| usize::from(columns))
        .filter(|&c| c > 0)
}

impl Printer {
    /// From the global flags and the terminal.
    pub(crate) fn new(global: &Global) -> Self {
        let color = !global.no_color
            // no-color.org: set and not empty.
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stdout().is_terminal();
        let human = matches!(global.output, OutputFormat::Table | OutputFormat::Wide);
        let progress = !global.quiet && human && std::io::stderr().is_terminal();
        let width = if global.output == OutputFormat::Table {
            output_width()
        } else {
            None
        };
        Self {
            format: global.output,
            quiet: global.quiet,
            color,
            progress,
            width,
        }
    }

    /// The output format.
    fn format(&self) -> OutputFormat {
        self.format
    }

    /// Whether human output is wanted (`table` or `wide`: only the width differs).
    fn is_human(&self) -> bool {
        matches!(self.format, OutputFormat::Table | OutputFormat::Wide)
    }

    /// A value in its colour, when colour is on.
    fn paint(&self, text: &str, tone: Tone) -> String {
        use crossterm::style::Stylize as _;
        if !self.color {
            return text.to_owned();
        }
        match tone {
            Tone::Plain => text.to_owned(),
            Tone::Good => text.green().to_string(),
            Tone::Warn => text.yellow().to_string(),
            Tone::Bad => text.red().to_string(),
        }
    }

    /// The lines of a tree, each wrapped under its own branch to fit the width.
    fn tree(&self, lines: &[TreeLine]) {
        for line in lines {
            for (lead, text) in line.fitted(self.width) {
                out(&format!("{lead}{}", self.paint(&text, line.tone)));
            }
        }
    }

    /// A line of human output (nothing in JSON modes).
    fn message(&self, text: &str) {
        if self.is_human() {
            out(text);
        }
    }

    /// A hint for people, dropped with `--quiet` and in JSON modes.
    fn hint(&self, text: &str) {
        if self.is_human() && !self.quiet {
            out(text);
        }
    }

    /// One JSON document (`--output json`) or one line (`--output ndjson`).
    fn json<T: Serialize>(&self, value: &T) {
        let text = match self.format {
            OutputFormat::Json => serde_json::to_string_pretty(value),
            _ => serde_json::to_string(value),
        };
        out(&text.expect("answers always serialize"));
    }

    /// A table with a header row, fitted to the width: columns that do not fit are dropped,
    /// least important first, and a hint says which.
    fn table(&self, columns: &[Column], rows: Vec<Vec<Cell>>) {
        let fitted = fit::table(columns, rows, self.width);
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        if self.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        table.set_header(fitted.headers);
        for row in fitted.rows {
            table.add_row(row.into_iter().map(|cell| {
                let text = comfy_table::Cell::new(cell.text);
                match cell.tone {
                    Tone::Plain => text,
                    Tone::Good => text.fg(Color::Green),
                    Tone::Warn => text.fg(Color::Yellow),
                    Tone::Bad => text.fg(Color::Red),
                }
            }));
        }
        out(&table.to_string());
        if !fitted.dropped.is_empty() {
            self.hint(&format!(
                "(not shown, to fit: {}; --output wide shows them)",
                fitted.dropped.join(", ")
            ));
        }
    }

    /// A progress bar on stderr with rate and ETA, hidden when it would get in the way.
    fn progress_bar(&self, total: u64, message: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {bar:30} {pos}/{len} {per_sec} eta {eta} {msg}",
            )
            .expect("a valid template"),
        );
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    /// A spinner on stderr, hidden when it would get in the way.
    fn spinner_bar(&self, message: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("a valid template"),
        );
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }
}

impl Progress for ProgressBar {
    fn advance(&self, n: u64) {
        self.inc(n);
    }

    fn status(&self, text: String) {
        self.set_message(text);
    }

    fn finish(&self) {
        self.finish_and_clear();
    }
}

/// The person at the terminal: asks on stderr, shows progress on stderr, prints the updates of
/// a followed trace as they come.
#[derive(Debug)]
pub(crate) struct Terminal<'a> {
    printer: &'a Printer,
    banner: String,
    /// The lines (or JSON documents) of `trace --follow` already printed.
    shown: RefCell<BTreeSet<String>>,
}

impl<'a> Terminal<'a> {
    /// For answers that come from `banner`.
    pub(crate) fn new(printer: &'a Printer, banner: String) -> Self {
        Self {
            printer,
            banner,
            shown: RefCell::default(),
        }
    }
}

impl Interaction for Terminal<'_> {
    fn confirm(&self, question: &str) -> Confirmation {
        if !std::io::stdin().is_terminal() {
            return Confirmation::NoTerminal;
        }
        eprint!("{question} [y/N] ");
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).is_err() {
            return Confirmation::NoTerminal;
        }
        if matches!(answer.trim(), "y" | "Y" | "yes" | "YES") {
            Confirmation::Yes
        } else {
            Confirmation::No
        }
    }

    fn progress(&self, total: u64, message: &str) -> Box<dyn Progress> {
        Box::new(self.printer.progress_bar(total, message))
    }

    fn spinner(&self, message: &str) -> Box<dyn Progress> {
        Box::new(self.printer.spinner_bar(message))
    }

    fn trace_update(&self, trace: &TraceReport) {
        trace::follow(
            self.printer,
            &self.banner,
            trace,
            &mut self.shown.borrow_mut(),
        );
    }
}
