//! The error codes AWS services answer with that mean the same thing on every service we call.
//! One documented list, read by the Lambdas' adapters (retry later, or refused) and by the CLI
//! (what the user can act on). Codes that belong to one service's API (`QueueDoesNotExist`,
//! say) are matched by the SDK's typed errors instead, where they are raised.

/// The caller's credentials are missing, malformed or expired.
pub const CREDENTIALS: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "MissingAuthenticationToken",
];

/// The caller is not allowed to do this (IAM, a resource policy, an SCP).
pub const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
];

/// Too many requests: back off and try again.
pub const THROTTLING: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
];

/// The service failed on its side: try again.
pub const SERVER: &[&str] = &[
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
];

/// What a code means, across services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeClass {
    /// See [`CREDENTIALS`].
    Credentials,
    /// See [`ACCESS_DENIED`].
    AccessDenied,
    /// See [`THROTTLING`].
    Throttling,
    /// See [`SERVER`].
    Server,
    /// A code of one service's own.
    Other,
}

impl CodeClass {
    /// The class of `code`.
    pub fn of(code: &str) -> Self {
        if CREDENTIALS.contains(&code) {
            Self::Credentials
        } else if ACCESS_DENIED.contains(&code) {
            Self::AccessDenied
        } else if THROTTLING.contains(&code) {
            Self::Throttling
        } else if SERVER.contains(&code) {
            Self::Server
        } else {
            Self::Other
        }
    }

    /// Whether a later try may succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Throttling | Self::Server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_has_one_meaning() {
        let lists = [CREDENTIALS, ACCESS_DENIED, THROTTLING, SERVER];
        let mut seen = std::collections::BTreeSet::new();
        for code in lists.iter().flat_map(|l| l.iter()) {
            assert!(seen.insert(*code), "{code} is in two lists");
        }
        assert_eq!(CodeClass::of("ThrottlingException"), CodeClass::Throttling);
        assert!(CodeClass::of("InternalFailure").is_transient());
        assert!(!CodeClass::of("AccessDeniedException").is_transient());
        assert_eq!(CodeClass::of("QueueDoesNotExist"), CodeClass::Other);
    }
}
