//! Why a message does not fit the contract.

use thiserror::Error;

/// A message that cannot be read as a known event. Each variant is something a caller acts on
/// differently: a poison message of an unknown major version is not a malformed one.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ContractError {
    /// The text is not JSON at all.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an EventBridge event envelope.
    #[error("not an EventBridge event: {0}")]
    NotAnEnvelope(String),
    /// An envelope whose detail-type this contract does not know.
    #[error("unknown detail-type {0:?}")]
    UnknownDetailType(String),
    /// The detail has no `eventVersion`.
    #[error("{detail_type} has no detail.eventVersion")]
    MissingVersion {
        /// The event's detail-type.
        detail_type: String,
    },
    /// `eventVersion` is not of the form `MAJOR.MINOR`.
    #[error("{detail_type} has an unreadable eventVersion {version:?}")]
    BadVersion {
        /// The event's detail-type.
        detail_type: String,
        /// The version as found.
        version: String,
    },
    /// A major version this reader does not know: a poison message, never retried into success.
    #[error("{detail_type} eventVersion {version} is not supported (known majors: {supported:?})")]
    UnsupportedVersion {
        /// The event's detail-type.
        detail_type: String,
        /// The version as found.
        version: String,
        /// The major versions this reader accepts.
        supported: Vec<u32>,
    },
    /// A known version whose fields do not match it.
    #[error("{detail_type} is malformed: {reason}")]
    Malformed {
        /// The event's detail-type.
        detail_type: String,
        /// What serde said.
        reason: String,
    },
}

impl ContractError {
    /// A short, stable code for the error, used in logs and DLQ listings.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotJson(_) => "NotJson",
            Self::NotAnEnvelope(_) => "NotAnEnvelope",
            Self::UnknownDetailType(_) => "UnknownDetailType",
            Self::MissingVersion { .. } => "MissingEventVersion",
            Self::BadVersion { .. } => "BadEventVersion",
            Self::UnsupportedVersion { .. } => "UnsupportedEventVersion",
            Self::Malformed { .. } => "MalformedEvent",
        }
    }
}
