//! The `ecomm` CLI: parses the command line, runs the command, maps the result to an exit code.
//!
//! Exit codes are part of the interface: 0 success, 1 a failure the user can act on, 2 a usage
//! error (clap's own), 3 partial success.

pub mod cli;
pub mod commands;
pub mod render;
pub mod target;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command, LocalCommand};
use crate::render::Printer;

/// How a command ended, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything done.
    Success,
    /// Some of it done (exit code 3).
    Partial,
}

/// Run the CLI with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::new(&cli.global);
    match run(cli, &printer) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(3),
        Err(error) => {
            printer.error(&error);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, printer: &Printer) -> anyhow::Result<Outcome> {
    let target = target::Target::resolve(&cli.global)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Demo(args) => runtime.block_on(commands::demo::run(&target, &args, printer)),
        Command::Local(LocalCommand::Reset) => commands::local::reset(&target, printer),
    }
}
