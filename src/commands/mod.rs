//! One module per command; each returns data and leaves printing to `render`.

pub mod demo;
pub mod dlq;
pub mod local;
pub mod redrive;
pub mod trace;
