//! The `ecomm` binary run as a user runs it: one test binary, one module per command.

mod demo;
mod help;
mod support;
