//! The `ecomm` binary run as a user runs it: one test binary, one module per command, and the
//! shared `support` (see its module doc).

mod accounts;
mod aws;
mod buslog;
mod demo;
mod dlq;
mod help;
mod records;
mod redrive;
mod support;
mod targets;
mod tenants;
mod trace;
mod trace_aws;
mod ui;
mod widths;
