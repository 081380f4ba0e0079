//! `ecomm --env aws trace` against moto: a bus with Lambda targets and their DLQs, each
//! function's log group seeded with the `LogRecord` lines of several orders among Lambda's own
//! lines and other noise. The trace must return exactly the chain of the order asked for:
//! moto's server-side filtering is a substring match (`ord-1` finds `ord-10`) and its Logs
//! Insights ignores `filter` altogether, so only the client's exact filtering makes it right.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use ecomm_events::{LogLevel, LogRecord, Outcome};
use serde_json::{Value, json};

use crate::support::{Stack, Trace, Wiring, unique};

/// Consumers wired as Terraform wires them (target DLQ and on-failure destination, one queue).
async fn deploy(targets: &[&str]) -> Stack {
    let wired: Vec<(&str, Wiring)> = targets.iter().map(|t| (*t, Wiring::Both)).collect();
    Stack::deploy(&wired).await
}

/// `trace ID -o json --wait 1 [ARGS]` with the expected exit code.
fn trace_json(stack: &Stack, id: &str, args: &[&str], code: i32) -> Trace {
    stack
        .ecomm()
        .args("trace")
        .arg(id)
        .args("--wait 1")
        .each(args)
        .code(code)
        .json()
}

/// Put what Lambda's on-failure destination receives into a consumer's DLQ; the message id.
async fn dead_letter(stack: &Stack, target: &str, event: &Value, error: (&str, &str)) -> String {
    let dlq = stack.dlq(target);
    dlq.seed(&dlq.failed_invocation(event, error.0, error.1))
        .await
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

/// What the seeded stack holds about `ord-1`.
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
async fn seed(stack: &Stack) -> Seeded {
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
        stack.write_logs(service, &lines).await;
    }

    let stuck_refund = dead_letter(
        stack,
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
    dead_letter(
        stack,
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
    let stack = deploy(&["inventory", "notification", "refund"]).await;
    stack
        .log_groups(&["order-producer", "inventory", "notification", "refund"])
        .await;
    let seeded = seed(&stack).await;

    let trace = trace_json(&stack, "ord-1", &[], 0);
    assert!(trace.problems.is_empty(), "{:?}", trace.problems);
    assert!(!trace.partial);
    assert_exactly_ord_1(&trace, &seeded);
    // This bus does not log: the trace works as before, and says so once.
    let off: Vec<&String> = trace
        .notes
        .iter()
        .filter(|n| n.starts_with("bus logging is off"))
        .collect();
    assert_eq!(off.len(), 1, "{:?}", trace.notes);
    assert!(
        off[0].contains(&ecomm_events::buslog::bus_log_group(&stack.bus)),
        "{off:?}"
    );
    // No consumer of this bus subscribes to what is missing: analytics is not deployed here.
    assert!(trace.order_created().missing.is_empty());

    for id in ["corr-1", seeded.out_of_stock.as_str()] {
        let other = trace_json(&stack, id, &[], 0);
        assert_eq!(other.events, trace.events, "by {id}");
    }

    let tree = stack.ecomm().args("trace ord-1 --wait 1").stdout();
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
    let stack = deploy(&["analytics", "inventory", "notification", "refund"]).await;
    // analytics has never logged: its group does not exist.
    stack
        .log_groups(&["order-producer", "inventory", "notification", "refund"])
        .await;
    let seeded = seed(&stack).await;

    let trace = trace_json(&stack, "ord-1", &[], 3);
    assert_exactly_ord_1(&trace, &seeded);
    assert_eq!(
        trace.problems,
        [format!(
            "log group {} does not exist",
            stack.log_group("analytics")
        )]
    );
    // Its rule matches OrderCreated, and nothing shows it ran.
    assert_eq!(trace.order_created().missing, ["analytics"]);

    let session = stack.ecomm().args("trace ord-1 --wait 1").code(3).run();
    let tree = session.stdout + &session.stderr;
    assert!(
        tree.contains(&format!(
            "warning: log group {} does not exist",
            stack.log_group("analytics")
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
    let stack = deploy(&["inventory", "notification", "refund"]).await;
    stack
        .log_groups(&["order-producer", "inventory", "notification", "refund"])
        .await;
    let seeded = seed(&stack).await;

    let trace = trace_json(&stack, "ord-1", &["--insights"], 0);
    assert!(trace.problems.is_empty(), "{:?}", trace.problems);
    assert!(!trace.partial);
    assert_exactly_ord_1(&trace, &seeded);
    let by_filter = trace_json(&stack, "ord-1", &[], 0);
    assert_eq!(trace.events, by_filter.events);
}

#[tokio::test]
async fn an_outcome_a_newer_function_logs_is_shown_verbatim_and_never_as_running() {
    let stack = deploy(&["inventory", "notification"]).await;
    stack
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
        stack.write_logs(service, &lines).await;
    }

    let trace = trace_json(&stack, "ord-30", &[], 0);
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

    let tree = stack.ecomm().args("trace ord-30 --wait 1").stdout();
    assert!(
        tree.contains("inventory     deferred-to-batch (an outcome this ecomm does not know)"),
        "{tree}"
    );
    assert!(!tree.contains("running"), "{tree}");
}

/// Write each service's lines of `journey` to `stack`'s group of that service.
async fn write_journey(stack: &Stack, journey: &Journey, services: &[&str]) {
    for service in services {
        let lines: Vec<(DateTime<Utc>, String)> = journey
            .lines
            .iter()
            .filter(|(s, _, _)| s == service)
            .map(|(_, at, line)| (*at, line.clone()))
            .collect();
        stack.write_logs(service, &lines).await;
    }
}

#[tokio::test]
async fn a_trace_across_accounts_follows_the_order_from_the_tenants_producer_to_the_central_consumers()
 {
    const TENANT: &str = "111122223333";
    const CENTRAL: &str = "444455556666";
    let bus = unique("ecomm");
    // The tenant runs the producer and an audit consumer of its own; the central account
    // runs inventory and notification.
    let tenant = Stack::deploy_in(TENANT, &bus, &[("audit", Wiring::Both)]).await;
    let central = Stack::deploy_in(
        CENTRAL,
        &bus,
        &[("inventory", Wiring::Both), ("notification", Wiring::Both)],
    )
    .await;
    tenant.log_groups(&["order-producer", "audit"]).await;
    central.log_groups(&["inventory", "notification"]).await;

    let created = event_id(7);
    let mut journey = Journey::new("ord-7", "corr-7", Utc::now() - Duration::minutes(20));
    journey.produce(&created);
    journey.invoke(
        "audit",
        (&created, "OrderCreated", None),
        &[],
        Some((Outcome::Succeeded, None)),
    );
    journey.invoke(
        "notification",
        (&created, "OrderCreated", None),
        &[],
        Some((Outcome::Succeeded, None)),
    );
    journey.invoke(
        "inventory",
        (&created, "OrderCreated", None),
        &[],
        Some((
            Outcome::Failed,
            Some("DependencyUnavailable: stock table is unavailable"),
        )),
    );
    write_journey(&tenant, &journey, &["order-producer", "audit"]).await;
    write_journey(&central, &journey, &["inventory", "notification"]).await;
    let stuck = dead_letter(
        &central,
        "inventory",
        &event(&created, "OrderCreated", "ord-7", "corr-7", None),
        ("DependencyUnavailable", "stock table is unavailable"),
    )
    .await;

    let trace: Trace = tenant
        .ecomm()
        .args(&format!(
            "--accounts {TENANT},{CENTRAL} --account-role ecomm-oncall -o json trace ord-7 --wait 1"
        ))
        .code(0)
        .json();
    assert!(trace.problems.is_empty(), "{:?}", trace.problems);
    assert_eq!(trace.events.len(), 1, "{trace:#?}");
    let root = &trace.events[0];
    assert_eq!(root.event_id, created);
    assert_eq!(
        root.published_by.as_deref(),
        Some(format!("order-producer@{TENANT}").as_str()),
        "the account at each hop"
    );
    let outcomes: BTreeSet<(String, String)> = root
        .invocations
        .iter()
        .map(|i| (i.consumer.clone(), i.outcome.clone()))
        .collect();
    assert_eq!(
        outcomes,
        BTreeSet::from([
            (format!("audit@{TENANT}"), "succeeded".to_owned()),
            (format!("inventory@{CENTRAL}"), "stuck".to_owned()),
            (format!("notification@{CENTRAL}"), "succeeded".to_owned()),
        ])
    );
    let inventory = root
        .invocations
        .iter()
        .find(|i| i.consumer == format!("inventory@{CENTRAL}"))
        .and_then(|i| i.stuck.clone())
        .expect("stuck in the central account's DLQ");
    assert_eq!(inventory.message_id, stuck);
    assert!(
        inventory
            .redrive
            .contains(&format!("--target inventory@{CENTRAL}")),
        "the replay names the account: {}",
        inventory.redrive
    );
    central.dlq("inventory").assert_all_visible(1).await;
}

/// One record of the bus's own log, in the shape the EventBridge user guide documents
/// ("Amazon EventBridge event bus log schema", eb-event-logs-schema): `message_type` is the
/// step, `details` carries the rule, the target and the attempt, `error` the called service's
/// answer.
fn bus_record(
    stack: &Stack,
    event: &str,
    at: DateTime<Utc>,
    step: &str,
    (rule, target): (&str, &str),
    attempt: Option<u32>,
    error: Option<(u16, &str)>,
) -> (DateTime<Utc>, String) {
    let mut record = json!({
        "resource_arn": format!("arn:aws:events:us-east-1:123456789012:event-bus/{}", stack.bus),
        "request_id": unique("req"),
        "event_id": event,
        "invocation_id": format!("inv-{target}"),
        "message_timestamp_ms": at.timestamp_millis(),
        "message_type": step,
        "log_level": if error.is_some() { "ERROR" } else { "INFO" },
        "details": {
            "rule_arn": rule,
            "role_arn": "",
            "target_arn": target,
            "attempt_type": if attempt == Some(1) { "FIRST" } else { "RETRY" },
            "attempt_count": attempt,
            "invocation_status": if error.is_some() { "FAILED" } else { "SUCCESS" },
            "target_duration_ms": 9,
            "target_response_body": ""
        }
    });
    if step == "RULE_MATCH" {
        record["details"] = json!({
            "rule_arn": rule,
            "target_arns": [target],
            "invocation_ids": [format!("inv-{target}")]
        });
    }
    if let Some((status, message)) = error {
        record["error"] = json!({
            "http_status_code": status,
            "error_message": message,
            "aws_service": "lambda",
            "request_id": unique("lreq")
        });
    }
    (at, record.to_string())
}

/// Order `ord-41`: inventory handled its `OrderCreated` (bus id `bus_id`), the bus's log says
/// how its deliveries went: inventory at once, analytics throttled three times then timed out
/// (still retrying), plus another rule's target and another event. The two rules' ARNs.
async fn seed_bus_logged_order(stack: &Stack, bus_id: &str) -> (String, String) {
    stack
        .log_groups(&["order-producer", "inventory", "analytics"])
        .await;
    let start = Utc::now() - Duration::minutes(30);
    let created = event_id(41);
    let mut journey = Journey::new("ord-41", "corr-41", start);
    journey.produce(&created);
    journey.invoke(
        "inventory",
        (&created, "OrderCreated", None),
        &[],
        Some((Outcome::Succeeded, None)),
    );
    // Inventory's lines carry the bus's id of the event it handled; analytics never ran.
    for (service, _, line) in &mut journey.lines {
        if service == "inventory"
            && let Some(mut record) = LogRecord::parse(line)
        {
            record.bus_event_id = Some(bus_id.to_owned());
            *line = record.to_json_line();
        }
    }
    write_journey(stack, &journey, &["order-producer", "inventory"]).await;

    let at = |s: i64| start + Duration::seconds(s);
    let ours = |c: &crate::support::Deployed| (c.rule_arn.clone(), c.function_arn.clone());
    let (inv_rule, inv_fn) = ours(stack.consumer_of("inventory"));
    let (ana_rule, ana_fn) = ours(stack.consumer_of("analytics"));
    let other = (
        "arn:aws:events:us-east-1:123456789012:rule/other/not-ours",
        "arn:aws:lambda:us-east-1:123456789012:function:not-ours",
    );
    let group = stack.bus_log_group().await;
    let (inv, ana) = ((&*inv_rule, &*inv_fn), (&*ana_rule, &*ana_fn));
    let throttled = Some((429, "Rate Exceeded."));
    let timed_out = Some((500, "Task timed out after 3.00 seconds"));
    let not_ours = format!("{bus_id}0");
    // (event, second, step, rule and target, attempt, error)
    let steps = [
        (bus_id, 1, "RULE_MATCH", inv, None, None),
        (bus_id, 1, "RULE_MATCH", ana, None, None),
        (bus_id, 1, "INVOCATION_ATTEMPT_SUCCESS", inv, Some(1), None),
        (bus_id, 1, "INVOCATION_SUCCESS", inv, None, None),
        // Another rule's target on the same event, and another event whose id contains ours.
        (
            bus_id,
            2,
            "INVOCATION_ATTEMPT_THROTTLE",
            other,
            Some(1),
            throttled,
        ),
        (
            &not_ours,
            2,
            "INVOCATION_ATTEMPT_THROTTLE",
            ana,
            Some(1),
            throttled,
        ),
        (
            bus_id,
            60,
            "INVOCATION_ATTEMPT_THROTTLE",
            ana,
            Some(1),
            throttled,
        ),
        (
            bus_id,
            120,
            "INVOCATION_ATTEMPT_THROTTLE",
            ana,
            Some(2),
            throttled,
        ),
        (
            bus_id,
            180,
            "INVOCATION_ATTEMPT_THROTTLE",
            ana,
            Some(3),
            throttled,
        ),
        (
            bus_id,
            600,
            "INVOCATION_ATTEMPT_RETRYABLE_FAILURE",
            ana,
            Some(4),
            timed_out,
        ),
    ];
    let records: Vec<(DateTime<Utc>, String)> = steps
        .into_iter()
        .map(|(event, second, step, target, attempt, error)| {
            bus_record(stack, event, at(second), step, target, attempt, error)
        })
        .collect();
    stack.write_group(&group, &records).await;
    (inv_rule, ana_rule)
}

#[tokio::test]
async fn the_buss_own_log_shows_each_targets_delivery_attempts_in_the_trace() {
    let stack = deploy(&["inventory", "analytics"]).await;
    let bus_id = "5d1f0a77-aaaa-4bbb-8ccc-00000000b041";
    let (inv_rule, ana_rule) = seed_bus_logged_order(&stack, bus_id).await;

    let trace = trace_json(&stack, "ord-41", &[], 0);
    let node = trace.order_created();
    assert_eq!(node.bus_event_ids, [bus_id]);
    let rule_name = |arn: &str| arn.rsplit('/').next().unwrap().to_owned();
    let mut rules = vec![rule_name(&inv_rule), rule_name(&ana_rule)];
    rules.sort();
    assert_eq!(
        node.matched_rules, rules,
        "not-ours is no rule of this trace's"
    );
    let by = |consumer: &str| {
        node.invocations
            .iter()
            .find(|i| i.consumer == consumer)
            .unwrap_or_else(|| panic!("no {consumer}: {node:#?}"))
    };
    let delivered = by("inventory")
        .delivery
        .as_ref()
        .expect("inventory's delivery");
    assert_eq!(delivered.ended.as_deref(), Some("delivered"));
    assert_eq!(delivered.attempts.len(), 1);
    let undelivered = by("analytics");
    assert_eq!(
        undelivered.outcome, "undelivered",
        "never ran, and the bus says why"
    );
    let delivery = undelivered.delivery.as_ref().unwrap();
    let seen: Vec<(Option<u32>, &str, Option<&str>)> = delivery
        .attempts
        .iter()
        .map(|a| (a.attempt, a.result.as_str(), a.error.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (Some(1), "throttled", Some("THROTTLING")),
            (Some(2), "throttled", Some("THROTTLING")),
            (Some(3), "throttled", Some("THROTTLING")),
            (Some(4), "failed", Some("TIMEOUT")),
        ],
        "this event's attempts at this target only"
    );
    assert_eq!(delivery.ended, None, "EventBridge is still retrying");
    assert!(node.missing.is_empty(), "{:?}", node.missing);
    assert!(
        trace
            .notes
            .iter()
            .all(|n| !n.contains("bus logging is off")),
        "{:?}",
        trace.notes
    );
    let tree = stack.ecomm().args("trace ord-41 --wait 1").stdout();
    assert!(
        tree.contains("bus: 4 attempts over 9 min: THROTTLING ×3, TIMEOUT"),
        "{tree}"
    );
}

#[tokio::test]
async fn dlq_show_gives_a_delivery_failure_its_attempts_from_the_buss_own_log() {
    let stack = deploy(&["analytics"]).await;
    let analytics = stack.consumer_of("analytics").clone();
    let (ana_rule, ana_fn) = (analytics.rule_arn.clone(), analytics.function_arn.clone());
    let group = stack.bus_log_group().await;
    let start = Utc::now() - Duration::minutes(30);
    let at = |s: i64| start + Duration::seconds(s);
    let event = crate::support::order_created("ord-42", "corr-42");
    let dead = event["id"].as_str().unwrap().to_owned();
    stack
        .dlq("analytics")
        .seed_target_failure(&event, "THROTTLING")
        .await;
    let mut attempts: Vec<(DateTime<Utc>, String)> = (1..=2)
        .map(|n| {
            bus_record(
                &stack,
                &dead,
                at(700 + i64::from(n)),
                "INVOCATION_ATTEMPT_THROTTLE",
                (&ana_rule, &ana_fn),
                Some(n),
                Some((429, "Rate Exceeded.")),
            )
        })
        .collect();
    attempts.push(bus_record(
        &stack,
        &dead,
        at(703),
        "INVOCATION_DLQ",
        (&ana_rule, &ana_fn),
        None,
        None,
    ));
    stack.write_group(&group, &attempts).await;
    let shown: crate::support::Shown = stack.ecomm().args("dlq show analytics --raw").json();
    let message = &shown.messages[0];
    let delivery = message.delivery.as_ref().expect("the bus's log of it");
    assert_eq!(delivery.attempts.len(), 2);
    assert_eq!(delivery.ended.as_deref(), Some("sent-to-dlq"));
    let raw = message.bus_log.as_ref().expect("--raw keeps the records");
    assert_eq!(raw.len(), 3);
    assert!(raw.iter().all(|r| r.contains(&dead)), "{raw:?}");
    let table = stack.ecomm().args("dlq show analytics").stdout();
    assert!(
        table.contains("2 attempts over 1 s: THROTTLING ×2, sent to DLQ"),
        "{table}"
    );
}

/// The notes of each NDJSON document `trace --follow` prints, until `documents` were read
/// (within a minute); then Ctrl-C, which must end it with exit 0.
fn follow_notes(stack: &Stack, id: &str, documents: usize) -> Vec<Vec<String>> {
    use std::io::BufRead as _;
    let mut child = stack
        .ecomm()
        .args("trace")
        .arg(id)
        .args("--follow --interval 1 --wait 1 -o ndjson")
        .process()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut notes = Vec::new();
    while notes.len() < documents {
        let Ok(line) = received.recv_timeout(std::time::Duration::from_mins(1)) else {
            child.kill().unwrap();
            panic!("no new document within a minute; so far: {notes:?}");
        };
        let trace: Trace = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        notes.push(trace.notes);
    }
    crate::support::interrupt(&child);
    assert_eq!(
        child.wait().unwrap().code(),
        Some(0),
        "Ctrl-C ends --follow"
    );
    notes
}

#[tokio::test]
async fn follow_streams_with_live_tail_where_the_endpoint_serves_it_and_polls_when_it_ends() {
    // moto answers StartLiveTail with the lines already there, then ends the stream: the
    // stream path, then the fall back to polling, both real.
    let stack = deploy(&["inventory", "notification", "refund"]).await;
    stack
        .log_groups(&["order-producer", "inventory", "notification", "refund"])
        .await;
    seed(&stack).await;
    let notes = follow_notes(&stack, "ord-1", 2);
    assert_eq!(
        notes[0][0],
        "following with CloudWatch Logs Live Tail (4 log group(s)); DLQs read again every 30 s",
        "{notes:?}"
    );
    assert_eq!(
        notes[1][0], "following by polling every 1 s (the Live Tail session ended)",
        "{notes:?}"
    );
}

#[tokio::test]
async fn follow_polls_and_says_why_where_live_tail_cannot_serve_the_trace() {
    // Eleven log groups: more than one Live Tail session takes.
    let targets = [
        "inventory",
        "notification",
        "analytics",
        "refund",
        "audit",
        "t6",
        "t7",
        "t8",
        "t9",
        "t10",
    ];
    let stack = deploy(&targets).await;
    let notes = follow_notes(&stack, "ord-1", 1);
    assert_eq!(
        notes[0][0],
        "following by polling every 1 s (Live Tail takes at most 10 log groups, this trace reads 11)",
        "{notes:?}"
    );
}
