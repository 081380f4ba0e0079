//! One module per command. Each is a library function that does the work and returns its
//! report (`crate::report`); what it needs from the person at the terminal comes through
//! `crate::interaction`. No command prints: `lib.rs` renders the report once.

pub(crate) mod accounts;
pub(crate) mod buslog;
pub(crate) mod demo;
pub(crate) mod dlq;
pub(crate) mod local;
pub(crate) mod redrive;
pub(crate) mod trace;
