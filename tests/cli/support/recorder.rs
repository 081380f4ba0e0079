//! A recording proxy in front of moto's Lambda API.
//!
//! With `use_docker: false`, moto's asynchronous `Invoke` answers 202 and records nothing, even
//! for a function that does not exist. The proxy records every `Invoke` (function, invocation
//! type, payload) and answers `ResourceNotFoundException` when the function is not in moto, as
//! Lambda does; every other request goes to moto unchanged. It is a hyper server on its own
//! thread and runtime (the tests block on the CLI processes they run), forwarding with reqwest.

use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// One `Invoke` the proxy saw.
#[derive(Debug, Clone)]
pub(crate) struct Invocation {
    /// The function name (as in the request path).
    pub(crate) function: String,
    /// Whether it was asynchronous (`X-Amz-Invocation-Type: Event`).
    pub(crate) asynchronous: bool,
    /// The payload, parsed.
    pub(crate) payload: Value,
    /// Whether the function existed, i.e. the invoke was accepted.
    pub(crate) accepted: bool,
}

/// A loopback proxy in front of moto that records Lambda `Invoke` calls.
#[derive(Debug, Clone)]
pub(crate) struct LambdaRecorder {
    endpoint: String,
    log: Arc<Mutex<Vec<Invocation>>>,
    refused: Arc<Mutex<Vec<String>>>,
}

struct Proxy {
    upstream: String,
    client: reqwest::Client,
    log: Arc<Mutex<Vec<Invocation>>>,
    refused: Arc<Mutex<Vec<String>>>,
}

impl LambdaRecorder {
    /// Listen on a free loopback port, forwarding to moto at `upstream`.
    pub(crate) fn start(upstream: &str) -> Self {
        let (listener, endpoint) = loopback_listener();
        let log = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(Vec::new()));
        let proxy = Arc::new(Proxy {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            log: Arc::clone(&log),
            refused: Arc::clone(&refused),
        });
        spawn_server(listener, move |request| {
            let proxy = Arc::clone(&proxy);
            async move { proxy.handle(request).await }
        });
        Self {
            endpoint,
            log,
            refused,
        }
    }

    /// From now on, refuse every invoke whose payload contains `text` as Lambda refuses a
    /// payload above its limit (413 `RequestTooLargeException`, not retried).
    pub(crate) fn refuse_containing(&self, text: &str) {
        self.refused
            .lock()
            .expect("not poisoned")
            .push(text.to_owned());
    }

    /// Accept every invoke again.
    pub(crate) fn refuse_none(&self) {
        self.refused.lock().expect("not poisoned").clear();
    }

    /// The URL to pass as `--endpoint-url`.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Every invoke seen so far.
    pub(crate) fn invocations(&self) -> Vec<Invocation> {
        self.log.lock().expect("the log is not poisoned").clone()
    }

    /// The `metadata.eventId` of each accepted invoke of `function`, in order.
    pub(crate) fn event_ids_delivered_to(&self, function: &str) -> Vec<String> {
        self.delivered_to(function)
            .iter()
            .map(|i| super::event_id(&i.payload))
            .collect()
    }

    /// Run `redrive` until it has delivered `n` events to `function`, then `kill -9` it; the
    /// events it delivered.
    pub(crate) async fn kill_after(
        &self,
        mut redrive: std::process::Command,
        function: &str,
        n: usize,
    ) -> std::collections::BTreeSet<String> {
        let mut run = redrive
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the redrive");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.event_ids_delivered_to(function).len() < n {
            assert!(
                std::time::Instant::now() < deadline,
                "the redrive delivered nothing in 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        run.kill().expect("SIGKILL the redrive");
        run.wait().expect("reap the redrive");
        // What was in flight at the kill has landed.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        self.event_ids_delivered_to(function).into_iter().collect()
    }

    /// Every event of `seeded` was delivered to `function`, once, or twice when the killed
    /// run had delivered it (`first_run`): the re-run delivers again what it had not deleted.
    pub(crate) fn assert_each_delivered_once_but_for(
        &self,
        function: &str,
        seeded: &std::collections::BTreeSet<String>,
        first_run: &std::collections::BTreeSet<String>,
    ) {
        let delivered = self.event_ids_delivered_to(function);
        let mut counts: std::collections::BTreeMap<&String, usize> =
            std::collections::BTreeMap::new();
        for id in &delivered {
            *counts.entry(id).or_default() += 1;
        }
        assert_eq!(
            counts
                .keys()
                .copied()
                .cloned()
                .collect::<std::collections::BTreeSet<_>>(),
            *seeded,
            "every event delivered"
        );
        for (id, count) in counts {
            assert!(
                count == 1 || (count == 2 && first_run.contains(id)),
                "{id} delivered {count} times: duplicates only for what the killed run delivered"
            );
        }
    }

    /// The accepted invokes of `function`.
    pub(crate) fn delivered_to(&self, function: &str) -> Vec<Invocation> {
        self.invocations()
            .into_iter()
            .filter(|i| i.accepted && i.function == function)
            .collect()
    }
}

/// A free loopback port to serve on, and its URL.
pub(crate) fn loopback_listener() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listener");
    let endpoint = format!("http://{}", listener.local_addr().expect("a bound address"));
    (listener, endpoint)
}

/// Serve `handle` on `listener`, on a thread and runtime of its own (the tests block on the
/// CLI processes they run). The server lives as long as the test process.
pub(crate) fn spawn_server<H, F>(listener: std::net::TcpListener, handle: H)
where
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let handle = Arc::new(handle);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the proxy");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let handle = Arc::clone(&handle);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let answer = handle(request);
                        async move { Ok::<_, Infallible>(answer.await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
}

/// `/2015-03-31/functions/{name}/invocations` → `name`.
fn invoked_function(method: &hyper::Method, path: &str) -> Option<String> {
    let rest = path.strip_prefix("/2015-03-31/functions/")?;
    let (name, tail) = rest.split_once('/')?;
    (method == hyper::Method::POST && tail.starts_with("invocations"))
        .then(|| name.replace("%3A", ":"))
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
        if let Some(function) = invoked_function(&parts.method, &path) {
            // Lambda answers 404 for a function that does not exist; ask moto whether it does.
            let lookup = forward(
                &self.client,
                &self.upstream,
                reqwest::Method::GET,
                &format!("/2015-03-31/functions/{function}"),
                &parts.headers,
                Bytes::new(),
            )
            .await;
            let exists = lookup.status() == StatusCode::OK;
            let text = String::from_utf8_lossy(&body);
            let refused = exists
                && self
                    .refused
                    .lock()
                    .expect("not poisoned")
                    .iter()
                    .any(|t| text.contains(t.as_str()));
            let accepted = exists && !refused;
            self.log
                .lock()
                .expect("the log is not poisoned")
                .push(Invocation {
                    function: function.clone(),
                    asynchronous: parts
                        .headers
                        .get("x-amz-invocation-type")
                        .is_some_and(|v| v == "Event"),
                    payload: serde_json::from_slice(&body).unwrap_or(Value::Null),
                    accepted,
                });
            if refused {
                return lambda_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestTooLargeException",
                    "Request must be smaller than 1048576 bytes for the InvokeFunction operation",
                );
            }
            if !accepted {
                return lambda_error(
                    StatusCode::NOT_FOUND,
                    "ResourceNotFoundException",
                    &format!(
                        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:{function}"
                    ),
                );
            }
        }
        forward(
            &self.client,
            &self.upstream,
            parts.method,
            &path,
            &parts.headers,
            body,
        )
        .await
    }
}

/// A Lambda API error as Lambda answers it.
fn lambda_error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let mut response = plain(
        status,
        &json!({"Type": "User", "message": message}).to_string(),
    );
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        "application/json".parse().expect("a header"),
    );
    headers.insert("x-amzn-errortype", code.parse().expect("a header"));
    headers.insert("x-amzn-requestid", "proxy".parse().expect("a header"));
    response
}

/// Send a request on to `upstream`, and its answer back.
pub(crate) async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    method: reqwest::Method,
    path: &str,
    headers: &hyper::HeaderMap,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let mut outgoing = client
        .request(method, format!("{upstream}{path}"))
        .body(body);
    for (name, value) in headers {
        if name != hyper::header::HOST && name != hyper::header::CONTENT_LENGTH {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        Err(e) => return plain(StatusCode::BAD_GATEWAY, &format!("moto: {e}")),
    };
    let status = answer.status();
    let answer_headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap_or_default();
    let mut response = Response::new(Full::new(bytes));
    *response.status_mut() = status;
    for (name, value) in &answer_headers {
        if name != hyper::header::CONTENT_LENGTH && name != hyper::header::TRANSFER_ENCODING {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

/// A response with a plain body.
pub(crate) fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    response
}
