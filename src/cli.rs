//! The command line, as clap types only.

use clap::Parser;

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  failure you can act on (credentials, missing queue, ...)
  2  usage error
  3  partial success (e.g. some messages were not redriven)

Examples:
  ecomm demo                          run the whole system locally with injected faults
  ecomm dlq ls                        every consumer's DLQ at a glance
  ecomm redrive --target inventory    replay exactly the failed deliveries to inventory
  ecomm trace ord-123                 an order's event chain across logs and DLQs";

/// On-call CLI for the ecomm event-driven order system: DLQs, redrive, trace.
#[derive(Debug, Parser)]
#[command(name = "ecomm", version, about, after_help = AFTER_HELP, arg_required_else_help = true)]
pub struct Cli {}
