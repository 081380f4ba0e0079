//! `ecomm local reset`: delete the local stack's state.

use anyhow::Context as _;

use crate::Outcome;
use crate::render::Printer;
use crate::target::Target;

/// Delete the state file and its WAL companions.
pub fn reset(target: &Target, printer: &Printer) -> anyhow::Result<Outcome> {
    let state = target.local_state("local reset")?;
    ecomm_local::store::remove_state(state)
        .with_context(|| format!("while deleting {}", state.display()))?;
    printer.message(&format!("reset: deleted {}", state.display()));
    Ok(Outcome::Success)
}
