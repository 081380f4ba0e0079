//! The `ecomm` binary run as a user runs it: one test binary, one module per command.

mod aws;
mod aws_support;
mod demo;
mod dlq;
mod help;
mod redrive;
mod support;
mod trace;
mod trace_aws;
