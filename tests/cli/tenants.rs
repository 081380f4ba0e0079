//! Tenant accounts on the local stack (`ecomm demo --tenants N`): each tenant's producer puts
//! its orders on the tenant's own bus, whose forward rule puts them on the central bus, or,
//! when the forward fails, in the tenant's forward DLQ. The CLI then sees every account at
//! once: `dlq ls` lists the forwards, a command acts in the account that owns its target, a
//! redrive of a forward DLQ completes each saga once per tenant, and `trace` follows an order
//! across the hop.

use std::collections::BTreeMap;
use std::path::Path;

use ecomm_events::{DlqRecord, DlqSource};
use serde_json::Value;

use crate::support::{
    BusEvent, DemoAnswer, Ecomm, Pty, RedriveReport, START, TARGETS, Trace, bus_events, count,
    export, ls, open_state, temp_state,
};

const CENTRAL: &str = "000000000000";
const ACME: &str = "111111111111";
const GLOBEX: &str = "222222222222";
const CENTRAL_BUS: &str = "arn:aws:events:local:000000000000:event-bus/ecomm-local";
const DOWN: &str = "\x1b[B";
const ENTER: &str = "\r";
/// Two orders of each tenant fail their forward.
const FAULTS: &str = "no-permissions=forward:4";

/// A demo of 80 orders over two tenants, none of whose other deliveries fail.
fn tenant_demo(state: &Path) -> DemoAnswer {
    Ecomm::local(state)
        .args("demo --orders 80 --tenants 2 --faults")
        .arg(FAULTS)
        .arg("--start")
        .arg(START)
        .json()
}

/// The tenant id and event of every message of a tenant's forward DLQ, checked to be the
/// forward's failure as EventBridge writes it, in the tenant's account.
fn held_at_forward(state: &Path, tenant: &str, account: &str) -> Vec<Value> {
    export(state, &format!("forward@{tenant}"), &[])
        .into_iter()
        .map(|message| {
            let record = DlqRecord::parse(&message.body, &message.attributes);
            let DlqSource::EventbridgeTarget(failure) = &record.source else {
                panic!("not a target-DLQ message: {record:?}");
            };
            assert_eq!(
                failure.rule_arn.as_deref(),
                Some(
                    format!(
                        "arn:aws:events:local:{account}:rule/ecomm-local-{tenant}/ecomm-local-{tenant}-forward"
                    )
                    .as_str()
                ),
                "the tenant's rule, in the tenant's account"
            );
            assert_eq!(failure.target_arn.as_deref(), Some(CENTRAL_BUS));
            assert_eq!(failure.error_code.as_deref(), Some("NO_PERMISSIONS"));
            assert_eq!(failure.retry_attempts, Some(0), "NO_PERMISSIONS is not retried");
            let event = record.event.expect("the event, as it was put");
            assert_eq!(event["account"], account, "{event}");
            assert_eq!(event["detail"]["metadata"]["tenantId"], tenant, "{event}");
            event
        })
        .collect()
}

fn order_of(event: &Value) -> String {
    event["detail"]["orderId"]
        .as_str()
        .or_else(|| event["detail"]["order"]["orderId"].as_str())
        .unwrap_or_else(|| panic!("no order id in {event}"))
        .to_owned()
}

/// How many events of each type the central bus accepted about `order`.
fn central_events_of(events: &[BusEvent], order: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in events.iter().filter(|e| e.order_id() == order) {
        *counts.entry(event.detail_type.clone()).or_default() += 1;
    }
    counts
}

/// Orders counted by analytics for `tenant`, over every day, channel and currency.
fn analytics_orders(state: &Path, tenant: &str) -> u64 {
    count(
        &open_state(state),
        &format!(
            "SELECT COALESCE(SUM(order_count), 0) FROM analytics WHERE channel LIKE 'tenant#{tenant}#%'"
        ),
    )
}

fn redrive(state: &Path, target: &str, extra: &[&str]) -> RedriveReport {
    Ecomm::local(state)
        .args("redrive --target")
        .arg(target)
        .each(extra)
        .json()
}

#[test]
fn each_tenants_orders_cross_the_forward_and_a_failed_forward_waits_in_that_tenants_dlq() {
    let (_dir, state) = temp_state();
    let report = tenant_demo(&state);
    let tenants: Vec<(&str, &str)> = report
        .tenants
        .iter()
        .map(|t| (t.tenant.as_str(), t.account.as_str()))
        .collect();
    assert_eq!(tenants, [("acme", ACME), ("globex", GLOBEX)]);
    let accepted: u64 = report.tenants.iter().map(|t| t.orders_accepted).sum();
    assert_eq!(
        accepted, report.orders_accepted,
        "the tenants' producers took every order the producers accepted"
    );
    for tenant in &report.tenants {
        assert!(tenant.orders_accepted > 10, "{tenant:?}");
        assert_eq!(tenant.forward_dlq_depth, 2, "{tenant:?}");
        assert_eq!(tenant.forward_failures, 2, "not retried: {tenant:?}");
        assert_eq!(
            tenant.forwarded + 2,
            tenant.orders_accepted,
            "every accepted order's OrderCreated is forwarded but the two held: {tenant:?}"
        );
        assert_eq!(
            tenant.forward_dlq,
            format!("ecomm-local-{}-forward-dlq", tenant.tenant)
        );
    }

    // Every account's consumers, the tenants' forwards last, each in its account.
    let rows = ls(&state);
    let targets: Vec<&str> = rows.iter().map(|r| r.target.as_str()).collect();
    let mut expected: Vec<String> = TARGETS.iter().map(|t| format!("{t}@{CENTRAL}")).collect();
    expected.extend([format!("forward@{ACME}"), format!("forward@{GLOBEX}")]);
    assert_eq!(targets, expected);
    for (account, name) in [(ACME, "acme"), (GLOBEX, "globex")] {
        let row = rows
            .iter()
            .find(|r| r.target == format!("forward@{account}"))
            .unwrap();
        assert_eq!(row.account.as_deref(), Some(account));
        assert_eq!(row.account_name.as_deref(), Some(name));
        assert_eq!(row.visible, Some(2), "{row:?}");
        assert_eq!(
            row.dlq.as_deref(),
            Some(format!("ecomm-local-{name}-forward-dlq").as_str())
        );
        assert!(row.delivery_failures_wired, "{row:?}");
        assert_eq!(row.function_errors_wired, None, "a bus is no function");
    }

    // What the forward could not deliver never reached the central bus; the rest did, as the
    // tenant's events.
    let central = bus_events(&open_state(&state));
    for (tenant, account) in [("acme", ACME), ("globex", GLOBEX)] {
        for event in held_at_forward(&state, tenant, account) {
            let order = order_of(&event);
            assert_eq!(
                central_events_of(&central, &order),
                BTreeMap::new(),
                "{order} is held at the forward"
            );
        }
        let forwarded = central
            .iter()
            .filter(|e| e.detail_type == "OrderCreated" && e.body["account"] == account)
            .inspect(|e| assert_eq!(e.body["detail"]["metadata"]["tenantId"], tenant))
            .count();
        let row = report.tenants.iter().find(|t| t.tenant == tenant).unwrap();
        assert_eq!(forwarded as u64, row.forwarded);
        assert_eq!(
            analytics_orders(&state, tenant),
            row.forwarded,
            "analytics counts each forwarded order under its tenant"
        );
    }
}

#[test]
fn redriving_each_forward_dlq_completes_each_saga_once_per_tenant() {
    let (_dir, state) = temp_state();
    let report = tenant_demo(&state);
    let held: Vec<(&str, String)> = [("acme", ACME), ("globex", GLOBEX)]
        .into_iter()
        .flat_map(|(tenant, account)| {
            held_at_forward(&state, tenant, account)
                .iter()
                .map(|e| (tenant, order_of(e)))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(held.len(), 4);

    // A copy first (the messages stay), then the redrive: every held event reaches the central
    // consumers twice, as an at-least-once bus may deliver it.
    for (tenant, account) in [("acme", ACME), ("globex", GLOBEX)] {
        let copy = redrive(&state, &format!("forward@{account}"), &["--keep"]);
        assert_eq!((copy.copied, copy.failed), (2, 0), "{copy:?}");
        let run = redrive(&state, &format!("forward@{tenant}"), &[]);
        assert_eq!((run.redriven, run.failed), (2, 0), "{run:?}");
        assert_eq!(
            run.target,
            format!("forward@{account}"),
            "named by its account"
        );
        assert_eq!(run.queue, format!("ecomm-local-{tenant}-forward-dlq"));
        assert_eq!(run.left_in_queue, Some(0), "{run:?}");
    }
    for row in ls(&state)
        .iter()
        .filter(|r| r.target.starts_with("forward@"))
    {
        assert_eq!((row.visible, row.in_flight), (Some(0), Some(0)), "{row:?}");
    }

    let central = bus_events(&open_state(&state));
    for (tenant, order) in &held {
        let events = central_events_of(&central, order);
        assert_eq!(events.get("OrderCreated"), Some(&2), "{order}: {events:?}");
        let outcome = events.get("InventoryReserved").unwrap_or(&0)
            + events.get("InventoryOutOfStock").unwrap_or(&0);
        assert_eq!(
            outcome, 1,
            "{tenant}'s {order}: inventory ran its saga once: {events:?}"
        );
        let reservation = count(
            &open_state(&state),
            &format!(
                "SELECT COUNT(*) FROM reservations WHERE order_id = 'tenant#{tenant}#{order}'"
            ),
        );
        assert_eq!(
            reservation,
            u64::from(events.contains_key("InventoryReserved")),
            "{tenant}'s {order}: reserved under its tenant, once"
        );
    }
    for tenant in &report.tenants {
        assert_eq!(
            analytics_orders(&state, &tenant.tenant),
            tenant.orders_accepted,
            "{}: every accepted order counted once, the redriven ones included",
            tenant.tenant
        );
    }
}

#[test]
fn a_forward_is_named_by_its_account_and_a_forward_fault_needs_tenants() {
    let (_dir, state) = temp_state();
    tenant_demo(&state);
    let refused = Ecomm::local(&state)
        .args("dlq show forward")
        .code(2)
        .stderr();
    assert!(
        refused.contains(&format!("forward@acme ({ACME})"))
            && refused.contains(&format!("forward@globex ({GLOBEX})")),
        "{refused}"
    );
    // A name only the central account has needs no account; an account by its name works.
    Ecomm::local(&state).args("dlq show inventory").run();
    let shown = export(&state, "forward@globex", &[]);
    assert_eq!(shown.len(), 2);
    let unknown = Ecomm::local(&state)
        .args("dlq show forward@initech")
        .code(2)
        .stderr();
    assert!(unknown.contains("initech"), "{unknown}");

    let (_dir, plain) = temp_state();
    let error = Ecomm::local(&plain)
        .args("demo --orders 5 --faults no-permissions=forward:1")
        .code(1)
        .stderr();
    assert!(error.contains("--tenants"), "{error}");
}

#[test]
fn a_trace_follows_an_order_across_the_forward_before_and_after_its_redrive() {
    let (_dir, state) = temp_state();
    tenant_demo(&state);
    let event = held_at_forward(&state, "acme", ACME).remove(0);
    let order = order_of(&event);
    let trace = |state: &Path| -> Trace {
        Ecomm::local(state)
            .args("trace --since 30d")
            .arg(&order)
            .json()
    };

    let before = trace(&state);
    let [created] = before.events.as_slice() else {
        panic!("one event: {before:#?}");
    };
    assert_eq!(created.detail_type, "OrderCreated");
    assert_eq!(
        created.published_by.as_deref(),
        Some(format!("order-producer@{ACME}").as_str()),
        "the tenant's producer, in the tenant's account"
    );
    let hops: Vec<(&str, &str)> = created
        .invocations
        .iter()
        .map(|i| (i.consumer.as_str(), i.outcome.as_str()))
        .collect();
    assert_eq!(hops, [(format!("forward@{ACME}").as_str(), "stuck")]);
    let stuck = created.invocations[0].stuck.as_ref().unwrap();
    assert_eq!(stuck.error_code.as_deref(), Some("NO_PERMISSIONS"));
    // The tenant bus's own log of the forward: its rule matched, one attempt, refused.
    assert_eq!(created.matched_rules, ["ecomm-local-acme-forward"]);
    let delivery = created.invocations[0]
        .delivery
        .as_ref()
        .expect("the tenant bus's log");
    let attempts: Vec<(&str, Option<&str>)> = delivery
        .attempts
        .iter()
        .map(|a| (a.result.as_str(), a.error.as_deref()))
        .collect();
    assert_eq!(attempts, [("refused", Some("NO_PERMISSIONS"))]);
    assert_eq!(delivery.ended.as_deref(), Some("sent-to-dlq"));
    assert!(
        stuck.redrive.starts_with(&format!(
            "ecomm redrive --target forward@{ACME} --message-id "
        )),
        "{stuck:?}"
    );
    assert_eq!(
        created.missing,
        Vec::<String>::new(),
        "the central consumers wait for the forward: none is missing"
    );

    redrive(&state, &format!("forward@{ACME}"), &[]);
    let after = trace(&state);
    let created = after
        .events
        .iter()
        .find(|e| e.detail_type == "OrderCreated")
        .unwrap();
    let consumers: Vec<&str> = created
        .invocations
        .iter()
        .map(|i| i.consumer.as_str())
        .collect();
    for consumer in ["inventory", "notification", "analytics"] {
        assert!(
            consumers.contains(&format!("{consumer}@{CENTRAL}").as_str()),
            "{consumer} ran in the central account: {consumers:?}"
        );
    }
    assert!(created.missing.is_empty(), "{:?}", created.missing);
}

#[test]
fn the_ui_shows_every_account_and_redrives_a_forward_dlq_in_its_tenants_account() {
    let (_dir, state) = temp_state();
    tenant_demo(&state);
    let held: Vec<String> = held_at_forward(&state, "acme", ACME)
        .iter()
        .map(order_of)
        .collect();
    let path = state.to_str().expect("a UTF-8 path");
    let mut pty = Pty::spawn(&["--state", path, "ui", "--refresh", "1"], &[], 100, 30);
    let overview = pty.wait_for("globex");
    let lines: Vec<&str> = overview.lines().filter(|l| l.contains("forward")).collect();
    assert_eq!(lines.len(), 2, "{overview}");
    assert!(
        lines[0].contains("acme") && lines[1].contains("globex"),
        "an account column, by the accounts' names: {overview}"
    );
    for _ in 0..TARGETS.len() {
        pty.keys(DOWN);
    }
    pty.keys(ENTER);
    pty.wait_for(&format!("forward@{ACME} DLQ: 2 of 2 read"));
    pty.wait_for("2 hidden while open");
    let row = |rows: &[crate::support::LsRow], target: &str| {
        let row = rows.iter().find(|r| r.target == target).unwrap();
        (row.visible, row.in_flight)
    };
    assert_eq!(
        row(&ls(&state), &format!("forward@{ACME}")),
        (Some(0), Some(2)),
        "held in the tenant's DLQ while the view is open"
    );
    pty.keys("  ");
    pty.wait_for("2 marked");
    pty.keys("r");
    pty.wait_for(&format!("Redrive 2 message(s) of forward@{ACME}?"));
    pty.keys("y");
    pty.wait_for("redriven: 2");
    pty.keys("x");
    pty.keys("q");
    assert_eq!(pty.exit_code(), 0, "{}", pty.contents());

    let rows = ls(&state);
    assert_eq!(row(&rows, &format!("forward@{ACME}")), (Some(0), Some(0)));
    assert_eq!(
        row(&rows, &format!("forward@{GLOBEX}")),
        (Some(2), Some(0)),
        "the other tenant's DLQ is left alone"
    );
    let central = bus_events(&open_state(&state));
    for order in &held {
        assert_eq!(
            central_events_of(&central, order).get("OrderCreated"),
            Some(&1),
            "{order} reached the central bus"
        );
    }
}
