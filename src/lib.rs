//! The `ecomm` CLI: parses the command line, runs the command, maps the result to an exit code.

pub mod cli;

use std::process::ExitCode;

use clap::Parser as _;

/// Run the CLI with the process's arguments.
pub fn main() -> ExitCode {
    let _cli = cli::Cli::parse();
    ExitCode::SUCCESS
}
