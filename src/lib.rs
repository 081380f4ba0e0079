//! The `ecomm` CLI: parses the command line, runs the command, maps the result to an exit code.
//!
//! Exit codes are part of the interface: 0 success, 1 a failure the user can act on, 2 a usage
//! error, 3 partial success.

pub mod backend;
pub mod cli;
pub mod commands;
pub mod filter;
pub mod journal;
pub mod render;
pub mod scan;
pub mod target;

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};

use crate::backend::Backend;
use crate::cli::{Cli, Command, DlqCommand, LocalCommand};
use crate::render::Printer;
use crate::target::Target;

/// How a command ended, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything done.
    Success,
    /// Some of it done (exit code 3).
    Partial,
}

/// A usage error found after parsing (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Run the CLI with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::new(&cli.global);
    match run(cli, &printer) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(3),
        Err(error) => {
            printer.error(&error);
            if error.is::<UsageError>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli, printer: &Printer) -> anyhow::Result<Outcome> {
    match &cli.command {
        Command::Completions { shell } => {
            render::completions(*shell, &mut Cli::command());
            return Ok(Outcome::Success);
        }
        Command::Man => {
            render::man(Cli::command())?;
            return Ok(Outcome::Success);
        }
        _ => {}
    }
    if cli.global.output == cli::OutputFormat::Mermaid && !matches!(cli.command, Command::Trace(_))
    {
        return Err(UsageError("--output mermaid is for `ecomm trace` only".to_owned()).into());
    }
    let target = Target::resolve(&cli.global)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Demo(args) => runtime.block_on(commands::demo::run(&target, &args, printer)),
        Command::Local(LocalCommand::Reset) => commands::local::reset(&target, printer),
        Command::Dlq(command) => runtime.block_on(async {
            let backend = target.connect().await?;
            let backend: &dyn Backend = backend.as_ref();
            match command {
                DlqCommand::Ls => commands::dlq::ls(backend, printer).await,
                DlqCommand::Show(args) => commands::dlq::show(backend, &args, printer).await,
                DlqCommand::Export(args) => commands::dlq::export(backend, &args, printer).await,
                DlqCommand::Purge(args) => commands::dlq::purge(backend, &args, printer).await,
            }
        }),
        Command::Redrive(args) => runtime.block_on(async {
            let backend = target.connect().await?;
            commands::redrive::run(backend.as_ref(), &args, target.journal_path()?, printer).await
        }),
        Command::Trace(args) => runtime.block_on(async {
            let backend = target.connect().await?;
            commands::trace::run(backend.as_ref(), &args, printer).await
        }),
        Command::Completions { .. } | Command::Man => unreachable!("handled above"),
    }
}
