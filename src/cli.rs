//! The command line, as clap types only.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  failure you can act on (credentials, missing queue, ...)
  2  usage error
  3  partial success (e.g. some messages were not redriven)

Examples:
  ecomm demo                          run the whole system locally with injected faults
  ecomm demo --orders 1000 --seed 7   a bigger, different run
  ecomm local reset                   start the local stack from scratch";

/// On-call CLI for the ecomm event-driven order system: DLQs, redrive, trace.
#[derive(Debug, Parser)]
#[command(name = "ecomm", version, about, after_help = AFTER_HELP, arg_required_else_help = true)]
pub struct Cli {
    /// Options of every command.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the commands act, and how they answer.
#[derive(Debug, Args)]
pub struct Global {
    /// Where to act: the embedded local stack, or AWS.
    #[arg(long, value_enum, env = "ECOMM_ENV", global = true)]
    pub env: Option<Environment>,
    /// The local stack's state file [default: the user data dir's ecomm/local.sqlite].
    #[arg(long, env = "ECOMM_STATE", global = true, value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// Output format: tables for people, JSON for scripts.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Table, global = true)]
    pub output: OutputFormat,
    /// No progress bars or hints; only the answer.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// No colours (also when NO_COLOR is set or the output is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// Where the commands act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// The embedded local stack (a SQLite state file).
    Local,
    /// AWS, through the standard credential chain.
    Aws,
}

/// How answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Tables and text for people.
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole system on the local stack with realistic orders and injected faults.
    #[command(after_help = "\
Examples:
  ecomm demo
  ecomm demo --orders 500 --seed 7 --faults 'mail-outage=20%..30%,throttle=analytics:3'
  ecomm demo --faults none --extend

Faults (--faults): 'default', 'none', or a comma-separated list of
  mail-outage=START%..END%   the mailer is down during that part of the window
  throttle=TARGET:N          EventBridge cannot deliver N orders to TARGET (THROTTLING)
  no-permissions=TARGET:N    the same with NO_PERMISSIONS (not retried by EventBridge)
  gateway-timeout=N          the payment gateway times out for N refunds, every attempt
  poison=N                   N OrderCreated events of an unknown major version
The default is mail-outage=40%..47%,throttle=analytics:2,gateway-timeout=1,poison=1.
Faults exist only while the demo runs: redriving their messages later succeeds,
except the poison event, which fails again.")]
    Demo(DemoArgs),
    /// Manage the local stack's state.
    #[command(subcommand)]
    Local(LocalCommand),
}

/// `ecomm demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many orders to submit.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub orders: u32,
    /// Seeds every choice and id: the same seed gives the same outcome.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The faults to inject (see below).
    #[arg(long, default_value = "default", value_name = "SPEC")]
    pub faults: String,
    /// Keep the existing state and add to it, instead of starting from scratch.
    #[arg(long)]
    pub extend: bool,
    /// Start of the simulated hour of orders (RFC 3339) [default: an hour ago].
    #[arg(long, value_name = "TIME")]
    pub start: Option<chrono::DateTime<chrono::Utc>>,
}

/// `ecomm local ...`.
#[derive(Debug, Subcommand)]
pub enum LocalCommand {
    /// Delete the local state file: queues, logs, tables, everything.
    Reset,
}
