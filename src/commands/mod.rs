//! One module per command; each returns data and leaves printing to `render`.

pub mod demo;
pub mod local;
