//! A loopback proxy in front of moto that makes the weather AWS makes at scale, on a fixed
//! schedule so that a test sees every kind of fault.
//!
//! On the redrive's hot path (`ReceiveMessage`, `DeleteMessageBatch`,
//! `ChangeMessageVisibilityBatch`, `PutEvents`, and `SendMessageBatch` to a queue target),
//! counting those requests:
//! - every `throttle`-th is refused with `ThrottlingException` (nothing happens);
//! - every `fail_after`-th is sent on, and then answered with a 500 `InternalFailure`
//!   (it happened, and the client cannot know);
//! - every `hang_after`-th is sent on, and then never answered: the connection stays open
//!   and silent (it happened, and only a read timeout tells the client);
//! - every `fail_entry`-th batch call has its first entry failed in a 200 answer: that
//!   entry is not sent on, and comes back `ThrottlingException` / `InternalFailure`
//!   (`PutEvents`) or `InternalError` with `SenderFault: false` (SQS batches); with
//!   `permanent_entries`, only `SendMessageBatch` entries fail, with `SenderFault: true`
//!   (what no retry fixes).
//!
//! Every other request goes to moto unchanged. The proxy counts what it did.

use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use super::recorder::{forward, loopback_listener, plain, spawn_server};

/// How often each fault strikes: every Nth hot-path request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FaultMix {
    /// Refuse with `ThrottlingException`.
    pub(crate) throttle: u64,
    /// Send on, then answer 500.
    pub(crate) fail_after: u64,
    /// Send on, then never answer.
    pub(crate) hang_after: u64,
    /// Fail the first entry of a batch call in a 200 answer.
    pub(crate) fail_entry: u64,
    /// Fail `SendMessageBatch` entries only, and for good (`SenderFault: true`).
    pub(crate) permanent_entries: bool,
}

impl FaultMix {
    /// Every hot-path request refused with `ThrottlingException`; nothing else.
    pub(crate) fn throttle_all() -> Self {
        Self {
            throttle: 1,
            fail_after: u64::MAX,
            hang_after: u64::MAX,
            fail_entry: u64::MAX,
            permanent_entries: false,
        }
    }

    /// The first entry of every `SendMessageBatch`, failed for good; nothing else.
    pub(crate) fn failed_sends() -> Self {
        Self {
            throttle: u64::MAX,
            fail_after: u64::MAX,
            hang_after: u64::MAX,
            fail_entry: 1,
            permanent_entries: true,
        }
    }
}

/// What the proxy did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Injected {
    /// Hot-path requests seen.
    pub(crate) requests: u64,
    /// Refused with `ThrottlingException`.
    pub(crate) throttled: u64,
    /// Answered 500 after taking effect.
    pub(crate) failed_after: u64,
    /// Sent on and never answered.
    pub(crate) hung: u64,
    /// `PutEvents` entries put whose answer was such a 500, or never came: the only
    /// duplicates a client cannot avoid.
    pub(crate) ambiguous_puts: u64,
    /// Entries failed in a 200 answer.
    pub(crate) failed_entries: u64,
}

/// The running proxy.
#[derive(Debug, Clone)]
pub(crate) struct FaultyProxy {
    endpoint: String,
    injected: Arc<Mutex<Injected>>,
}

struct Proxy {
    upstream: String,
    client: reqwest::Client,
    mix: FaultMix,
    injected: Arc<Mutex<Injected>>,
}

/// The operations the proxy faults, by `X-Amz-Target`.
const HOT_PATH: &[&str] = &[
    "AmazonSQS.ReceiveMessage",
    "AmazonSQS.DeleteMessageBatch",
    "AmazonSQS.ChangeMessageVisibilityBatch",
    "AWSEvents.PutEvents",
    "AmazonSQS.SendMessageBatch",
];

impl FaultyProxy {
    /// Listen on a free loopback port, forwarding to `upstream`.
    pub(crate) fn start(upstream: &str, mix: FaultMix) -> Self {
        let (listener, endpoint) = loopback_listener();
        let injected = Arc::new(Mutex::new(Injected::default()));
        let proxy = Arc::new(Proxy {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            mix,
            injected: Arc::clone(&injected),
        });
        spawn_server(listener, move |request| {
            let proxy = Arc::clone(&proxy);
            async move { proxy.handle(request).await }
        });
        Self { endpoint, injected }
    }

    /// The URL to pass as `--endpoint-url`.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// What it did so far.
    pub(crate) fn injected(&self) -> Injected {
        *self.injected.lock().expect("not poisoned")
    }
}

fn aws_error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let mut response = plain(
        status,
        &json!({"__type": code, "message": message}).to_string(),
    );
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        "application/x-amz-json-1.0".parse().expect("a header"),
    );
    headers.insert("x-amzn-errortype", code.parse().expect("a header"));
    headers.insert(
        "x-amzn-requestid",
        "faulty-proxy".parse().expect("a header"),
    );
    response
}

/// Where a request goes on to.
struct Upstream<'a> {
    parts: &'a hyper::http::request::Parts,
    path: &'a str,
}

impl Proxy {
    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("unreadable body: {e}")),
        };
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", hyper::http::uri::PathAndQuery::as_str)
            .to_owned();
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let to = Upstream {
            parts: &parts,
            path: &path,
        };
        if !HOT_PATH.contains(&target.as_str()) {
            return self.send(&to, body).await;
        }
        let n = {
            let mut injected = self.injected.lock().expect("not poisoned");
            injected.requests += 1;
            injected.requests
        };
        if n % self.mix.throttle == 0 {
            self.count(|i| i.throttled += 1);
            return aws_error(
                StatusCode::BAD_REQUEST,
                "ThrottlingException",
                "Rate exceeded",
            );
        }
        if n % self.mix.fail_after == 0 {
            let _ = self.send(&to, body.clone()).await;
            let puts = if target == "AWSEvents.PutEvents" {
                entries(&body).len() as u64
            } else {
                0
            };
            self.count(|i| {
                i.failed_after += 1;
                i.ambiguous_puts += puts;
            });
            return aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "injected after the request took effect",
            );
        }
        if n % self.mix.hang_after == 0 {
            let puts = if target == "AWSEvents.PutEvents" {
                entries(&body).len() as u64
            } else {
                0
            };
            let _ = self.send(&to, body).await;
            self.count(|i| {
                i.hung += 1;
                i.ambiguous_puts += puts;
            });
            return std::future::pending().await;
        }
        let entry_faulted = if self.mix.permanent_entries {
            target == "AmazonSQS.SendMessageBatch"
        } else {
            target != "AmazonSQS.ReceiveMessage"
        };
        if n % self.mix.fail_entry == 0 && entry_faulted {
            return self.fail_first_entry(&target, &body, &to).await;
        }
        self.send(&to, body).await
    }

    async fn send(&self, to: &Upstream<'_>, body: Bytes) -> Response<Full<Bytes>> {
        forward(
            &self.client,
            &self.upstream,
            to.parts.method.clone(),
            to.path,
            &to.parts.headers,
            body,
        )
        .await
    }

    fn count(&self, change: impl FnOnce(&mut Injected)) {
        change(&mut self.injected.lock().expect("not poisoned"));
    }

    /// Send the batch on without its first entry, and answer as if that entry failed.
    async fn fail_first_entry(
        &self,
        target: &str,
        body: &Bytes,
        to: &Upstream<'_>,
    ) -> Response<Full<Bytes>> {
        let mut request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let Some(list) = request["Entries"].as_array_mut().filter(|l| !l.is_empty()) else {
            return self.send(to, body.clone()).await;
        };
        let failed = list.remove(0);
        let rest_empty = list.is_empty();
        self.count(|i| i.failed_entries += 1);
        let mut answer: Value = if rest_empty {
            json!({})
        } else {
            let response = self.send(to, Bytes::from(request.to_string())).await;
            if response.status() != StatusCode::OK {
                return response;
            }
            let bytes = response
                .into_body()
                .collect()
                .await
                .map(http_body_util::Collected::to_bytes)
                .unwrap_or_default();
            serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({}))
        };
        if target == "AWSEvents.PutEvents" {
            // Results are positional: the failed entry's goes first.
            let mut results = answer["Entries"].as_array().cloned().unwrap_or_default();
            let code = if failed["Detail"].as_str().is_some_and(|d| d.len() % 2 == 0) {
                "ThrottlingException"
            } else {
                "InternalFailure"
            };
            results.insert(
                0,
                json!({"ErrorCode": code, "ErrorMessage": "injected entry failure"}),
            );
            let failures = results
                .iter()
                .filter(|r| r.get("ErrorCode").is_some())
                .count();
            answer = json!({"Entries": results, "FailedEntryCount": failures});
        } else {
            let mut failed_list = answer["Failed"].as_array().cloned().unwrap_or_default();
            failed_list.push(if self.mix.permanent_entries {
                json!({
                    "Id": failed["Id"],
                    "SenderFault": true,
                    "Code": "InvalidMessageContents",
                    "Message": "injected entry failure",
                })
            } else {
                json!({
                    "Id": failed["Id"],
                    "SenderFault": false,
                    "Code": "InternalError",
                    "Message": "injected entry failure",
                })
            });
            answer["Failed"] = Value::Array(failed_list);
            if answer.get("Successful").is_none() {
                answer["Successful"] = json!([]);
            }
        }
        let mut response = plain(StatusCode::OK, &answer.to_string());
        response.headers_mut().insert(
            "content-type",
            "application/x-amz-json-1.1".parse().expect("a header"),
        );
        response
    }
}

fn entries(body: &Bytes) -> Vec<Value> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["Entries"].as_array().cloned())
        .unwrap_or_default()
}

/// A loopback proxy in front of moto where one account's role cannot be assumed: STS answers
/// `AssumeRole` of any role in `account` with its `AccessDenied` (moto hands out a session for
/// any role ARN, so it cannot refuse one itself). Every other request goes to moto unchanged.
pub(crate) struct DeniedAccount {
    endpoint: String,
}

impl DeniedAccount {
    /// Listen on a free loopback port, forwarding to `upstream`.
    pub(crate) fn start(upstream: &str, account: &'static str) -> Self {
        let (listener, endpoint) = loopback_listener();
        let upstream = upstream.trim_end_matches('/').to_owned();
        let client = reqwest::Client::new();
        spawn_server(listener, move |request: Request<Incoming>| {
            let (upstream, client) = (upstream.clone(), client.clone());
            async move {
                let (parts, body) = request.into_parts();
                let Ok(body) = body
                    .collect()
                    .await
                    .map(http_body_util::Collected::to_bytes)
                else {
                    return plain(StatusCode::BAD_REQUEST, "unreadable body");
                };
                let form = String::from_utf8_lossy(&body);
                // The query protocol: `Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A<account>…`.
                if form.contains("Action=AssumeRole")
                    && form.contains(&format!("iam%3A%3A{account}%3A"))
                {
                    return sts_access_denied(account);
                }
                let path = parts
                    .uri
                    .path_and_query()
                    .map_or("/", hyper::http::uri::PathAndQuery::as_str);
                forward(
                    &client,
                    &upstream,
                    parts.method.clone(),
                    path,
                    &parts.headers,
                    body,
                )
                .await
            }
        });
        Self { endpoint }
    }

    /// The URL to pass as `--endpoint-url`.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

/// STS's answer to an `AssumeRole` the role's trust policy does not allow.
fn sts_access_denied(account: &str) -> Response<Full<Bytes>> {
    let xml = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
         <Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/oncall is not \
         authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{account}:role/ecomm-oncall\
         </Message></Error><RequestId>denied-account</RequestId></ErrorResponse>"
    );
    let mut response = plain(StatusCode::FORBIDDEN, &xml);
    response
        .headers_mut()
        .insert("content-type", "text/xml".parse().expect("a header"));
    response
}
