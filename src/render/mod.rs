//! Everything the CLI prints: tables and text for people on stdout, JSON for scripts, progress
//! and errors on stderr. No other module prints.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "this module is where printing happens"
)]

pub mod demo;
pub mod dlq;
pub mod redrive;
pub mod trace;

use std::io::IsTerminal as _;
use std::time::Duration;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::cli::{Global, OutputFormat};

/// Write a line to stdout. A closed pipe (`ecomm ... | head`) ends the process quietly: the
/// reader has all it wants, and every command has released its messages before printing.
pub fn out(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{text}").and_then(|()| stdout.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Print a shell completion script.
pub fn completions(shell: clap_complete::Shell, command: &mut clap::Command) {
    clap_complete::generate(shell, command, "ecomm", &mut std::io::stdout());
}

/// Print the man page.
pub fn man(command: clap::Command) -> std::io::Result<()> {
    clap_mangen::Man::new(command).render(&mut std::io::stdout())
}

/// Prints answers in the chosen format.
#[derive(Debug, Clone)]
pub struct Printer {
    format: OutputFormat,
    quiet: bool,
    color: bool,
    progress: bool,
}

impl Printer {
    /// From the global flags and the terminal.
    pub fn new(global: &Global) -> Self {
        let color = !global.no_color
            && std::env::var_os("NO_COLOR").is_none()
            && std::io::stdout().is_terminal();
        let progress = !global.quiet
            && global.output == OutputFormat::Table
            && std::io::stderr().is_terminal();
        Self {
            format: global.output,
            quiet: global.quiet,
            color,
            progress,
        }
    }

    /// The output format.
    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Whether human output is wanted.
    pub fn is_human(&self) -> bool {
        self.format == OutputFormat::Table
    }

    /// A line of human output (nothing in JSON modes).
    pub fn message(&self, text: &str) {
        if self.is_human() {
            out(text);
        }
    }

    /// A hint for people, dropped with `--quiet` and in JSON modes.
    pub fn hint(&self, text: &str) {
        if self.is_human() && !self.quiet {
            out(text);
        }
    }

    /// One JSON document (`--output json`) or one line (`--output ndjson`).
    pub fn json<T: Serialize>(&self, value: &T) {
        let text = match self.format {
            OutputFormat::Json => serde_json::to_string_pretty(value),
            _ => serde_json::to_string(value),
        };
        out(&text.expect("answers always serialize"));
    }

    /// A table with a header row.
    pub fn table(&self, header: &[&str], rows: Vec<Vec<String>>) {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        if !self.color {
            table.force_no_tty();
        }
        table.set_header(header.iter().copied());
        for row in rows {
            table.add_row(row);
        }
        out(&table.to_string());
    }

    /// An error, with its causes, on stderr.
    pub fn error(&self, error: &anyhow::Error) {
        eprintln!("error: {error}");
        for cause in error.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
    }

    /// Ask a yes/no question on stderr; `None` when stdin is not a terminal.
    pub fn confirm(&self, question: &str) -> Option<bool> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        eprint!("{question} [y/N] ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer).ok()?;
        Some(matches!(answer.trim(), "y" | "Y" | "yes" | "YES"))
    }

    /// A progress bar on stderr with rate and ETA, hidden when it would get in the way.
    pub fn progress(&self, total: u64, message: &str) -> ProgressBar {
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
    pub fn spinner(&self, message: &str) -> ProgressBar {
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
