//! What a command may ask of the person running it while it works: a confirmation before a
//! delete, progress on long work, live updates of `trace --follow`. `lib.rs` hands in the
//! terminal's implementation (the renderer's); tests hand in fakes. Commands never print.

use crate::report::trace::TraceReport;

/// The answer to a yes/no question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Confirmation {
    /// Go ahead.
    Yes,
    /// Do not.
    No,
    /// Nobody can answer: stdin is not a terminal.
    NoTerminal,
}

/// Progress of one long piece of work.
pub(crate) trait Progress {
    /// `n` more units done.
    fn advance(&self, n: u64);
    /// What is happening now.
    fn status(&self, text: String);
    /// Done: take the bar away.
    fn finish(&self);
}

/// Progress nobody watches.
pub(crate) struct Unwatched;

impl Progress for Unwatched {
    fn advance(&self, _n: u64) {}
    fn status(&self, _text: String) {}
    fn finish(&self) {}
}

/// The person at the terminal, as commands see them.
pub(crate) trait Interaction {
    /// Ask a yes/no question.
    fn confirm(&self, question: &str) -> Confirmation;
    /// A progress bar over `total` units.
    fn progress(&self, total: u64, message: &str) -> Box<dyn Progress>;
    /// A spinner, for work of unknown size.
    fn spinner(&self, message: &str) -> Box<dyn Progress>;
    /// A new state of a followed trace (`trace --follow`).
    fn trace_update(&self, trace: &TraceReport);
}
