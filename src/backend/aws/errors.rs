//! Turning SDK errors into what the user can act on: one line, the service's code and message,
//! and the class of the code from the one cross-service list (`ecomm_ports::error_codes`).
//! Codes of one service's own API are matched by the SDK's typed errors where they are raised.

use std::collections::HashMap;
use std::fmt;

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use ecomm_ports::error_codes::CodeClass;

use crate::backend::{BackendError, EntryError, EntryOutcome};

/// An error and its causes on one line. The SDK's `DisplayErrorContext` appends a `Debug` dump
/// of the raw response (kilobytes, for an HTML error page): fine for a log, not for a message
/// the user reads or a reason repeated for every message of a redrive report.
pub(super) fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// What went wrong, in one line: the service's code and message when it sent them, else the
/// cause (an endpoint that cannot be reached, an answer that is not the service's).
fn describe<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    if let Some(service) = err.as_service_error()
        && let Some(code) = service.code()
    {
        return match service.message() {
            Some(message) => format!("{code}: {message}"),
            None => code.to_owned(),
        };
    }
    if timed_out(err) {
        return format!(
            "no answer in time ({})\n  fix: check the network (and any proxy); if AWS is only slow to answer, raise --read-timeout (default 60s)",
            one_line(err)
        );
    }
    if unreachable(err) {
        let mut cause: &(dyn std::error::Error + 'static) = err;
        while let Some(next) = cause.source() {
            cause = next;
        }
        return format!(
            "cannot reach AWS: {cause}\n  fix: check the network (and any proxy), or --endpoint-url / AWS_ENDPOINT_URL"
        );
    }
    one_line(err)
}

/// Whether the connection or the answer took longer than its timeout (`--read-timeout`).
fn timed_out<E, R>(err: &SdkError<E, R>) -> bool {
    match err {
        SdkError::DispatchFailure(failure) => failure.is_timeout(),
        SdkError::TimeoutError(_) => true,
        _ => false,
    }
}

/// Whether the request never reached AWS (connection refused, DNS); timeouts are
/// [`timed_out`]'s.
fn unreachable<E, R>(err: &SdkError<E, R>) -> bool {
    matches!(err, SdkError::DispatchFailure(failure) if failure.is_io())
}

/// Map an SDK error to what the user can act on.
pub(super) fn classify<E>(context: &str, err: &SdkError<E, HttpResponse>) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = format!("{context}: {}", describe(err));
    let code = err
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .unwrap_or_default();
    match CodeClass::of(code) {
        CodeClass::AccessDenied => BackendError::AccessDenied(detail),
        CodeClass::Credentials => BackendError::Credentials(detail),
        CodeClass::Throttling => BackendError::Throttled(detail),
        CodeClass::Server => BackendError::Unavailable(detail),
        CodeClass::Other if lost_on_the_way(err) => BackendError::Unavailable(detail),
        CodeClass::Other => BackendError::Other(detail),
    }
}

/// Whether the answer was a 5xx of any code, or never arrived whole: the request may have
/// taken effect or not, and sending it again is safe for every call this CLI makes.
fn lost_on_the_way<E>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::ServiceError(service) => service.raw().status().is_server_error(),
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        _ => false,
    }
}

/// One failed entry of an SQS or SNS batch call (`BatchResultErrorEntry` in both).
#[derive(Debug, Clone, Copy)]
pub(super) struct BatchFailure<'a> {
    /// The entry's id in the request.
    pub(super) id: &'a str,
    /// The error code.
    pub(super) code: &'a str,
    /// The error message.
    pub(super) message: Option<&'a str>,
    /// Whether the caller's request was at fault (`false`: sending again may succeed).
    pub(super) sender_fault: bool,
}

/// One outcome per entry, in request order, from a batch call's `Successful` and `Failed` lists;
/// an entry in neither is a failure, never assumed done. An entry failed with
/// `SenderFault: false` is the service's fault: sending it again may succeed.
pub(super) fn per_entry<'a>(
    len: usize,
    ok: impl Iterator<Item = &'a str>,
    failed: impl Iterator<Item = BatchFailure<'a>>,
) -> Vec<EntryOutcome> {
    let ok: Vec<&str> = ok.collect();
    let failed: HashMap<&str, EntryError> = failed
        .map(|f| {
            (
                f.id,
                EntryError {
                    message: format!("{}: {}", f.code, f.message.unwrap_or_default()),
                    retryable: !f.sender_fault,
                    throttled: CodeClass::of(f.code) == CodeClass::Throttling,
                },
            )
        })
        .collect();
    (0..len)
        .map(|i| {
            let id = i.to_string();
            if let Some(error) = failed.get(id.as_str()) {
                Err(error.clone())
            } else if ok.contains(&id.as_str()) {
                Ok(())
            } else {
                Err(EntryError::unanswered())
            }
        })
        .collect()
}
