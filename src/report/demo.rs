//! The answers of `demo` and `local reset`.

use std::path::PathBuf;

use ecomm_local::demo::DemoReport;
use serde::{Deserialize, Serialize};

/// What the demo ran, and where the failures ended up.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DemoSummary {
    /// The local stack's own report, as its JSON.
    #[serde(flatten)]
    pub(crate) run: DemoReport,
    /// The field errors of the example rejection, as the client saw them.
    #[serde(skip)]
    pub(crate) rejected_fields: Vec<RejectedField>,
}

/// One field error of a rejected order (the producer's 400 body).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct RejectedField {
    /// JSON path of the field.
    pub(crate) field: String,
    /// Machine code.
    pub(crate) code: String,
    /// For people.
    pub(crate) message: String,
}

/// `local reset`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResetReport {
    /// The state file deleted.
    pub(crate) deleted: PathBuf,
}
