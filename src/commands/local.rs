//! `ecomm local reset`: delete the local stack's state.

use anyhow::Context as _;

use crate::report::demo::ResetReport;
use crate::target::Target;

/// Delete the state file and its WAL companions.
pub(crate) fn reset(target: &Target) -> anyhow::Result<ResetReport> {
    let state = target.local_state("local reset")?;
    ecomm_local::store::remove_state(state)
        .with_context(|| format!("while deleting {}", state.display()))?;
    Ok(ResetReport {
        deleted: state.clone(),
    })
}
