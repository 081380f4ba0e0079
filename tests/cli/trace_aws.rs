//! `ecomm --env aws trace` against moto: a bus with Lambda targets and their DLQs, each
//! function's log group seeded with the `LogRecord` lines of several orders among Lambda's own
//! lines and other noise. The trace must return exactly the chain of the order asked for:
//! moto's server-side filtering is a substring match (`ord-1` finds `ord-10`) and its Logs
//! Insights ignores `filter` altogether, so only the client's exact filtering makes it right.

use std::collections::BTreeSet;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_eventbridge::types::{DeadLetterConfig, RetryPolicy, Target};
use aws_sdk_lambda::types::{DestinationConfig, OnFailure};
use aws_sdk_sqs::types::QueueAttributeName;
use chrono::{DateTime, Duration, Utc};
use ecomm_events::dlq::InvocationRecord;
use ecomm_events::{DlqMessage, LogLevel, LogRecord, Outcome};
use serde_json::{Value, json};

use crate::support::{
    Ecomm, Trace, create_function, endpoint, execution_role, lambda_without_docker, sdk_config,
    unique,
};

/// Functions that exist, with an execution role, and `Invoke` without Docker.
async fn lambda_prerequisites(endpoint: &str) -> String {
    lambda_without_docker(endpoint).await;
    execution_role(endpoint).await
}

/// A bus whose consumers are Lambda targets named `<prefix>-<target>` with a target DLQ and
/// the same queue as on-failure destination, as Terraform wires them; and the CloudWatch Logs
/// client that seeds their log groups.
struct System {
    endpoint: String,
    prefix: String,
    events: aws_sdk_eventbridge::Client,
    lambda: aws_sdk_lambda::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    sqs: aws_sdk_sqs::Client,
    home: tempfile::TempDir,
}

impl System {
    async fn deploy(targets: &[&str]) -> Self {
        let endpoint = endpoint();
        let role = lambda_prerequisites(&endpoint).await;
        let config = sdk_config(&endpoint).await;
        let system = Self {
            prefix: unique("ecomm"),
            events: aws_sdk_eventbridge::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            home: tempfile::tempdir().unwrap(),
            endpoint,
        };
        system
            .events
            .create_event_bus()
            .name(&system.prefix)
            .send()
            .await
            .expect("create the bus");
        for target in targets {
            system.consumer(target, &role).await;
        }
        system
    }

    /// Function `<prefix>-<target>`, its rule and target, and its DLQ as both the target's
    /// `DeadLetterConfig` and the function's on-failure destination.
    async fn consumer(&self, target: &str, role: &str) {
        let function = format!("{}-{target}", self.prefix);
        let function_arn = create_function(&self.lambda, &function, role).await;
        self.events
            .put_rule()
            .name(&function)
            .event_bus_name(&self.prefix)
            .event_pattern(json!({"source": ["ecomm.orders"]}).to_string())
            .send()
            .await
            .expect("put the rule");
        let dlq_url = self
            .sqs
            .create_queue()
            .queue_name(format!("{function}-dlq"))
            .send()
            .await
            .expect("create the DLQ")
            .queue_url
            .unwrap();
        let dlq_arn = self
            .sqs
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .unwrap();
        self.events
            .put_targets()
            .rule(&function)
            .event_bus_name(&self.prefix)
            .targets(
                Target::builder()
                    .id(target)
                    .arn(&function_arn)
                    .dead_letter_config(DeadLetterConfig::builder().arn(&dlq_arn).build())
                    .retry_policy(
                        RetryPolicy::builder()
                            .maximum_retry_attempts(8)
                            .maximum_event_age_in_seconds(3600)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("put the target");
        self.lambda
            .put_function_event_invoke_config()
            .function_name(&function)
            .maximum_retry_attempts(2)
            .destination_config(
                DestinationConfig::builder()
                    .on_failure(OnFailure::builder().destination(&dlq_arn).build())
                    .build(),
            )
            .send()
            .await
            .expect("put the on-failure destination");
    }

    /// `/aws/lambda/<prefix>-<service>`.
    fn group(&self, service: &str) -> String {
        format!("/aws/lambda/{}-{service}", self.prefix)
    }

    /// Create the log groups of these services.
    async fn log_groups(&self, services: &[&str]) {
        for service in services {
            self.logs
                .create_log_group()
                .log_group_name(self.group(service))
                .send()
                .await
                .expect("create the log group");
        }
    }

    /// Write lines to one stream of a service's group, as Lambda would.
    async fn write(&self, service: &str, lines: &[(DateTime<Utc>, String)]) {
        let group = self.group(service);
        let stream = format!("2026/11/26/[$LATEST]{}", unique("s"));
        self.logs
            .create_log_stream()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .send()
            .await
            .expect("create the log stream");
        let mut lines = lines.to_vec();
        lines.sort_by_key(|(at, _)| *at);
        for batch in lines.chunks(1000) {
            let events = batch
                .iter()
                .map(|(at, message)| {
                    InputLogEvent::builder()
                        .timestamp(at.timestamp_millis())
                        .message(message)
                        .build()
                        .unwrap()
                })
                .collect();
            self.logs
                .put_log_events()
                .log_group_name(&group)
                .log_stream_name(&stream)
                .set_log_events(Some(events))
                .send()
                .await
                .expect("put the log events");
        }
    }

    /// Put what Lambda's on-failure destination receives into a consumer's DLQ; the message id.
    async fn dead_letter(&self, target: &str, event: &Value, error: (&str, &str)) -> String {
        let function = format!("{}-{target}", self.prefix);
        let record = InvocationRecord::failed(
            Utc::now().to_rfc3339(),
            unique("req"),
            format!("arn:aws:lambda:us-east-1:123456789012:function:{function}:$LATEST"),
            "RetriesExhausted",
            3,
            event.clone(),
            error.0,
            error.1,
        );
        let url = self
            .sqs
            .get_queue_url()
            .queue_name(format!("{function}-dlq"))
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        self.sqs
            .send_message()
            .queue_url(url)
            .message_body(DlqMessage::lambda_destination(&record).body)
            .send()
            .await
            .expect("send to the DLQ")
            .message_id
            .unwrap()
    }

    /// `ecomm --env aws ...` pointed at this bus in moto, with a private HOME.
    fn ecomm(&self) -> Ecomm {
        Ecomm::bare()
            .env("HOME", self.home.path())
            .env("XDG_DATA_HOME", self.home.path().join("data"))
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .args("--env aws --region us-east-1 --endpoint-url")
            .arg(&self.endpoint)
            .args("--bus")
            .arg(&self.prefix)
    }

    /// `trace ID -o json [ARGS]` with the expected exit code.
    fn trace(&self, id: &str, args: &[&str], code: i32) -> Trace {
        self.ecomm()
            .args("trace")
            .arg(id)
            .args("--wait 1")
            .each(args)
            .code(code)
            .json()
    }
}

/// A deterministic UUID-shaped event id.
fn event_id(n: u32) -> String {
    format!("{n:08x}-6960-5a09-a318-{n:012x}")
}

/// Builds the lines of one order's journey, per service, the way the functions print them.
struct Journey {
    correlation: String,
    order: String,
    clock: DateTime<Utc>,
    lines: Vec<(String, DateTime<Utc>, String)>,
}

impl Journey {
    fn new(order: &str, correlation: &str, start: DateTime<Utc>) -> Self {
        Self {
            correlation: correlation.to_owned(),
            order: order.to_owned(),
            clock: start,
            lines: Vec::new(),
        }
    }

    fn tick(&mut self, ms: i64) -> DateTime<Utc> {
        self.clock += Duration::milliseconds(ms);
        self.clock
    }

    fn raw(&mut self, service: &str, line: &str) {
        let at = self.tick(1);
        self.lines.push((service.to_owned(), at, line.to_owned()));
    }

    fn record(&mut self, service: &str, level: LogLevel, message: &str) -> LogRecord {
        let at = self.tick(7);
        let mut record = LogRecord::new(at, level, service, message);
        record.correlation_id = Some(self.correlation.clone());
        record.order_id = Some(self.order.clone());
        record
    }

    fn push(&mut self, record: &LogRecord) {
        self.lines.push((
            record.service.clone(),
            record.timestamp,
            record.to_json_line(),
        ));
    }

    /// The producer accepts the order and publishes `OrderCreated` `event`.
    fn produce(&mut self, event: &str) {
        let request = unique("r");
        self.raw(
            "order-producer",
            &format!("START RequestId: {request} Version: $LATEST"),
        );
        let mut received = self.record("order-producer", LogLevel::Info, "order received");
        received.order_id = None;
        self.push(&received);
        let mut published = self.record("order-producer", LogLevel::Info, "published OrderCreated");
        published.event_id = Some(event.to_owned());
        published.detail_type = Some("OrderCreated".to_owned());
        published.outcome = Some(Outcome::Published);
        self.push(&published);
        let mut accepted = self.record("order-producer", LogLevel::Info, "order accepted");
        accepted.outcome = Some(Outcome::Succeeded);
        accepted.duration_ms = Some(58);
        self.push(&accepted);
        self.raw("order-producer", &format!("END RequestId: {request}"));
        self.raw(
            "order-producer",
            &format!(
                "REPORT RequestId: {request}\tDuration: 61.20 ms\tBilled Duration: 62 ms\tMemory Size: 256 MB\tMax Memory Used: 31 MB"
            ),
        );
    }

    /// One invocation of `service` for `event` (caused by `cause`): its start line, the events
    /// it emits, then `outcome` (`None`: it timed out before logging one).
    fn invoke(
        &mut self,
        service: &str,
        event: (&str, &str, Option<&str>),
        emits: &[(&str, &str)],
        outcome: Option<(Outcome, Option<&str>)>,
    ) {
        let (event_id, detail_type, cause) = event;
        let request = unique("r");
        self.raw(
            service,
            &format!("START RequestId: {request} Version: $LATEST"),
        );
        let base = |journey: &mut Self, level, message: &str| {
            let mut record = journey.record(service, level, message);
            record.event_id = Some(event_id.to_owned());
            record.detail_type = Some(detail_type.to_owned());
            record.causation_id = cause.map(str::to_owned);
            record
        };
        let start = base(self, LogLevel::Info, "invocation started");
        self.push(&start);
        for (child, child_type) in emits {
            let mut published = base(self, LogLevel::Info, &format!("published {child_type}"));
            published.event_id = Some((*child).to_owned());
            published.detail_type = Some((*child_type).to_owned());
            published.causation_id = Some(event_id.to_owned());
            published.outcome = Some(Outcome::Published);
            self.push(&published);
        }
        match outcome {
            None => {
                self.tick(10_000);
                self.raw(
                    service,
                    &format!(
                        "{} {request} Task timed out after 10.00 seconds",
                        self.clock.to_rfc3339()
                    ),
                );
            }
            Some((outcome, error)) => {
                let level = if outcome == Outcome::Failed {
                    LogLevel::Error
                } else {
                    LogLevel::Info
                };
                let message = if outcome == Outcome::Failed {
                    "invocation failed"
                } else {
                    "done"
                };
                let mut last = base(self, level, message);
                last.outcome = Some(outcome);
                last.duration_ms = Some(12);
                last.error = error.map(str::to_owned);
                self.push(&last);
            }
        }
        self.raw(service, &format!("END RequestId: {request}"));
        self.raw(
            service,
            &format!("REPORT RequestId: {request}\tDuration: 12.00 ms\tBilled Duration: 13 ms"),
        );
    }

    /// A warning inside an invocation (no outcome): not an attempt of its own.
    fn warn(&mut self, service: &str, event: (&str, &str)) {
        let mut warning = self.record(
            service,
            LogLevel::Warn,
            "could not record completion; a replay after the lock expires would run again",
        );
        warning.event_id = Some(event.0.to_owned());
        warning.detail_type = Some(event.1.to_owned());
        warning.error = Some("DynamoDB is unavailable".to_owned());
        self.push(&warning);
    }
}

const GATEWAY_DOWN: &str =
    "DependencyUnavailable: payment gateway is unavailable: POST /refunds timed out after 10s";

/// What the seeded system holds about `ord-1`.
struct Seeded {
    /// `ord-1`'s events: `OrderCreated`, `InventoryOutOfStock`.
    created: String,
    out_of_stock: String,
    /// The refund DLQ message of `ord-1`.
    stuck_refund: String,
}

/// `ord-1`: out of stock; the refund timed out once, failed twice, and sits in the DLQ. Its
/// confirmation email succeeded, with a warning inside the invocation. Plus noise that the
/// server-side terms `ord-1` and `corr-1` also return.
fn out_of_stock_order(start: DateTime<Utc>, created: &str, out_of_stock: &str) -> Journey {
    let mut one = Journey::new("ord-1", "corr-1", start);
    one.produce(created);
    one.invoke(
        "inventory",
        (created, "OrderCreated", None),
        &[(out_of_stock, "InventoryOutOfStock")],
        Some((Outcome::Succeeded, None)),
    );
    one.raw("notification", "START RequestId: n1 Version: $LATEST");
    let mut started = one.record("notification", LogLevel::Info, "invocation started");
    started.event_id = Some(created.to_owned());
    started.detail_type = Some("OrderCreated".to_owned());
    one.push(&started);
    one.warn("notification", (created, "OrderCreated"));
    let mut sent = one.record("notification", LogLevel::Info, "emailed the confirmation");
    sent.event_id = Some(created.to_owned());
    sent.detail_type = Some("OrderCreated".to_owned());
    sent.outcome = Some(Outcome::Succeeded);
    sent.duration_ms = Some(40);
    one.push(&sent);
    let refund_event = (out_of_stock, "InventoryOutOfStock", Some(created));
    one.invoke("refund", refund_event, &[], None);
    for pause in [60_000, 120_000] {
        one.tick(pause);
        one.invoke(
            "refund",
            refund_event,
            &[],
            Some((Outcome::Failed, Some(GATEWAY_DOWN))),
        );
    }
    one.raw(
        "inventory",
        "2026-11-26T01:00:00Z WARN stock cache refreshed after ord-1 corr-1",
    );
    one.raw(
        "inventory",
        r#"{"level":"info","msg":"sdk retry","orderId":"ord-1","correlationId":"corr-1"}"#,
    );
    one.raw("refund", r#"["ord-1", "corr-1"]"#);
    one
}

/// `ord-10`: reserved and confirmed; its ids contain `ord-1` and `corr-1`, and one of its
/// lines mentions ord-1 in the text.
fn reserved_order(start: DateTime<Utc>) -> Journey {
    let mut ten = Journey::new("ord-10", "corr-10", start);
    let (created, reserved) = (event_id(10), event_id(11));
    ten.produce(&created);
    ten.invoke(
        "inventory",
        (&created, "OrderCreated", None),
        &[(&reserved, "InventoryReserved")],
        Some((Outcome::Succeeded, None)),
    );
    ten.invoke(
        "notification",
        (&created, "OrderCreated", None),
        &[],
        Some((Outcome::Succeeded, None)),
    );
    let mut aside = ten.record(
        "inventory",
        LogLevel::Info,
        "released the stock ord-1 could not get",
    );
    aside.event_id = Some(created);
    aside.detail_type = Some("OrderCreated".to_owned());
    aside.outcome = Some(Outcome::Skipped);
    ten.push(&aside);
    ten
}

/// `ord-2`: its confirmation email failed into the notification DLQ.
fn unconfirmed_order(start: DateTime<Utc>, created: &str) -> Journey {
    let mut two = Journey::new("ord-2", "corr-2", start);
    two.produce(created);
    two.invoke(
        "notification",
        (created, "OrderCreated", None),
        &[],
        Some((
            Outcome::Failed,
            Some("DependencyUnavailable: SES is unavailable"),
        )),
    );
    two
}

/// Three orders whose ids and correlation ids contain one another (`ord-1`, `ord-10`,
/// `corr-1`, `corr-10`), among Lambda's START/END/REPORT lines, a timeout line, and text and
/// JSON of other shapes that mention `ord-1`; a DLQ message of `ord-1` and one of `ord-2`.
async fn seed(system: &System) -> Seeded {
    let start = Utc::now() - Duration::minutes(30);
    let (created, out_of_stock, created_2) = (event_id(1), event_id(2), event_id(20));
    let journeys = [
        out_of_stock_order(start, &created, &out_of_stock),
        reserved_order(start + Duration::seconds(5)),
        unconfirmed_order(start + Duration::seconds(9), &created_2),
    ];
    for service in ["order-producer", "inventory", "notification", "refund"] {
        let lines: Vec<(DateTime<Utc>, String)> = journeys
            .iter()
            .flat_map(|j| j.lines.iter())
            .filter(|(s, _, _)| s == service)
            .map(|(_, at, line)| (*at, line.clone()))
            .collect();
        system.write(service, &lines).await;
    }

    let stuck_refund = system
        .dead_letter(
            "refund",
            &event(
                &out_of_stock,
                "InventoryOutOfStock",
                "ord-1",
                "corr-1",
                Some(&created),
            ),
            ("DependencyUnavailable", "payment gateway is unavailable"),
        )
        .await;
    system
        .dead_letter(
            "notification",
            &event(&created_2, "OrderCreated", "ord-2", "corr-2", None),
            ("DependencyUnavailable", "SES is unavailable"),
        )
        .await;
    Seeded {
        created,
        out_of_stock,
        stuck_refund,
    }
}

/// An EventBridge event as a target receives it (enough of it for the DLQ summary).
fn event(
    id: &str,
    detail_type: &str,
    order: &str,
    correlation: &str,
    cause: Option<&str>,
) -> Value {
    let source = if detail_type == "OrderCreated" {
        "ecomm.orders"
    } else {
        "ecomm.inventory"
    };
    let mut metadata =
        json!({"eventId": id, "correlationId": correlation, "createdAt": "2026-11-26T00:00:00Z"});
    if let Some(cause) = cause {
        metadata["causationId"] = cause.into();
    }
    json!({
        "version": "0", "id": format!("eb-{id}"), "detail-type": detail_type, "source": source,
        "account": "123456789012", "time": "2026-11-26T00:00:00Z", "region": "us-east-1",
        "resources": [],
        "detail": {"eventVersion": "1.0", "orderId": order, "metadata": metadata}
    })
}

/// `ord-1`'s chain, exactly: nothing of `ord-10` or `ord-2`, the refund stuck in its DLQ.
fn assert_exactly_ord_1(trace: &Trace, seeded: &Seeded) {
    assert_eq!(trace.correlation_ids, ["corr-1"]);
    assert_eq!(trace.order_ids, ["ord-1"]);
    let ids: BTreeSet<&str> = trace
        .all_events()
        .iter()
        .map(|e| e.event_id.as_str())
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from([seeded.created.as_str(), seeded.out_of_stock.as_str()])
    );

    let created = trace.order_created();
    assert_eq!(created.event_id, seeded.created);
    assert_eq!(created.published_by.as_deref(), Some("order-producer"));
    let consumers: BTreeSet<&str> = created
        .invocations
        .iter()
        .map(|i| i.consumer.as_str())
        .collect();
    assert_eq!(consumers, BTreeSet::from(["inventory", "notification"]));

    // A warning inside the invocation is not a second attempt.
    let notification = created.by("notification");
    assert_eq!(notification.outcome, "succeeded");
    assert_eq!(notification.attempts.len(), 1, "{notification:#?}");

    let inventory = created.by("inventory");
    assert_eq!(inventory.outcome, "succeeded");
    let out_of_stock = inventory.only_emitted();
    assert_eq!(out_of_stock.event_id, seeded.out_of_stock);
    assert_eq!(out_of_stock.published_by.as_deref(), Some("inventory"));
    assert!(out_of_stock.missing.is_empty());

    let refund = out_of_stock.by("refund");
    assert_eq!(refund.outcome, "stuck");
    let outcomes: Vec<&str> = refund.attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["unfinished", "failed", "failed"]);
    assert!(
        refund.attempts.iter().all(|a| a.number.is_none()),
        "AWS logs no attempt number"
    );
    assert_eq!(refund.attempts[1].error.as_deref(), Some(GATEWAY_DOWN));
    let stuck = refund.stuck.as_ref().expect("the refund DLQ message");
    assert_eq!(stuck.message_id, seeded.stuck_refund);
    assert_eq!(stuck.error_code.as_deref(), Some("DependencyUnavailable"));
    assert_eq!(stuck.attempts, Some(3));
    assert!(stuck.queue.ends_with("-refund-dlq"), "{}", stuck.queue);
    assert_eq!(
        stuck.redrive,
        format!(
            "ecomm redrive --target refund --message-id {}",
            seeded.stuck_refund
        )
    );
}

#[tokio::test]
async fn trace_on_aws_returns_exactly_the_chain_of_the_order_with_its_dlq_message() {
    let system = System::deploy(&["inventory", "notification", "refund"]).await;
    system
        .log_groups(&["order-producer", "inventory", "notification", "refund"])
        .await;
    let seeded = seed(&system).await;

    let trace = system.trace("ord-1", &[], 0);
    assert!(trace.problems.is_empty(), "{:?}", trace.problems);
    assert!(!trace.partial);
    assert_exactly_ord_1(&trace, &seeded);
    // No consumer of this bus subscribes to what is missing: analytics is not deployed here.
    assert!(trace.order_created().missing.is_empty());

    for id in ["corr-1", seeded.out_of_stock.as_str()] {
        let other = system.trace(id, &[], 0);
        assert_eq!(other.events, trace.events, "by {id}");
    }

    let tree = system.ecomm().args("trace ord-1 --wait 1").stdout();
    assert!(tree.contains("attempt 1 at"), "{tree}");
    assert!(
        tree.contains("no outcome logged (timed out or crashed)"),
        "{tree}"
    );
    assert!(
        tree.contains(&format!(
            "replay: ecomm redrive --target refund --message-id {}",
            seeded.stuck_refund
        )),
        "{tree}"
    );
    assert!(!tree.contains("ord-10"), "{tree}");
}

#[tokio::test]
async fn a_log_group_that_does_not_exist_is_reported_and_the_rest_is_shown_with_exit_3() {
    let system = System::deploy(&["analytics", "inventory", "notification", "refund"]).await;
    // analytics has never logged: its group does not exist.
    system
        .log_groups(&["order-producer", "inventory", "notification", "refund"])
        .await;
    let seeded = seed(&system).await;

    let trace = system.trace("ord-1", &[], 3);
    assert_exactly_ord_1(&trace, &seeded);
    assert_eq!(
        trace.problems,
        [format!(
            "log group {} does not exist",
            system.group("analytics")
        )]
    );
    // Its rule matches OrderCreated, and nothing shows it ran.
    assert_eq!(trace.order_created().missing, ["analytics"]);

    let session = system.ecomm().args("trace ord-1 --wait 1").code(3).run();
    let tree = session.stdout + &session.stderr;
    assert!(
        tree.contains(&format!(
            "warning: log group {} does not exist",
            system.group("analytics")
        )),
        "{tree}"
    );
    assert!(
        tree.contains("MISSING: no invocation of analytics"),
        "{tree}"
    );
}

#[tokio::test]
async fn insights_returns_exactly_the_chain_although_moto_ignores_the_query_filter() {
    let system = System::deploy(&["inventory", "notification", "refund"]).await;
    system
        .log_groups(&["order-producer", "inventory", "notification", "refund"])
        .await;
    let seeded = seed(&system).await;

    let trace = system.trace("ord-1", &["--insights"], 0);
    assert!(trace.problems.is_empty(), "{:?}", trace.problems);
    assert!(!trace.partial);
    assert_exactly_ord_1(&trace, &seeded);
    let by_filter = system.trace("ord-1", &[], 0);
    assert_eq!(trace.events, by_filter.events);
}

#[tokio::test]
async fn an_outcome_a_newer_function_logs_is_shown_verbatim_and_never_as_running() {
    let system = System::deploy(&["inventory", "notification"]).await;
    system
        .log_groups(&["order-producer", "inventory", "notification"])
        .await;
    let created = event_id(30);
    let mut order = Journey::new("ord-30", "corr-30", Utc::now() - Duration::minutes(5));
    order.produce(&created);
    let deferred = Outcome::Other("deferred-to-batch".to_owned());
    order.invoke(
        "inventory",
        (&created, "OrderCreated", None),
        &[],
        Some((deferred, None)),
    );
    order.invoke(
        "notification",
        (&created, "OrderCreated", None),
        &[],
        Some((Outcome::Succeeded, None)),
    );
    for service in ["order-producer", "inventory", "notification"] {
        let lines: Vec<(DateTime<Utc>, String)> = order
            .lines
            .iter()
            .filter(|(s, _, _)| s == service)
            .map(|(_, at, line)| (*at, line.clone()))
            .collect();
        system.write(service, &lines).await;
    }

    let trace = system.trace("ord-30", &[], 0);
    let inventory = trace.order_created().by("inventory");
    assert_eq!(inventory.outcome, "deferred-to-batch", "{inventory:#?}");
    let [attempt] = inventory.attempts.as_slice() else {
        panic!("one attempt: {inventory:#?}")
    };
    assert_eq!(attempt.outcome, "deferred-to-batch");
    assert_eq!(
        trace.order_created().by("notification").outcome,
        "succeeded"
    );

    let tree = system.ecomm().args("trace ord-30 --wait 1").stdout();
    assert!(
        tree.contains("inventory     deferred-to-batch (an outcome this ecomm does not know)"),
        "{tree}"
    );
    assert!(!tree.contains("running"), "{tree}");
}
