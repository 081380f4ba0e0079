//! The functions' log groups: `FilterLogEvents` per group in parallel, or one Logs Insights
//! query across them.

use chrono::DateTime;
use futures::StreamExt as _;

use super::AwsBackend;
use super::errors::classify;
use crate::backend::{BackendError, LogLine, LogRequest, LogSearch};

impl AwsBackend {
    /// The lines of the groups containing the term, in the window.
    pub(super) async fn search(&self, request: &LogRequest<'_>) -> Result<LogSearch, BackendError> {
        if request.insights {
            return insights(&self.logs, request).await;
        }
        // In parallel, but within the account's FilterLogEvents rate.
        let results: Vec<Result<Vec<LogLine>, BackendError>> =
            futures::stream::iter(request.groups.iter())
                .map(|group| filter_group(&self.logs, group, request))
                .buffered(5)
                .collect()
                .await;
        let mut search = LogSearch::default();
        for result in results {
            match result {
                Ok(lines) => search.lines.extend(lines),
                // Throttling and server errors are the caller's to retry: the whole search
                // again, rather than an answer missing a group for a passing reason.
                Err(error) if error.is_transient() => return Err(error),
                Err(problem) => search.problems.push(problem.to_string()),
            }
        }
        search.lines.sort_by_key(|l| l.timestamp);
        Ok(search)
    }
}

/// Lines of one log group containing `term`, every page (a page can be empty while a token
/// remains; the paginator follows it).
async fn filter_group(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    request: &LogRequest<'_>,
) -> Result<Vec<LogLine>, BackendError> {
    let mut pages = logs
        .filter_log_events()
        .log_group_name(group)
        // A quoted plain term: JSON filter patterns are not to be trusted (and ids contain `-`).
        .filter_pattern(format!("\"{}\"", request.term.replace('"', "")))
        .start_time(request.start.timestamp_millis())
        .end_time(request.end.timestamp_millis())
        .into_paginator()
        .send();
    let mut lines = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            if e.as_service_error().is_some_and(aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError::is_resource_not_found_exception) {
                BackendError::Other(format!("log group {group} does not exist"))
            } else {
                classify(&format!("while reading {group}"), &e)
            }
        })?;
        for event in page.events() {
            lines.push(LogLine {
                group: group.to_owned(),
                timestamp: DateTime::from_timestamp_millis(event.timestamp().unwrap_or_default())
                    .unwrap_or_default(),
                message: event.message().unwrap_or_default().to_owned(),
            });
        }
    }
    Ok(lines)
}

/// One Logs Insights query across the groups (up to 50), polled to completion.
async fn insights(
    logs: &aws_sdk_cloudwatchlogs::Client,
    request: &LogRequest<'_>,
) -> Result<LogSearch, BackendError> {
    use aws_sdk_cloudwatchlogs::types::QueryStatus;
    let mut search = LogSearch::default();
    for groups in request.groups.chunks(50) {
        let query = format!(
            "fields @timestamp, @message, @log | filter @message like \"{}\" | sort @timestamp asc | limit 10000",
            request.term.replace('"', "")
        );
        let started = logs
            .start_query()
            .set_log_group_names(Some(groups.to_vec()))
            .start_time(request.start.timestamp())
            .end_time(request.end.timestamp())
            .query_string(query)
            .send()
            .await
            .map_err(|e| classify("while starting a Logs Insights query", &e))?;
        let id = started.query_id().unwrap_or_default().to_owned();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_mins(2);
        loop {
            let results = logs
                .get_query_results()
                .query_id(&id)
                .send()
                .await
                .map_err(|e| classify("while reading a Logs Insights query", &e))?;
            let status = results.status().cloned().unwrap_or(QueryStatus::Running);
            let done = matches!(
                status,
                QueryStatus::Complete
                    | QueryStatus::Failed
                    | QueryStatus::Cancelled
                    | QueryStatus::Timeout
            );
            if done || tokio::time::Instant::now() >= deadline {
                for row in results.results() {
                    let field = |name: &str| {
                        row.iter()
                            .find(|f| f.field() == Some(name))
                            .and_then(|f| f.value())
                            .unwrap_or_default()
                    };
                    // Insights prints `2026-01-22 11:45:00.123`; some emulators print epoch ms.
                    let raw = field("@timestamp");
                    let timestamp =
                        chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.3f")
                            .map(|t| t.and_utc())
                            .ok()
                            .or_else(|| {
                                raw.parse::<i64>()
                                    .ok()
                                    .and_then(DateTime::from_timestamp_millis)
                            })
                            .unwrap_or_default();
                    let group = field("@log")
                        .rsplit(':')
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    search.lines.push(LogLine {
                        group,
                        timestamp,
                        message: field("@message").to_owned(),
                    });
                }
                if status != QueryStatus::Complete {
                    search.partial = true;
                    search.problems.push(format!(
                        "the Logs Insights query ended {status:?}: results may be incomplete"
                    ));
                    if !done {
                        let _ = logs.stop_query().query_id(&id).send().await;
                    }
                }
                if results.results().len() >= 10_000 {
                    search.partial = true;
                    search.problems.push(
                        "Logs Insights returned its 10,000-row maximum: narrow the window"
                            .to_owned(),
                    );
                }
                break;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
    search.lines.sort_by_key(|l| l.timestamp);
    Ok(search)
}

/// Live Tail takes at most this many log groups.
const LIVE_TAIL_GROUPS: usize = 10;

/// A Live Tail session (`StartLiveTail`) over `groups`, by their ARNs, for lines containing
/// `term`.
pub(super) async fn live_tail<'a>(
    logs: &'a aws_sdk_cloudwatchlogs::Client,
    region: &str,
    account: &str,
    groups: &[String],
    term: &str,
) -> Result<Box<dyn crate::backend::LiveTail + 'a>, BackendError> {
    if groups.len() > LIVE_TAIL_GROUPS {
        return Err(BackendError::Other(format!(
            "Live Tail takes at most {LIVE_TAIL_GROUPS} log groups, this trace reads {}",
            groups.len()
        )));
    }
    let arns: Vec<String> = groups
        .iter()
        .map(|g| format!("arn:aws:logs:{region}:{account}:log-group:{g}"))
        .collect();
    let output = logs
        .start_live_tail()
        .set_log_group_identifiers(Some(arns.clone()))
        .log_event_filter_pattern(format!("\"{}\"", term.replace('"', "")))
        .send()
        .await
        .map_err(|e| classify("while starting Live Tail", &e))?;
    // Live Tail names a group by its ARN; the trace by its name.
    let names = arns.into_iter().zip(groups.iter().cloned()).collect();
    Ok(Box::new(Session {
        stream: output.response_stream,
        names,
    }))
}

struct Session {
    stream: aws_sdk_cloudwatchlogs::primitives::event_stream::EventReceiver<
        aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream,
        aws_sdk_cloudwatchlogs::types::error::StartLiveTailResponseStreamError,
    >,
    names: std::collections::BTreeMap<String, String>,
}

#[async_trait::async_trait(?Send)]
impl crate::backend::LiveTail for Session {
    async fn next(&mut self) -> Option<Result<Vec<LogLine>, BackendError>> {
        use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream as Stream;
        loop {
            let update = match self.stream.recv().await {
                Ok(Some(Stream::SessionUpdate(update))) => update,
                Ok(Some(_)) => continue,
                Ok(None) => return None,
                Err(e) => {
                    return Some(Err(BackendError::Other(format!(
                        "the Live Tail session failed: {}",
                        aws_sdk_cloudwatchlogs::error::DisplayErrorContext(e)
                    ))));
                }
            };
            let lines = update
                .session_results()
                .iter()
                .map(|event| {
                    let arn = event.log_group_identifier().unwrap_or_default();
                    LogLine {
                        group: self
                            .names
                            .get(arn)
                            .cloned()
                            .unwrap_or_else(|| arn.to_owned()),
                        timestamp: DateTime::from_timestamp_millis(
                            event.timestamp().unwrap_or_default(),
                        )
                        .unwrap_or_default(),
                        message: event.message().unwrap_or_default().to_owned(),
                    }
                })
                .collect();
            return Some(Ok(lines));
        }
    }
}

/// With `--endpoint-url` (an emulator, a proxy), a call goes to that endpoint as given. The
/// SDK names Live Tail's host with a `stream-` prefix (`stream-logs.<region>.amazonaws.com`),
/// which for a given endpoint names a host that does not exist.
#[derive(Debug)]
pub(super) struct EndpointAsGiven;

impl aws_sdk_cloudwatchlogs::config::Intercept for EndpointAsGiven {
    fn name(&self) -> &'static str {
        "EndpointAsGiven"
    }

    fn modify_before_signing(
        &self,
        context: &mut aws_sdk_cloudwatchlogs::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _components: &aws_sdk_cloudwatchlogs::config::RuntimeComponents,
        _cfg: &mut aws_sdk_cloudwatchlogs::config::ConfigBag,
    ) -> Result<(), aws_sdk_cloudwatchlogs::error::BoxError> {
        let uri = context.request().uri().to_owned();
        if let Some((scheme, rest)) = uri.split_once("://")
            && let Some(host) = rest.strip_prefix("stream-")
        {
            context
                .request_mut()
                .set_uri(format!("{scheme}://{host}"))?;
        }
        Ok(())
    }
}
