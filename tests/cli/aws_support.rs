//! What the `--env aws` tests need: the moto endpoint, a bus wired "as Terraform would" (rules,
//! Lambda targets with DLQs and retry policies, on-failure destinations), seeding and reading
//! DLQs with the SDK, the `ecomm` binary pointed at moto, and a recording proxy in front of
//! moto's Lambda API.
//!
//! Why a proxy: with `use_docker: false`, moto's asynchronous `Invoke` answers 202 and records
//! nothing, even for a function that does not exist. The proxy records every `Invoke` (function,
//! invocation type, payload) and answers `ResourceNotFoundException` when the function is not in
//! moto, as Lambda does; every other request goes to moto unchanged.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_eventbridge::types::{DeadLetterConfig, RetryPolicy, Target};
use aws_sdk_lambda::types::{DestinationConfig, FunctionCode, OnFailure, Runtime};
use aws_sdk_sqs::config::Credentials;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName,
};
use ecomm_events::dlq::{FunctionDlqFailure, InvocationRecord, TargetFailure};
use ecomm_events::{AttributeValue, DlqMessage, MessageAttributes};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The variable `scripts/test` sets to the moto server it started.
const ENDPOINT_VAR: &str = "ECOMM_TEST_AWS_ENDPOINT";

/// The moto endpoint. Without it the tests fail: they must never pass by not running.
pub(crate) fn endpoint() -> String {
    match std::env::var(ENDPOINT_VAR) {
        Ok(url) if !url.trim().is_empty() => url.trim_end_matches('/').to_owned(),
        _ => panic!(
            "{ENDPOINT_VAR} is not set. The `--env aws` CLI tests run against moto on loopback: \
             run ./scripts/test --quick -p ecomm --test cli (it installs and starts moto), or \
             start `moto_server -H 127.0.0.1 -p PORT` yourself and set \
             {ENDPOINT_VAR}=http://127.0.0.1:PORT"
        ),
    }
}

/// `127.0.0.1:PORT` of an `http://` endpoint.
fn socket_of(endpoint: &str) -> SocketAddr {
    endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("{endpoint} is not http://IP:PORT: {e}"))
}

/// A name no other test uses, short enough for every AWS name limit.
pub(crate) fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .subsec_nanos();
    format!(
        "{prefix}-{:x}{nanos:x}{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The SDK config of the checks: moto, static test credentials, `us-east-1`.
pub(crate) async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region("us-east-1")
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await
}

// ---------------------------------------------------------------------------------------------
// Plain HTTP on loopback: moto's own API, IAM (no SDK for it in this workspace), the proxy.

/// One HTTP/1.1 request as read from a socket.
#[derive(Debug, Clone)]
struct HttpRequest {
    method: String,
    path: String,
    /// Header names lower-cased, in order.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The request as bytes, asking the server to close the connection after answering (so
    /// that a response is everything up to EOF).
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.path).into_bytes();
        for (name, value) in &self.headers {
            if name != "connection" && name != "content-length" {
                out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
        }
        out.extend_from_slice(
            format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                self.body.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&self.body);
        out
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Read one request; `None` when the client closed the connection without sending one.
fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<HttpRequest>> {
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 8192];
    let head_end = loop {
        if let Some(at) = find(&buf, b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(HttpRequest {
        method,
        path,
        headers,
        body,
    }))
}

/// Send a request to `upstream` and return the raw response (the server closes after it).
fn round_trip(upstream: SocketAddr, request: &HttpRequest) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(upstream)?;
    stream.set_read_timeout(Some(Duration::from_mins(1)))?;
    stream.write_all(&request.to_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    Ok(response)
}

/// Status code and body of a raw response.
fn parse_response(raw: &[u8]) -> (u16, String) {
    let status = String::from_utf8_lossy(raw)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = find(raw, b"\r\n\r\n")
        .map(|at| String::from_utf8_lossy(&raw[at + 4..]).into_owned())
        .unwrap_or_default();
    (status, body)
}

/// A request to moto signed with nothing: moto routes by the credential scope and does not
/// check signatures.
fn moto_request(
    endpoint: &str,
    method: &str,
    path: &str,
    service: &str,
    content_type: &str,
    body: &str,
) -> (u16, String) {
    let upstream = socket_of(endpoint);
    let request = HttpRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        headers: vec![
            ("host".to_owned(), upstream.to_string()),
            ("content-type".to_owned(), content_type.to_owned()),
            (
                "authorization".to_owned(),
                format!(
                    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
                ),
            ),
        ],
        body: body.as_bytes().to_vec(),
    };
    let raw = round_trip(upstream, &request)
        .unwrap_or_else(|e| panic!("moto at {endpoint} does not answer: {e}"));
    parse_response(&raw)
}

/// Make moto's `Invoke` echo its payload instead of needing Docker (a server-wide switch).
pub(crate) fn lambda_without_docker(endpoint: &str) {
    let (status, body) = moto_request(
        endpoint,
        "POST",
        "/moto-api/config",
        "moto",
        "application/json",
        r#"{"lambda":{"use_docker":false}}"#,
    );
    assert!(
        (200..300).contains(&status),
        "moto-api/config: {status} {body}"
    );
}

/// An execution role for the test functions (moto's CreateFunction wants one that exists).
pub(crate) fn execution_role(endpoint: &str) -> String {
    static ROLE: OnceLock<String> = OnceLock::new();
    ROLE.get_or_init(|| {
        let name = unique("ecomm-cli-test");
        let trust = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        let (status, body) = moto_request(
            endpoint,
            "POST",
            "/",
            "iam",
            "application/x-www-form-urlencoded",
            &format!(
                "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={trust}"
            ),
        );
        assert_eq!(status, 200, "iam:CreateRole: {body}");
        let start = body.find("<Arn>").expect("CreateRole returns the role's ARN") + 5;
        let end = body[start..].find("</Arn>").expect("a closed <Arn>") + start;
        body[start..end].to_owned()
    })
    .clone()
}

/// The smallest valid zip archive (empty): what `CreateFunction` gets as code.
pub(crate) const EMPTY_ZIP: [u8; 22] = [
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// Create a test function (custom runtime, empty code) and return its ARN.
pub(crate) async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    role: &str,
) -> String {
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .role(role)
        .handler("bootstrap")
        .code(
            FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(EMPTY_ZIP))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "create function {name}: {}",
                aws_sdk_lambda::error::DisplayErrorContext(e)
            )
        })
        .function_arn
        .expect("a function ARN")
}

// ---------------------------------------------------------------------------------------------
// The recording Lambda proxy.

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
}

impl LambdaRecorder {
    /// Listen on a free loopback port, forwarding to moto.
    pub(crate) fn start(upstream: &str) -> Self {
        let upstream = socket_of(upstream);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().expect("a bound address"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&log);
        // The listener lives as long as the test process: its thread ends with it.
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let log = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ = proxy_one(client, upstream, &log);
                });
            }
        });
        Self { endpoint, log }
    }

    /// The URL to pass as `--endpoint-url`.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Every invoke seen so far.
    pub(crate) fn invocations(&self) -> Vec<Invocation> {
        self.log.lock().expect("the log is not poisoned").clone()
    }

    /// The accepted invokes of `function`.
    pub(crate) fn delivered_to(&self, function: &str) -> Vec<Invocation> {
        self.invocations()
            .into_iter()
            .filter(|i| i.accepted && i.function == function)
            .collect()
    }
}

/// `/2015-03-31/functions/{name}/invocations` → `name`.
fn invoked_function(request: &HttpRequest) -> Option<String> {
    let rest = request.path.strip_prefix("/2015-03-31/functions/")?;
    let (name, tail) = rest.split_once('/')?;
    (request.method == "POST" && tail.starts_with("invocations")).then(|| name.replace("%3A", ":"))
}

fn proxy_one(
    mut client: TcpStream,
    upstream: SocketAddr,
    log: &Mutex<Vec<Invocation>>,
) -> std::io::Result<()> {
    let Some(request) = read_request(&mut client)? else {
        return Ok(());
    };
    if let Some(function) = invoked_function(&request) {
        let lookup = HttpRequest {
            method: "GET".to_owned(),
            path: format!("/2015-03-31/functions/{function}"),
            body: Vec::new(),
            ..request.clone()
        };
        let (status, _) = parse_response(&round_trip(upstream, &lookup)?);
        let accepted = status == 200;
        log.lock()
            .expect("the log is not poisoned")
            .push(Invocation {
                function: function.clone(),
                asynchronous: request.header("x-amz-invocation-type") == Some("Event"),
                payload: serde_json::from_slice(&request.body).unwrap_or(Value::Null),
                accepted,
            });
        if !accepted {
            let body = json!({"Type": "User", "message": format!("Function not found: arn:aws:lambda:us-east-1:123456789012:function:{function}")}).to_string();
            let response = format!(
                "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\nx-amzn-errortype: ResourceNotFoundException\r\nx-amzn-requestid: proxy\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            return client.write_all(response.as_bytes());
        }
    }
    let response = round_trip(upstream, &request)?;
    client.write_all(&response)
}

// ---------------------------------------------------------------------------------------------
// A bus with its consumers, as Terraform would create them.

/// How a consumer's failures reach a DLQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wiring {
    /// Target `DeadLetterConfig` and the function's on-failure destination, one queue.
    Both,
    /// Only the target `DeadLetterConfig`.
    DeliveryOnly,
    /// No DLQ at all.
    Unwired,
}

/// An SQS queue by every name.
#[derive(Debug, Clone)]
pub(crate) struct Queue {
    /// Its name.
    pub(crate) name: String,
    /// Its URL.
    pub(crate) url: String,
    /// Its ARN.
    pub(crate) arn: String,
}

/// One deployed consumer.
#[derive(Debug, Clone)]
pub(crate) struct Deployed {
    /// The function's name.
    pub(crate) function: String,
    /// The function's ARN.
    pub(crate) function_arn: String,
    /// The rule's ARN.
    pub(crate) rule_arn: String,
    /// The DLQ, unless unwired.
    pub(crate) dlq: Option<Queue>,
}

/// A message as read back with the SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    /// The message id.
    pub(crate) message_id: String,
    /// The body.
    pub(crate) body: String,
    /// The attributes, converted like the CLI converts them.
    pub(crate) attributes: MessageAttributes,
}

/// A bus and its consumers in moto, the SDK clients to check them, and a private HOME for the
/// CLI (its redrive journal lands there).
pub(crate) struct Stack {
    /// moto.
    pub(crate) endpoint: String,
    /// The bus's name.
    pub(crate) bus: String,
    /// Checks on queues.
    pub(crate) sqs: aws_sdk_sqs::Client,
    /// Checks on the bus.
    pub(crate) events: aws_sdk_eventbridge::Client,
    /// Checks on functions.
    pub(crate) lambda: aws_sdk_lambda::Client,
    /// The consumers by target id.
    pub(crate) consumers: BTreeMap<String, Deployed>,
    prefix: String,
    home: tempfile::TempDir,
}

impl Stack {
    /// A fresh bus with these consumers (target id, wiring), their rules matching the ecomm
    /// events.
    pub(crate) async fn deploy(consumers: &[(&str, Wiring)]) -> Self {
        let pattern = json!({"source": ["ecomm.orders", "ecomm.inventory", "ecomm.refunds"]});
        Self::deploy_with(consumers, &pattern).await
    }

    /// The same, with consumer rules that match none of the events the tests put on the bus:
    /// moto's `PutEvents` fails as a whole (HTTP 500, "NotImplementedError: Expr not defined
    /// for Rule") as soon as a matching rule has a Lambda target, so `--via bus` tests let a
    /// tap (an SQS target, which moto does deliver to) stand in for the consumers.
    pub(crate) async fn deploy_unrouted(consumers: &[(&str, Wiring)]) -> Self {
        let pattern = json!({"source": ["ecomm.never-put-by-these-tests"]});
        Self::deploy_with(consumers, &pattern).await
    }

    async fn deploy_with(consumers: &[(&str, Wiring)], pattern: &Value) -> Self {
        let endpoint = endpoint();
        lambda_without_docker(&endpoint);
        let role = execution_role(&endpoint);
        let config = sdk_config(&endpoint).await;
        let prefix = unique("ecomm");
        let mut stack = Self {
            bus: prefix.clone(),
            sqs: aws_sdk_sqs::Client::new(&config),
            events: aws_sdk_eventbridge::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            consumers: BTreeMap::new(),
            endpoint,
            prefix,
            home: tempfile::tempdir().expect("a temporary HOME"),
        };
        stack
            .events
            .create_event_bus()
            .name(&stack.bus)
            .send()
            .await
            .expect("create the bus");
        for (target, wiring) in consumers {
            let deployed = stack.consumer(target, *wiring, &role, pattern).await;
            stack.consumers.insert((*target).to_owned(), deployed);
        }
        stack
    }

    async fn consumer(
        &self,
        target: &str,
        wiring: Wiring,
        role: &str,
        pattern: &Value,
    ) -> Deployed {
        let function = format!("{}-{target}", self.prefix);
        let function_arn = create_function(&self.lambda, &function, role).await;
        let rule_arn = self
            .events
            .put_rule()
            .name(&function)
            .event_bus_name(&self.bus)
            .event_pattern(pattern.to_string())
            .send()
            .await
            .expect("put the rule")
            .rule_arn
            .expect("a rule ARN");
        self.lambda
            .add_permission()
            .function_name(&function)
            .statement_id("eventbridge")
            .action("lambda:InvokeFunction")
            .principal("events.amazonaws.com")
            .source_arn(&rule_arn)
            .send()
            .await
            .expect("allow EventBridge to invoke the function");
        let dlq = match wiring {
            Wiring::Unwired => None,
            Wiring::Both | Wiring::DeliveryOnly => Some(
                self.queue(&format!("{function}-dlq"), Some(&rule_arn))
                    .await,
            ),
        };
        let mut target_builder = Target::builder()
            .id(target)
            .arn(&function_arn)
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_retry_attempts(4)
                    .maximum_event_age_in_seconds(3600)
                    .build(),
            );
        if let Some(queue) = &dlq {
            target_builder = target_builder
                .dead_letter_config(DeadLetterConfig::builder().arn(&queue.arn).build());
        }
        self.events
            .put_targets()
            .rule(&function)
            .event_bus_name(&self.bus)
            .targets(target_builder.build().expect("a complete target"))
            .send()
            .await
            .expect("put the target");
        if let (Wiring::Both, Some(queue)) = (wiring, &dlq) {
            self.lambda
                .put_function_event_invoke_config()
                .function_name(&function)
                .maximum_retry_attempts(2)
                .maximum_event_age_in_seconds(3600)
                .destination_config(
                    DestinationConfig::builder()
                        .on_failure(OnFailure::builder().destination(&queue.arn).build())
                        .build(),
                )
                .send()
                .await
                .expect("put the on-failure destination");
        }
        Deployed {
            function,
            function_arn,
            rule_arn,
            dlq,
        }
    }

    /// A standard queue; with `rule_arn`, the DLQ policy EventBridge needs.
    async fn queue(&self, name: &str, rule_arn: Option<&str>) -> Queue {
        let url = self
            .sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("create the queue")
            .queue_url
            .expect("a queue URL");
        let arn = self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("read the queue ARN")
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("a queue ARN");
        if let Some(rule_arn) = rule_arn {
            let policy = json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]});
            self.sqs
                .set_queue_attributes()
                .queue_url(&url)
                .attributes(QueueAttributeName::Policy, policy.to_string())
                .send()
                .await
                .expect("set the DLQ policy");
        }
        Queue {
            name: name.to_owned(),
            url,
            arn,
        }
    }

    /// A rule matching every ecomm event, routed to a queue of its own (target id `tap`): what
    /// `--via bus` puts on the bus shows up there.
    pub(crate) async fn tap(&self) -> Queue {
        let name = format!("{}-tap", self.prefix);
        let queue = self.queue(&name, None).await;
        self.events
            .put_rule()
            .name(&name)
            .event_bus_name(&self.bus)
            .event_pattern(json!({"source": [{"prefix": "ecomm."}]}).to_string())
            .send()
            .await
            .expect("put the tap rule");
        self.events
            .put_targets()
            .rule(&name)
            .event_bus_name(&self.bus)
            .targets(
                Target::builder()
                    .id("tap")
                    .arn(&queue.arn)
                    .build()
                    .expect("a complete target"),
            )
            .send()
            .await
            .expect("put the tap target");
        queue
    }

    /// A consumer.
    pub(crate) fn consumer_of(&self, target: &str) -> &Deployed {
        self.consumers
            .get(target)
            .unwrap_or_else(|| panic!("no consumer {target} deployed"))
    }

    /// A consumer's DLQ.
    pub(crate) fn dlq(&self, target: &str) -> &Queue {
        self.consumer_of(target)
            .dlq
            .as_ref()
            .unwrap_or_else(|| panic!("{target} has no DLQ"))
    }

    /// Send a DLQ message as EventBridge or Lambda would; returns its message id.
    pub(crate) async fn seed(&self, target: &str, message: &DlqMessage) -> String {
        let queue = self.dlq(target);
        let attributes: std::collections::HashMap<String, MessageAttributeValue> = message
            .attributes
            .iter()
            .map(|(name, value)| (name.clone(), sdk_attribute(value)))
            .collect();
        self.sqs
            .send_message()
            .queue_url(&queue.url)
            .message_body(&message.body)
            .set_message_attributes((!attributes.is_empty()).then_some(attributes))
            .send()
            .await
            .expect("send the DLQ message")
            .message_id
            .expect("a message id")
    }

    /// Every message of a queue, read with the SDK and made visible again.
    pub(crate) async fn stored(&self, queue: &Queue) -> Vec<Stored> {
        let (stored, receipts) = self.receive_all(queue).await;
        for batch in receipts.chunks(10) {
            let entries = batch
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(r)
                        .visibility_timeout(0)
                        .build()
                        .expect("a complete entry")
                })
                .collect();
            let response = self
                .sqs
                .change_message_visibility_batch()
                .queue_url(&queue.url)
                .set_entries(Some(entries))
                .send()
                .await
                .expect("release the messages read");
            assert!(response.failed.is_empty(), "{:?}", response.failed);
        }
        stored
    }

    /// The message ids of a queue (read and released).
    pub(crate) async fn ids(&self, queue: &Queue) -> BTreeSet<String> {
        self.stored(queue)
            .await
            .into_iter()
            .map(|m| m.message_id)
            .collect()
    }

    /// Every message of a queue, consumed (read and deleted): for the tap queue.
    pub(crate) async fn take_all(&self, queue: &Queue) -> Vec<Stored> {
        let (stored, receipts) = self.receive_all(queue).await;
        for receipt in receipts {
            self.sqs
                .delete_message()
                .queue_url(&queue.url)
                .receipt_handle(receipt)
                .send()
                .await
                .expect("delete a tap message");
        }
        stored
    }

    /// The events routed to the tap so far (consumed).
    pub(crate) async fn tapped(&self, tap: &Queue) -> Vec<Value> {
        self.take_all(tap)
            .await
            .iter()
            .map(|m| serde_json::from_str(&m.body).expect("the bus delivers events as JSON"))
            .collect()
    }

    async fn receive_all(&self, queue: &Queue) -> (Vec<Stored>, Vec<String>) {
        let mut stored = Vec::new();
        let mut receipts = Vec::new();
        loop {
            let response = self
                .sqs
                .receive_message()
                .queue_url(&queue.url)
                .max_number_of_messages(10)
                .visibility_timeout(30)
                .wait_time_seconds(1)
                .message_attribute_names("All")
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive");
            let messages = response.messages.unwrap_or_default();
            if messages.is_empty() {
                return (stored, receipts);
            }
            for message in messages {
                let id = message.message_id.clone().expect("a message id");
                receipts.push(message.receipt_handle.clone().expect("a receipt handle"));
                if stored.iter().any(|s: &Stored| s.message_id == id) {
                    continue;
                }
                stored.push(Stored {
                    message_id: id,
                    body: message.body.clone().unwrap_or_default(),
                    attributes: cli_attributes(message.message_attributes.as_ref()),
                });
            }
        }
    }

    /// `(ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible)`.
    pub(crate) async fn depth(&self, queue: &Queue) -> (u64, u64) {
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&queue.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("read the queue's counters")
            .attributes
            .unwrap_or_default();
        let number = |name| {
            attributes
                .get(&name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(u64::MAX)
        };
        (
            number(QueueAttributeName::ApproximateNumberOfMessages),
            number(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// Wait (up to 3 s) until the queue shows `visible` messages and none in flight: moto
    /// counts a message released with visibility 0 as visible only once its clock has moved
    /// past the release's millisecond.
    pub(crate) async fn assert_all_visible(&self, queue: &Queue, visible: u64) {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let depth = self.depth(queue).await;
            if depth == (visible, 0) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: (visible, in flight) = {depth:?}, expected ({visible}, 0)",
                queue.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `ecomm --env aws --endpoint-url <moto> --region us-east-1 --bus <bus>`, credentials on
    /// the command, HOME private to this stack.
    pub(crate) fn ecomm(&self) -> assert_cmd::Command {
        self.ecomm_at(&self.endpoint)
    }

    /// The same, through another endpoint (the recording proxy, a closed port).
    pub(crate) fn ecomm_at(&self, endpoint: &str) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.process_at(endpoint))
    }

    /// The same, naming another bus.
    pub(crate) fn ecomm_on_bus(&self, bus: &str) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.command(&self.endpoint, bus))
    }

    /// The same as a plain process, to be spawned and killed.
    pub(crate) fn process_at(&self, endpoint: &str) -> std::process::Command {
        self.command(endpoint, &self.bus)
    }

    /// Like `support::ecomm`, no ECOMM_* or AWS_* variable of the test's environment leaks in.
    fn command(&self, endpoint: &str, bus: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ecomm"));
        for (key, _) in std::env::vars() {
            if key.starts_with("ECOMM_") || key.starts_with("AWS_") {
                cmd.env_remove(key);
            }
        }
        let home = self.home.path();
        cmd.env("NO_COLOR", "1")
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .args(["--env", "aws", "--endpoint-url", endpoint])
            .args(["--region", "us-east-1", "--bus", bus]);
        cmd
    }

    /// The redrive journal of this stack's runs.
    pub(crate) fn journal(&self) -> std::path::PathBuf {
        self.home
            .path()
            .join("data")
            .join("ecomm")
            .join("redrive-journal.ndjson")
    }

    /// Run `ecomm ... --output json ARGS`, expect exit `code`, parse stdout.
    pub(crate) fn json<T: DeserializeOwned>(&self, args: &[&str], code: i32) -> T {
        json_of(self.ecomm(), args, code)
    }

    /// The same through another endpoint.
    pub(crate) fn json_at<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        args: &[&str],
        code: i32,
    ) -> T {
        json_of(self.ecomm_at(endpoint), args, code)
    }
}

fn json_of<T: DeserializeOwned>(mut cmd: assert_cmd::Command, args: &[&str], code: i32) -> T {
    let output = cmd
        .args(["--output", "json"])
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .clone();
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "ecomm {args:?}: stdout is not the expected JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn sdk_attribute(value: &AttributeValue) -> MessageAttributeValue {
    let builder = MessageAttributeValue::builder().data_type(value.data_type());
    match value {
        AttributeValue::String { value } | AttributeValue::Number { value } => {
            builder.string_value(value)
        }
        AttributeValue::Binary { base64 } => {
            builder.binary_value(aws_sdk_sqs::primitives::Blob::new(decode_base64(base64)))
        }
    }
    .build()
    .expect("a complete attribute")
}

/// Standard base64 (what `AttributeValue::Binary` holds) back to bytes.
fn decode_base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = Vec::new();
    let (mut bits, mut count) = (0_u32, 0_u32);
    for c in text.bytes().filter(|c| *c != b'=') {
        let value = ALPHABET
            .iter()
            .position(|a| *a == c)
            .unwrap_or_else(|| panic!("{text:?} is not base64"));
        bits = (bits << 6) | u32::try_from(value).expect("< 64");
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push(u8::try_from((bits >> count) & 0xff).expect("masked to a byte"));
        }
    }
    bytes
}

fn cli_attributes(
    raw: Option<&std::collections::HashMap<String, MessageAttributeValue>>,
) -> MessageAttributes {
    raw.into_iter()
        .flatten()
        .map(|(name, value)| {
            let converted = match value.data_type() {
                "Number" => AttributeValue::number(value.string_value().unwrap_or_default()),
                "Binary" => AttributeValue::binary(
                    value
                        .binary_value()
                        .map(aws_sdk_sqs::primitives::Blob::as_ref)
                        .unwrap_or_default(),
                ),
                _ => AttributeValue::string(value.string_value().unwrap_or_default()),
            };
            (name.clone(), converted)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// DLQ messages in the three formats, built from the contract's fixtures.

fn fixture(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lambdas/events/tests/fixtures")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A DLQ message fixture, verbatim.
pub(crate) fn dlq_fixture(name: &str) -> DlqMessage {
    serde_json::from_str(&fixture(&format!("dlq/{name}.json"))).expect("a DLQ message fixture")
}

fn event_fixture(name: &str) -> Value {
    serde_json::from_str(&fixture(&format!("events/{name}.json"))).expect("an event fixture")
}

/// A fresh id for an event.
fn fresh_ids(event: &mut Value) {
    event["id"] = json!(unique("env"));
    if event["detail"]["metadata"].get("eventId").is_some() {
        event["detail"]["metadata"]["eventId"] = json!(unique("evt"));
    }
}

/// An `OrderCreated` v2 event of this order and correlation id.
pub(crate) fn order_created(order: &str, correlation: &str) -> Value {
    let mut event = event_fixture("order_created_v2");
    event["detail"]["order"]["orderId"] = json!(order);
    event["detail"]["metadata"]["correlationId"] = json!(correlation);
    fresh_ids(&mut event);
    event
}

/// A legacy `OrderCreated` v1 event (no `metadata.eventId`).
pub(crate) fn order_created_v1(order: &str, correlation: &str) -> Value {
    let mut event = event_fixture("order_created_v1");
    event["detail"]["order"]["orderId"] = json!(order);
    event["detail"]["metadata"]["correlationId"] = json!(correlation);
    fresh_ids(&mut event);
    event
}

/// An `InventoryOutOfStock` event of this order and correlation id.
pub(crate) fn out_of_stock(order: &str, correlation: &str) -> Value {
    let mut event = event_fixture("inventory_out_of_stock");
    event["detail"]["orderId"] = json!(order);
    event["detail"]["metadata"]["correlationId"] = json!(correlation);
    fresh_ids(&mut event);
    event
}

/// `detail.metadata.eventId`.
pub(crate) fn event_id(event: &Value) -> String {
    event["detail"]["metadata"]["eventId"]
        .as_str()
        .expect("an event with metadata.eventId")
        .to_owned()
}

impl Stack {
    /// What EventBridge writes to the target DLQ of `target` after giving up with `code`;
    /// `RETRY_ATTEMPTS` as a `Number` attribute, as it sometimes is.
    pub(crate) fn eventbridge_target(&self, target: &str, event: &Value, code: &str) -> DlqMessage {
        let consumer = self.consumer_of(target);
        let mut message = DlqMessage::eventbridge_target(
            event,
            &TargetFailure {
                rule_arn: Some(consumer.rule_arn.clone()),
                target_arn: Some(consumer.function_arn.clone()),
                error_code: Some(code.to_owned()),
                error_message: Some(format!("{code} while delivering to {target}")),
                exhausted_retry_condition: Some("MaximumRetryAttempts".to_owned()),
                retry_attempts: Some(4),
            },
        );
        message
            .attributes
            .insert("RETRY_ATTEMPTS".to_owned(), AttributeValue::number("4"));
        message
    }

    /// What Lambda writes to the on-failure destination of `target`'s function.
    pub(crate) fn lambda_destination(
        &self,
        target: &str,
        event: &Value,
        error_type: &str,
    ) -> DlqMessage {
        DlqMessage::lambda_destination(&InvocationRecord::failed(
            "2026-01-22T11:48:17.652Z".to_owned(),
            unique("req"),
            format!("{}:$LATEST", self.consumer_of(target).function_arn),
            "RetriesExhausted",
            3,
            event.clone(),
            error_type,
            "the function failed on every attempt",
        ))
    }
}

impl Stack {
    /// Seed each event in one of the three formats, in turn (target DLQ, on-failure
    /// destination, function DLQ); returns the message ids, in order.
    pub(crate) async fn seed_in_turn(&self, target: &str, events: &[Value]) -> Vec<String> {
        let mut ids = Vec::new();
        for (i, event) in events.iter().enumerate() {
            let message = match i % 3 {
                0 => self.eventbridge_target(target, event, "THROTTLING"),
                1 => self.lambda_destination(target, event, "Timeout"),
                _ => lambda_dlq(event, "Unhandled"),
            };
            ids.push(self.seed(target, &message).await);
        }
        ids
    }

    /// The redrive journal's message lines: outcome → message ids.
    pub(crate) fn journal_outcomes(&self) -> BTreeMap<String, BTreeSet<String>> {
        let journal = std::fs::read_to_string(self.journal()).expect("the redrive journal");
        let mut outcomes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for line in journal.lines() {
            let line: Value = serde_json::from_str(line).expect("the journal is NDJSON");
            if let (Some(outcome), Some(id)) =
                (line["outcome"].as_str(), line["messageId"].as_str())
            {
                outcomes
                    .entry(outcome.to_owned())
                    .or_default()
                    .insert(id.to_owned());
            }
        }
        outcomes
    }
}

/// What a legacy function DLQ receives.
pub(crate) fn lambda_dlq(event: &Value, error_code: &str) -> DlqMessage {
    DlqMessage::lambda_dlq(
        event,
        &FunctionDlqFailure {
            request_id: Some(unique("req")),
            error_code: Some(error_code.to_owned()),
            error_message: Some("unsupported eventVersion".to_owned()),
        },
    )
}

/// A hand-written body, not JSON.
pub(crate) fn garbage(text: &str) -> DlqMessage {
    DlqMessage {
        body: text.to_owned(),
        attributes: MessageAttributes::from([(
            "note".to_owned(),
            AttributeValue::binary(b"\x00\x01 not text"),
        )]),
    }
}

/// JSON in no known DLQ format.
pub(crate) fn unknown_json() -> DlqMessage {
    DlqMessage {
        body: json!({"note": "replay me by hand", "ticket": "OPS-42"}).to_string(),
        attributes: MessageAttributes::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// The JSON answers of the CLI, as scripts read them.

/// A row of `dlq ls`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LsRow {
    /// Target id.
    pub(crate) target: String,
    /// Function name.
    pub(crate) function: Option<String>,
    /// DLQ name.
    pub(crate) dlq: Option<String>,
    /// Visible messages.
    pub(crate) visible: Option<u64>,
    /// Messages in flight.
    pub(crate) in_flight: Option<u64>,
    /// Target DLQ wired to the DLQ read.
    pub(crate) delivery_failures_wired: bool,
    /// On-failure destination wired to the DLQ read.
    pub(crate) function_errors_wired: bool,
    /// Wiring problems.
    pub(crate) findings: Vec<String>,
}

/// `dlq show --output json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Shown {
    /// The queue.
    pub(crate) queue: String,
    /// The matching messages.
    pub(crate) messages: Vec<ShownMessage>,
    /// How many distinct messages were read.
    pub(crate) seen: usize,
    /// Whether the whole queue was seen.
    pub(crate) complete: bool,
}

impl Shown {
    /// The ids shown.
    pub(crate) fn ids(&self) -> BTreeSet<String> {
        self.messages.iter().map(|m| m.message_id.clone()).collect()
    }
}

/// One message of `dlq show`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ShownMessage {
    /// SQS message id.
    pub(crate) message_id: String,
    /// Format.
    pub(crate) kind: String,
    /// Error code.
    pub(crate) error_code: Option<String>,
    /// Error message.
    pub(crate) error_message: Option<String>,
    /// Attempts.
    pub(crate) attempts: Option<u32>,
    /// Why retrying stopped.
    pub(crate) exhausted_condition: Option<String>,
    /// What failed.
    pub(crate) failed_arn: Option<String>,
    /// Event detail-type.
    pub(crate) detail_type: Option<String>,
    /// Event version.
    pub(crate) event_version: Option<String>,
    /// Event id.
    pub(crate) event_id: Option<String>,
    /// Order.
    pub(crate) order_id: Option<String>,
    /// Correlation id.
    pub(crate) correlation_id: Option<String>,
}

/// The redrive report.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RedriveReport {
    /// Delivered and deleted.
    pub(crate) redriven: u64,
    /// Delivered, delete failed.
    pub(crate) delivered_not_deleted: u64,
    /// Delivery failed.
    pub(crate) failed: u64,
    /// Not replayable.
    pub(crate) skipped: u64,
    /// Not selected.
    pub(crate) not_selected: u64,
    /// The failures and skips.
    pub(crate) not_redriven: Vec<NotRedriven>,
    /// Dry run: what would be redriven.
    pub(crate) would_redrive: Vec<ShownMessage>,
}

impl RedriveReport {
    /// The ids not redriven, with their reasons.
    pub(crate) fn reasons(&self) -> BTreeMap<String, String> {
        self.not_redriven
            .iter()
            .map(|n| (n.message_id.clone(), n.reason.clone()))
            .collect()
    }
}

/// A message not redriven.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NotRedriven {
    /// SQS message id.
    pub(crate) message_id: String,
    /// Why.
    pub(crate) reason: String,
}

/// The purge report.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Purged {
    /// Deleted.
    pub(crate) deleted: u64,
    /// Matched but not deleted.
    pub(crate) failed: u64,
    /// The archive.
    pub(crate) archive: Option<String>,
    /// PurgeQueue was used.
    pub(crate) full_purge: bool,
}

/// A line of an archive or export.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Archived {
    /// SQS message id.
    pub(crate) message_id: String,
    /// The body, verbatim.
    pub(crate) body: String,
    /// The attributes, verbatim.
    pub(crate) attributes: MessageAttributes,
}
