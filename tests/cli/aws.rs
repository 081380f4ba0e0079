//! `ecomm dlq` and `ecomm redrive` with `--env aws`, against moto on loopback.
//!
//! Each test deploys its own bus "as Terraform would" (rules, Lambda targets with a DLQ and a
//! retry policy, on-failure destinations to the same queue), seeds the DLQs in the three
//! formats plus garbage, runs the binary as a user runs it, and checks the outcome with the SDK.
//! Invokes go through a recording proxy (see `aws_support`): moto's `use_docker: false` Lambda
//! answers every asynchronous invoke with 202 and keeps no record of it.
//!
//! `./scripts/test` starts moto and sets `ECOMM_TEST_AWS_ENDPOINT`; without it every test here
//! fails, saying so.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    Ecomm, FaultMix, FaultyProxy, Injected, LambdaRecorder, LsRow, Purged, Queue, RedriveReport,
    Shown, Stack, Wiring, by_event_id, dlq_fixture, event_id, garbage, lambda_dlq, order_created,
    order_created_v1, out_of_stock, read_archive, unknown_json,
};

fn set<const N: usize>(ids: [&String; N]) -> BTreeSet<String> {
    ids.into_iter().cloned().collect()
}

#[tokio::test]
async fn ls_finds_every_consumer_with_its_dlq_counts_and_wiring_and_reports_the_unwired_one() {
    let stack = Stack::deploy(&[
        ("inventory", Wiring::Both),
        ("notification", Wiring::Both),
        ("analytics", Wiring::Both),
        ("loyalty", Wiring::DeliveryOnly),
        ("fraud-check", Wiring::Unwired),
    ])
    .await;
    for order in ["ord-1", "ord-2", "ord-3"] {
        let message = stack
            .dlq("inventory")
            .target_failure(&order_created(order, "c"), "THROTTLING");
        stack.dlq("inventory").seed(&message).await;
    }
    let failed = stack
        .dlq("notification")
        .destination_record(&out_of_stock("ord-4", "c"), "Mail");
    stack.dlq("notification").seed(&failed).await;
    stack
        .dlq("notification")
        .seed(&garbage("ord-4: resend by hand"))
        .await;
    let undelivered = stack
        .dlq("loyalty")
        .target_failure(&order_created("ord-5", "c"), "NO_PERMISSIONS");
    stack.dlq("loyalty").seed(&undelivered).await;

    let rows: Vec<LsRow> = stack.ecomm().each(["dlq", "ls"]).code(0).json();

    let rows: BTreeMap<&str, &LsRow> = rows.iter().map(|r| (r.target.as_str(), r)).collect();
    assert_eq!(
        rows.keys().copied().collect::<Vec<_>>(),
        [
            "analytics",
            "fraud-check",
            "inventory",
            "loyalty",
            "notification"
        ]
    );
    for (target, visible) in [("inventory", 3), ("notification", 2), ("analytics", 0)] {
        let row = rows[target];
        assert_eq!(
            row.function.as_deref(),
            Some(stack.consumer_of(target).function.as_str())
        );
        assert_eq!(row.dlq.as_deref(), Some(stack.dlq(target).name.as_str()));
        assert_eq!(
            (row.visible, row.in_flight),
            (Some(visible), Some(0)),
            "{target}"
        );
        assert!(
            row.delivery_failures_wired && row.function_errors_wired == Some(true),
            "{row:?}"
        );
        assert!(row.findings.is_empty(), "{row:?}");
    }
    let loyalty = rows["loyalty"];
    assert_eq!(
        loyalty.dlq.as_deref(),
        Some(stack.dlq("loyalty").name.as_str())
    );
    assert_eq!((loyalty.visible, loyalty.in_flight), (Some(1), Some(0)));
    assert!(loyalty.delivery_failures_wired && loyalty.function_errors_wired == Some(false));
    assert!(
        loyalty.findings.len() == 1 && loyalty.findings[0].contains("no on-failure destination"),
        "{loyalty:?}"
    );
    let unwired = rows["fraud-check"];
    assert_eq!(
        unwired.function.as_deref(),
        Some(stack.consumer_of("fraud-check").function.as_str())
    );
    assert_eq!((unwired.dlq.as_deref(), unwired.visible), (None, None));
    assert!(!unwired.delivery_failures_wired && unwired.function_errors_wired == Some(false));
    assert!(
        unwired.findings.len() == 1 && unwired.findings[0].contains("no DLQ"),
        "{unwired:?}"
    );

    // ls reads counters; it receives nothing.
    assert_eq!(stack.dlq("inventory").depth().await, (3, 0));
}

/// One message of each kind in the inventory DLQ.
struct OneOfEach {
    stack: Stack,
    created_1: Value,
    throttled: String,
    no_permissions: String,
    function_failed: String,
    legacy: String,
    not_json: String,
    other_json: String,
}

impl OneOfEach {
    async fn seed() -> Self {
        let stack = Stack::deploy(&[("inventory", Wiring::Both)]).await;
        let created_1 = order_created("ord-1", "corr-a");
        let created_2 = order_created("ord-2", "corr-b");
        let target = |event: &Value, code: &str| stack.dlq("inventory").target_failure(event, code);
        let throttled = stack
            .dlq("inventory")
            .seed(&target(&created_1, "THROTTLING"))
            .await;
        let no_permissions = stack
            .dlq("inventory")
            .seed(&target(&created_2, "NO_PERMISSIONS"))
            .await;
        let failed = out_of_stock("ord-1", "corr-a");
        let function_failed = stack
            .dlq("inventory")
            .seed_destination_record(&failed, "GatewayTimeout")
            .await;
        let legacy_event = order_created("ord-3", "corr-c");
        let legacy = stack
            .dlq("inventory")
            .seed(&lambda_dlq(&legacy_event, "UnsupportedEventVersion"))
            .await;
        let not_json = stack
            .dlq("inventory")
            .seed(&garbage("order ord-1 failed, see OPS-42"))
            .await;
        let other_json = stack.dlq("inventory").seed(&unknown_json()).await;
        Self {
            stack,
            created_1,
            throttled,
            no_permissions,
            function_failed,
            legacy,
            not_json,
            other_json,
        }
    }

    fn all(&self) -> BTreeSet<String> {
        set([
            &self.throttled,
            &self.no_permissions,
            &self.function_failed,
            &self.legacy,
            &self.not_json,
            &self.other_json,
        ])
    }

    fn show(&self, filters: &[&str]) -> Shown {
        let mut args = vec!["dlq", "show", "inventory", "--wait", "1"];
        args.extend_from_slice(filters);
        self.stack.ecomm().each(&args).code(0).json()
    }
}

#[tokio::test]
async fn show_reads_every_format_and_unknown_bodies_too_without_consuming() {
    let seeded = OneOfEach::seed().await;
    let dlq = seeded.stack.dlq("inventory");

    let shown = seeded.show(&[]);

    assert_eq!(shown.queue, dlq.name);
    assert_eq!(shown.ids(), seeded.all());
    assert_eq!((shown.seen, shown.complete), (6, true));
    let view = |id: &String| {
        shown
            .messages
            .iter()
            .find(|m| m.message_id == *id)
            .expect("shown")
            .clone()
    };
    let summary = |id: &String| {
        let v = view(id);
        (
            v.kind,
            v.error_code,
            v.attempts,
            v.exhausted_condition,
            v.detail_type,
            v.order_id,
        )
    };
    let some = |text: &str| Some(text.to_owned());
    // RETRY_ATTEMPTS was a Number attribute: 4 retries, 5 attempts.
    assert_eq!(
        summary(&seeded.throttled),
        (
            "eventbridge-target".to_owned(),
            some("THROTTLING"),
            Some(5),
            some("MaximumRetryAttempts"),
            some("OrderCreated"),
            some("ord-1")
        )
    );
    let throttled = view(&seeded.throttled);
    assert_eq!(
        throttled.failed_arn.as_deref(),
        Some(seeded.stack.consumer_of("inventory").function_arn.as_str())
    );
    assert_eq!(
        (
            throttled.event_version,
            throttled.event_id,
            throttled.correlation_id
        ),
        (
            some("2.0"),
            Some(event_id(&seeded.created_1)),
            some("corr-a")
        )
    );
    assert_eq!(
        summary(&seeded.function_failed),
        (
            "lambda-destination".to_owned(),
            some("GatewayTimeout"),
            Some(3),
            some("RetriesExhausted"),
            some("InventoryOutOfStock"),
            some("ord-1")
        )
    );
    assert_eq!(
        summary(&seeded.legacy),
        (
            "lambda-dlq".to_owned(),
            some("UnsupportedEventVersion"),
            None,
            None,
            some("OrderCreated"),
            some("ord-3")
        )
    );
    for unknown in [&seeded.not_json, &seeded.other_json] {
        assert_eq!(view(unknown).kind, "unknown");
    }
    let garbage = view(&seeded.not_json);
    assert!(
        garbage
            .error_message
            .as_deref()
            .is_some_and(|m| m.contains("not JSON")),
        "{garbage:?}"
    );
    dlq.assert_all_visible(6).await;
}

#[tokio::test]
async fn each_show_filter_selects_exactly_its_messages_and_leaves_every_message_visible() {
    let seeded = OneOfEach::seed().await;
    let dlq = seeded.stack.dlq("inventory");
    let all = seeded.all();
    let OneOfEach {
        throttled,
        no_permissions,
        function_failed,
        legacy,
        not_json,
        other_json,
        ..
    } = &seeded;

    for (filters, expected) in [
        (
            vec!["--order-id", "ord-1"],
            set([throttled, function_failed]),
        ),
        (vec!["--correlation-id", "corr-b"], set([no_permissions])),
        (vec!["--error-code", "throttling"], set([throttled])),
        (
            vec!["--error-code", "UnsupportedEventVersion"],
            set([legacy]),
        ),
        (
            vec!["--detail-type", "InventoryOutOfStock"],
            set([function_failed]),
        ),
        (vec!["--message-id", not_json], set([not_json])),
        (
            vec!["--message-id", throttled, "--message-id", other_json],
            set([throttled, other_json]),
        ),
        (
            vec!["--order-id", "ord-1", "--error-code", "GatewayTimeout"],
            set([function_failed]),
        ),
        (vec!["--order-id", "ord-404"], BTreeSet::new()),
        // SentTimestamp is read: every message was sent in the last 10 minutes.
        (vec!["--since", "10m"], all.clone()),
        (vec!["--until", "10m"], BTreeSet::new()),
    ] {
        let shown = seeded.show(&filters);
        assert_eq!(shown.ids(), expected, "{filters:?}");
        assert_eq!((shown.seen, shown.complete), (6, true), "{filters:?}");
        dlq.assert_all_visible(6).await;
    }

    let limited = seeded.show(&["--limit", "2"]);
    assert_eq!(limited.messages.len(), 2);
    assert!(limited.ids().is_subset(&all));
    dlq.assert_all_visible(6).await;
    assert_eq!(dlq.ids().await, all);
}

#[tokio::test]
async fn redrive_via_invoke_delivers_exactly_the_selected_events_to_that_function_and_deletes_exactly_those()
 {
    let stack = Stack::deploy(&[("inventory", Wiring::Both), ("notification", Wiring::Both)]).await;
    let recorder = LambdaRecorder::start(&stack.endpoint);
    let function = stack.consumer_of("inventory").function.clone();
    // One of each format for ord-1 (a v1 event among them: fine through invoke), two for ord-2.
    let ord_1 = [
        order_created("ord-1", "corr-a"),
        out_of_stock("ord-1", "corr-a"),
        order_created_v1("ord-1", "corr-a"),
    ];
    let ord_2 = [
        order_created("ord-2", "corr-b"),
        out_of_stock("ord-2", "corr-b"),
    ];
    let dlq = stack.dlq("inventory");
    let ord_1_ids: BTreeSet<String> = dlq.seed_in_turn(&ord_1).await.into_iter().collect();
    let ord_2_ids: BTreeSet<String> = dlq.seed_in_turn(&ord_2).await.into_iter().collect();
    let not_json = dlq.seed(&garbage("ord-1 by hand: see OPS-42")).await;
    let other_json = dlq.seed(&unknown_json()).await;
    let unknown = set([&not_json, &other_json]);
    let redrive = |extra: &[&str], code: i32| -> RedriveReport {
        let mut args = vec!["redrive", "--target", "inventory", "--wait", "1"];
        args.extend_from_slice(extra);
        stack
            .ecomm_at(recorder.endpoint())
            .each(&args)
            .code(code)
            .json()
    };

    let dry = redrive(&["--order-id", "ord-1", "--dry-run"], 0);
    let would: BTreeSet<String> = dry
        .would_redrive
        .iter()
        .map(|m| m.message_id.clone())
        .collect();
    assert_eq!(would, ord_1_ids);
    assert!(recorder.invocations().is_empty());
    dlq.assert_all_visible(7).await;

    let report = redrive(&["--order-id", "ord-1"], 0);
    assert_eq!(
        (
            report.redriven,
            report.failed,
            report.skipped,
            report.not_selected
        ),
        (3, 0, 0, 4)
    );
    let delivered = recorder.delivered_to(&function);
    assert!(delivered.iter().all(|i| i.asynchronous), "{delivered:?}");
    assert_eq!(
        by_event_id(delivered.into_iter().map(|i| i.payload)),
        by_event_id(ord_1.clone()),
        "the original events, unchanged, once each"
    );
    assert_eq!(dlq.ids().await, &ord_2_ids | &unknown);

    let report = redrive(&[], 3);
    assert_eq!(
        (report.redriven, report.failed, report.skipped),
        (2, 0, 2),
        "{report:?}"
    );
    let reasons = report.reasons();
    assert_eq!(reasons.keys().cloned().collect::<BTreeSet<_>>(), unknown);
    assert!(
        reasons.values().all(|r| r.contains("--message-id")),
        "{reasons:?}"
    );
    assert_eq!(
        by_event_id(
            recorder
                .delivered_to(&function)
                .into_iter()
                .map(|i| i.payload)
        ),
        by_event_id(ord_1.into_iter().chain(ord_2)),
        "each event delivered once"
    );
    assert!(
        recorder
            .invocations()
            .iter()
            .all(|i| i.function == function),
        "only the failed consumer is invoked"
    );
    assert_eq!(dlq.ids().await, unknown);
    dlq.assert_all_visible(2).await;

    let journal = stack.journal_outcomes();
    assert_eq!(journal["redriven"], &ord_1_ids | &ord_2_ids, "{journal:?}");
    assert_eq!(journal["skipped"], unknown, "{journal:?}");
}

#[tokio::test]
async fn a_redrive_tells_each_record_s_format_and_error_code_from_the_attributes_it_asks_sqs_for() {
    // A redrive asks SQS only for the attributes that say a record's format, error code and
    // rule: a legacy function DLQ message and a target failure must still be told apart and
    // selected by their codes.
    let seeded = OneOfEach::seed().await;
    let stack = &seeded.stack;
    let recorder = LambdaRecorder::start(&stack.endpoint);
    let function = stack.consumer_of("inventory").function.clone();
    let redrive = |code: &str| -> RedriveReport {
        stack
            .ecomm_at(recorder.endpoint())
            .each([
                "redrive",
                "--target",
                "inventory",
                "--wait",
                "1",
                "--error-code",
                code,
            ])
            .code(0)
            .json()
    };

    let legacy = redrive("UnsupportedEventVersion");
    let throttled = redrive("throttling");
    assert_eq!(
        [
            legacy.redriven,
            legacy.not_selected,
            throttled.redriven,
            throttled.not_selected
        ],
        [1, 5, 1, 4],
        "{legacy:?} {throttled:?}"
    );
    let delivered: Vec<(String, String)> = recorder
        .delivered_to(&function)
        .into_iter()
        .map(|i| {
            let detail = &i.payload["detail"];
            (
                detail["order"]["orderId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                detail["metadata"]["correlationId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        delivered,
        [("ord-3", "corr-c"), ("ord-1", "corr-a")].map(|(o, c)| (o.to_owned(), c.to_owned())),
        "the legacy message's event, then the throttled one's, once each"
    );
    let mut left = seeded.all();
    left.remove(&seeded.legacy);
    left.remove(&seeded.throttled);
    assert_eq!(stack.dlq("inventory").ids().await, left);
}

#[tokio::test]
async fn a_redrive_that_meets_throttling_and_partial_batch_failures_still_finishes_in_one_run() {
    let stack = Stack::deploy_unrouted(&[("notification", Wiring::Both)]).await;
    let tap = stack.tap().await;
    let dlq = stack.dlq("notification");
    let events: Vec<Value> = (0..60)
        .map(|i| order_created(&format!("ord-{i}"), &format!("corr-{i}")))
        .collect();
    for event in &events {
        dlq.seed_target_failure(event, "THROTTLING").await;
    }
    let proxy = FaultyProxy::start(
        &stack.endpoint,
        FaultMix {
            throttle: 4,
            fail_after: 9,
            hang_after: u64::MAX,
            fail_entry: 3,
            permanent_entries: false,
        },
    );

    let report: RedriveReport = stack
        .ecomm_at(proxy.endpoint())
        .args("--output json redrive --target notification --via bus --wait 1")
        .args("--visibility-timeout 5")
        .code(0)
        .json();

    let injected = proxy.injected();
    assert!(
        injected.throttled > 0 && injected.failed_after > 0 && injected.failed_entries > 0,
        "every kind of fault struck: {injected:?}"
    );
    assert_eq!(
        (report.redriven, report.failed, report.delivered_not_deleted),
        (60, 0, 0),
        "{report:?}"
    );
    assert_eq!(report.left_in_queue, Some(0), "{report:?}");
    assert!(dlq.ids().await.is_empty(), "the DLQ is drained");
    assert_every_order_back_on_the_bus(&stack, &tap, 60, injected).await;
}

/// Every one of `orders` events is back on the bus; a second copy only where a put took
/// effect and its answer was a 500 or never came (the one duplicate no client can avoid).
async fn assert_every_order_back_on_the_bus(
    stack: &Stack,
    tap: &Queue,
    orders: usize,
    injected: Injected,
) {
    let tapped = stack.tapped(tap).await;
    let seen: BTreeSet<String> = tapped
        .iter()
        .filter_map(|e| e["detail"]["order"]["orderId"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(seen.len(), orders, "{tapped:#?}");
    let duplicates = tapped.len() - orders;
    assert!(
        duplicates as u64 <= injected.ambiguous_puts,
        "{duplicates} duplicates, {injected:?}"
    );
}

#[tokio::test]
async fn a_redrive_whose_calls_hang_after_taking_effect_times_them_out_and_still_finishes_in_one_run()
 {
    let stack = Stack::deploy_unrouted(&[("notification", Wiring::Both)]).await;
    let tap = stack.tap().await;
    let dlq = stack.dlq("notification");
    for i in 0..30 {
        dlq.seed_target_failure(&order_created(&format!("ord-{i}"), "c"), "THROTTLING")
            .await;
    }
    let proxy = FaultyProxy::start(
        &stack.endpoint,
        FaultMix {
            throttle: u64::MAX,
            fail_after: u64::MAX,
            hang_after: 4,
            fail_entry: u64::MAX,
            permanent_entries: false,
        },
    );

    let report: RedriveReport = stack
        .ecomm_at(proxy.endpoint())
        .args("--read-timeout 1s --output json redrive --target notification --via bus --wait 1")
        .args("--visibility-timeout 3")
        .code(0)
        .json();

    let injected = proxy.injected();
    assert!(injected.hung > 0, "calls hung: {injected:?}");
    assert_eq!(
        (report.redriven, report.failed, report.left_in_queue),
        (30, 0, Some(0)),
        "{report:?}"
    );
    assert!(dlq.ids().await.is_empty(), "the DLQ is drained");
    assert_every_order_back_on_the_bus(&stack, &tap, 30, injected).await;
}

#[tokio::test]
async fn when_every_call_is_throttled_for_give_up_after_commands_end_with_exit_3_saying_why() {
    let stack = Stack::deploy_unrouted(&[("notification", Wiring::Both)]).await;
    let dlq = stack.dlq("notification");
    for order in ["ord-1", "ord-2", "ord-3"] {
        dlq.seed_target_failure(&order_created(order, "c"), "THROTTLING")
            .await;
    }
    let proxy = FaultyProxy::start(&stack.endpoint, FaultMix::throttle_all());
    let ecomm = || {
        stack
            .ecomm_at(proxy.endpoint())
            .args("--give-up-after 2s -o json")
    };

    let report: RedriveReport = ecomm()
        .args("redrive --target notification --via bus --wait 1")
        .code(3)
        .json();
    let reason = report.incomplete.clone().unwrap_or_default();
    assert!(
        reason.starts_with("gave up after 2s without progress: throttled by AWS"),
        "{report:?}"
    );
    assert_eq!((report.redriven, report.failed), (0, 0), "{report:?}");

    let shown: Shown = ecomm()
        .args("dlq show notification --wait 1")
        .code(3)
        .json();
    assert!(!shown.complete, "{shown:?}");
    assert!(
        shown
            .incomplete
            .as_deref()
            .is_some_and(|r| r.starts_with("gave up after 2s without progress")),
        "{shown:?}"
    );
    assert!(proxy.injected().throttled > 0);
    dlq.assert_all_visible(3).await;
}

#[tokio::test]
async fn redrive_via_bus_puts_exactly_the_selected_events_back_unchanged_and_keeps_the_rest() {
    let stack = Stack::deploy_unrouted(&[("notification", Wiring::Both)]).await;
    let tap = stack.tap().await;
    let created_1 = order_created("ord-1", "corr-a");
    let created_2 = order_created("ord-2", "corr-b");
    let out_of_stock_3 = out_of_stock("ord-3", "corr-c");
    let legacy = order_created_v1("ord-4", "corr-d");
    stack
        .dlq("notification")
        .seed_target_failure(&created_1, "THROTTLING")
        .await;
    stack
        .dlq("notification")
        .seed_target_failure(&created_2, "NO_PERMISSIONS")
        .await;
    stack
        .dlq("notification")
        .seed_destination_record(&out_of_stock_3, "MailerDown")
        .await;
    let v1 = stack
        .dlq("notification")
        .seed_target_failure(&legacy, "THROTTLING")
        .await;
    let not_json = stack
        .dlq("notification")
        .seed(&garbage("resend ord-9 by hand"))
        .await;
    let other_json = stack.dlq("notification").seed(&unknown_json()).await;
    let dlq = stack.dlq("notification");
    let redrive = |extra: &[&str]| -> RedriveReport {
        let mut args = vec![
            "redrive",
            "--target",
            "notification",
            "--via",
            "bus",
            "--wait",
            "1",
        ];
        args.extend_from_slice(extra);
        stack.ecomm().each(&args).code(3).json()
    };

    let report = redrive(&[]);
    assert_eq!(
        (report.redriven, report.failed, report.skipped),
        (3, 0, 3),
        "{report:?}"
    );
    let reasons = report.reasons();
    assert!(reasons[&v1].contains("v1"), "{reasons:?}");
    assert!(reasons[&not_json].contains("--message-id"), "{reasons:?}");
    assert!(reasons[&other_json].contains("--message-id"), "{reasons:?}");
    let tapped = stack.tapped(&tap).await;
    assert_eq!(tapped.len(), 3, "{tapped:#?}");
    for original in [&created_1, &created_2, &out_of_stock_3] {
        let routed = tapped
            .iter()
            .find(|e| e["detail"] == original["detail"])
            .unwrap_or_else(|| panic!("{original} did not reach the bus unchanged: {tapped:#?}"));
        assert_eq!(routed["detail-type"], original["detail-type"]);
        assert_eq!(routed["source"], original["source"]);
    }
    assert_eq!(dlq.ids().await, set([&v1, &not_json, &other_json]));

    // Named, an unknown body is replayed as is: not JSON fails; JSON with no source is
    // rejected by PutEvents for that entry. Both stay.
    let report = redrive(&["--message-id", &not_json]);
    assert_eq!((report.redriven, report.failed), (0, 1), "{report:?}");
    assert!(
        report.reasons()[&not_json].contains("not JSON"),
        "{report:?}"
    );
    let report = redrive(&["--message-id", &other_json]);
    assert_eq!((report.redriven, report.failed), (0, 1), "{report:?}");
    assert!(
        report.reasons()[&other_json].contains("InvalidArgument"),
        "{report:?}"
    );
    assert!(stack.tapped(&tap).await.is_empty());
    assert_eq!(dlq.ids().await, set([&v1, &not_json, &other_json]));
    dlq.assert_all_visible(3).await;
}

#[tokio::test]
async fn entries_put_events_rejects_stay_in_the_dlq_with_their_error_while_the_rest_are_redriven() {
    let stack = Stack::deploy_unrouted(&[("analytics", Wiring::Both)]).await;
    let tap = stack.tap().await;
    let good: Vec<Value> = (1..=3)
        .map(|i| order_created(&format!("ord-{i}"), "corr"))
        .collect();
    for event in &good {
        stack
            .dlq("analytics")
            .seed_target_failure(event, "THROTTLING")
            .await;
    }
    let mut no_source = order_created("ord-8", "corr");
    no_source
        .as_object_mut()
        .expect("an event object")
        .remove("source");
    let mut empty_detail_type = order_created("ord-9", "corr");
    empty_detail_type["detail-type"] = Value::String(String::new());
    let rejected_1 = stack
        .dlq("analytics")
        .seed_target_failure(&no_source, "THROTTLING")
        .await;
    let rejected_2 = stack
        .dlq("analytics")
        .seed_destination_record(&empty_detail_type, "Boom")
        .await;

    // One worker: the five entries go in one PutEvents call.
    let report: RedriveReport = stack
        .ecomm()
        .each([
            "redrive",
            "--target",
            "analytics",
            "--via",
            "bus",
            "--concurrency",
            "1",
            "--wait",
            "1",
        ])
        .code(3)
        .json();

    assert_eq!(
        (report.redriven, report.failed, report.delivered_not_deleted),
        (3, 2, 0),
        "{report:?}"
    );
    let reasons = report.reasons();
    assert_eq!(
        reasons.keys().cloned().collect::<BTreeSet<_>>(),
        set([&rejected_1, &rejected_2])
    );
    assert!(
        reasons.values().all(|r| r.contains("InvalidArgument")),
        "{reasons:?}"
    );
    let tapped = stack.tapped(&tap).await;
    assert_eq!(tapped.len(), 3);
    for event in &good {
        assert!(tapped.iter().any(|t| t["detail"] == event["detail"]));
    }
    let dlq = stack.dlq("analytics");
    assert_eq!(dlq.ids().await, set([&rejected_1, &rejected_2]));
    dlq.assert_all_visible(2).await;
}

#[tokio::test]
async fn invokes_of_a_function_deleted_after_discovery_fail_and_every_message_stays() {
    let stack = Stack::deploy(&[("inventory", Wiring::Both)]).await;
    let recorder = LambdaRecorder::start(&stack.endpoint);
    let consumer = stack.consumer_of("inventory").clone();
    let mut seeded = BTreeSet::new();
    for (i, message) in [
        stack
            .dlq("inventory")
            .target_failure(&order_created("ord-1", "c"), "THROTTLING"),
        stack
            .dlq("inventory")
            .destination_record(&out_of_stock("ord-2", "c"), "Timeout"),
        lambda_dlq(&order_created("ord-3", "c"), "Unhandled"),
    ]
    .iter()
    .enumerate()
    {
        assert!(
            seeded.insert(stack.dlq("inventory").seed(message).await),
            "{i}"
        );
    }
    // The target still names the function: discovery finds the consumer and its DLQ, the
    // invokes find no function.
    stack
        .lambda
        .delete_function()
        .function_name(&consumer.function)
        .send()
        .await
        .expect("delete the function");

    let report: RedriveReport = stack
        .ecomm_at(recorder.endpoint())
        .each(["redrive", "--target", "inventory", "--wait", "1"])
        .code(3)
        .json();

    assert_eq!(
        (report.redriven, report.failed, report.skipped),
        (0, 3, 0),
        "{report:?}"
    );
    let reasons = report.reasons();
    assert_eq!(reasons.keys().cloned().collect::<BTreeSet<_>>(), seeded);
    assert!(
        reasons.values().all(|r| r.contains("Function not found")),
        "{reasons:?}"
    );
    let invocations = recorder.invocations();
    assert_eq!(invocations.len(), 3);
    assert!(invocations.iter().all(|i| !i.accepted));
    let dlq = stack.dlq("inventory");
    assert_eq!(dlq.ids().await, seeded);
    dlq.assert_all_visible(3).await;
}

#[tokio::test]
async fn purge_with_a_filter_archives_exactly_the_messages_it_deletes_verbatim() {
    let stack = Stack::deploy(&[("analytics", Wiring::Both)]).await;
    let mut seeded = BTreeMap::new();
    // The contract's fixtures, verbatim (one with a Number attribute): all of ord-123 but the
    // two unreadable bodies.
    let mut ord_123 = BTreeSet::new();
    for name in [
        "eventbridge_target",
        "eventbridge_target_number_attributes",
        "lambda_destination",
        "lambda_dlq",
        "not_json",
        "truncated",
    ] {
        let message = dlq_fixture(name);
        let id = stack.dlq("analytics").seed(&message).await;
        if !matches!(name, "not_json" | "truncated") {
            ord_123.insert(id.clone());
        }
        seeded.insert(id, message);
    }
    let other_order = stack
        .dlq("analytics")
        .target_failure(&order_created("ord-7", "c"), "TIMEOUT");
    seeded.insert(stack.dlq("analytics").seed(&other_order).await, other_order);
    let binary = garbage("kept for the audit");
    let binary_id = stack.dlq("analytics").seed(&binary).await;
    seeded.insert(binary_id.clone(), binary);
    let dlq = stack.dlq("analytics");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let archive = dir.path().join("ord-123.ndjson");
    let archive_arg = archive.to_str().expect("a UTF-8 path");

    let report: Purged = stack
        .ecomm()
        .args("dlq purge analytics --order-id ord-123 --yes --wait 1 --archive")
        .arg(archive_arg)
        .json();

    assert_eq!(
        (report.deleted, report.failed, report.full_purge),
        (4, 0, false)
    );
    assert_eq!(report.archive.as_deref(), Some(archive_arg));
    let archived = read_archive(&archive);
    let archived_ids: BTreeSet<String> = archived.iter().map(|a| a.message_id.clone()).collect();
    assert_eq!(archived_ids, ord_123);
    for line in &archived {
        let sent = &seeded[&line.message_id];
        assert_eq!(line.body, sent.body, "body verbatim");
        assert_eq!(line.attributes, sent.attributes, "attributes verbatim");
    }
    let remaining: BTreeSet<String> = seeded
        .keys()
        .filter(|id| !ord_123.contains(*id))
        .cloned()
        .collect();
    assert_eq!(dlq.ids().await, remaining);

    // Named, a message in no known format is purged too, its Binary attribute archived as is.
    let single = dir.path().join("single.ndjson");
    let single_arg = single.to_str().expect("a UTF-8 path");
    let report: Purged = stack
        .ecomm()
        .args("dlq purge analytics --yes --wait 1 --message-id")
        .arg(&binary_id)
        .args("--archive")
        .arg(single_arg)
        .json();
    assert_eq!((report.deleted, report.failed), (1, 0));
    let archived = read_archive(&single);
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0].body, seeded[&binary_id].body);
    assert_eq!(archived[0].attributes, seeded[&binary_id].attributes);
    dlq.assert_all_visible(3).await;
}

#[tokio::test]
async fn purge_without_filters_empties_the_queue_once_a_minute_and_never_without_confirmation() {
    let stack = Stack::deploy(&[("analytics", Wiring::Both), ("inventory", Wiring::Both)]).await;
    let events = [
        order_created("ord-1", "c"),
        out_of_stock("ord-2", "c"),
        order_created("ord-3", "c"),
    ];
    stack.dlq("analytics").seed_in_turn(&events).await;
    let dlq = stack.dlq("analytics");

    // Without filters or archive: PurgeQueue, allowed once per 60 s.
    let report: Purged = stack.ecomm().args("dlq purge analytics --yes").json();
    assert!(report.full_purge);
    assert_eq!(report.deleted, 3);
    dlq.assert_all_visible(0).await;
    let again = stack
        .ecomm()
        .args("dlq purge analytics --yes")
        .code(1)
        .stderr();
    assert!(again.contains("60 s"), "{again}");

    // No terminal to confirm on, no --yes: a usage error, nothing deleted.
    let kept: BTreeSet<String> = stack
        .dlq("inventory")
        .seed_in_turn(&events)
        .await
        .into_iter()
        .collect();
    for filters in [&[][..], &["--order-id", "ord-1"][..]] {
        let stderr = stack
            .ecomm()
            .args("dlq purge inventory --wait 1")
            .each(filters)
            .code(2)
            .stderr();
        assert!(stderr.contains("--yes"), "{filters:?}: {stderr}");
    }
    let inventory = stack.dlq("inventory");
    assert_eq!(inventory.ids().await, kept);
    inventory.assert_all_visible(3).await;
}

#[tokio::test]
async fn a_redrive_killed_mid_run_and_run_again_loses_nothing() {
    let stack = Stack::deploy(&[("notification", Wiring::Both)]).await;
    let recorder = LambdaRecorder::start(&stack.endpoint);
    let function = stack.consumer_of("notification").function.clone();
    let mut seeded = BTreeSet::new();
    for i in 0..30 {
        let event = order_created(&format!("ord-{i}"), "corr-kill");
        seeded.insert(event_id(&event));
        stack
            .dlq("notification")
            .seed_target_failure(&event, "THROTTLING")
            .await;
    }
    let redrive = stack
        .ecomm_at(recorder.endpoint())
        .args("--output json redrive --target notification --rate 5 --concurrency 1")
        .args("--visibility-timeout 2 --wait 1")
        .process();
    let first_run = recorder.kill_after(redrive, &function, 3).await;
    let killed_at = Instant::now();
    assert!(
        (3..30).contains(&first_run.len()),
        "killed mid-run: {} delivered",
        first_run.len()
    );

    // What the killed run held reappears when its visibility timeout (2 s) ends.
    tokio::time::sleep(
        (killed_at + Duration::from_secs(3)).saturating_duration_since(Instant::now()),
    )
    .await;
    let report: RedriveReport = stack
        .ecomm_at(recorder.endpoint())
        .each(["redrive", "--target", "notification", "--wait", "1"])
        .code(0)
        .json();

    assert_eq!((report.failed, report.skipped), (0, 0), "{report:?}");
    recorder.assert_each_delivered_once_but_for(&function, &seeded, &first_run);
    let dlq = stack.dlq("notification");
    assert!(dlq.ids().await.is_empty());
    dlq.assert_all_visible(0).await;
}

#[tokio::test]
async fn errors_say_what_to_fix_with_the_documented_exit_codes() {
    let stack = Stack::deploy(&[
        ("inventory", Wiring::Both),
        ("fraud-check", Wiring::Unwired),
    ])
    .await;

    let stderr = stack
        .ecomm_on_bus("no-such-bus")
        .args("dlq ls")
        .code(1)
        .stderr();
    assert!(stderr.contains("\"no-such-bus\" not found"), "{stderr}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let closed_endpoint = format!("http://{}", closed.local_addr().expect("an address"));
    drop(closed);
    let stderr = stack
        .ecomm_at(&closed_endpoint)
        .args("dlq ls")
        .code(1)
        .stderr();
    assert!(
        stderr.contains("cannot reach") && stderr.contains("Connection refused"),
        "{stderr}"
    );
    assert!(
        stderr.lines().count() <= 3,
        "short and to the point: {stderr}"
    );

    // An endpoint that takes the request and never answers: the read timeout ends the wait.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let silent_endpoint = format!("http://{}", silent.local_addr().expect("an address"));
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().collect();
        drop(held);
    });
    let stderr = stack
        .ecomm_at(&silent_endpoint)
        .args("--read-timeout 1s dlq ls")
        .code(1)
        .stderr();
    assert!(
        stderr.contains("no answer in time") && stderr.contains("--read-timeout"),
        "{stderr}"
    );

    for line in ["dlq show nope --wait 1", "redrive --target nope"] {
        let stderr = stack.ecomm().args(line).code(1).stderr();
        assert!(
            stderr.contains("\"nope\"")
                && stderr.contains("inventory")
                && stderr.contains("fraud-check"),
            "{line}: {stderr}"
        );
    }

    let unwired = stack.ecomm().args("dlq show fraud-check").code(1).stderr();
    assert!(unwired.contains("no DLQ"), "{unwired}");

    let home = tempfile::tempdir().expect("an empty HOME");
    let without = |args: &str| {
        Ecomm::bare()
            .env("HOME", home.path())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .args("--env aws --endpoint-url")
            .arg(&stack.endpoint)
            .args("--bus")
            .arg(&stack.bus)
            .args(args)
            .args("dlq ls")
            .code(1)
    };
    let no_credentials = without("--region us-east-1").stderr();
    assert!(
        no_credentials.contains("no usable AWS credentials"),
        "{no_credentials}"
    );
    let no_region = without("")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .stderr();
    assert!(no_region.contains("no AWS region"), "{no_region}");

    let no_bus = Ecomm::bare()
        .args("--env aws --region us-east-1 dlq ls")
        .code(2)
        .stderr();
    assert!(no_bus.contains("--bus"), "{no_bus}");
}

/// Start `ecomm --output json ARGS` against moto, wait until it holds all `held` messages of
/// the notification DLQ (its last, long-poll receive is then under way), press Ctrl-C, and
/// return its exit code and JSON answer.
async fn interrupted_while_holding(stack: &Stack, args: &[&str], held: u64) -> (i32, Value) {
    let queue = stack.dlq("notification");
    let child = stack
        .ecomm()
        .args("--output json")
        .each(args)
        // A long poll pending at Ctrl-C is waited for (it could take the released messages
        // otherwise): 5 s keeps the command running until the signal, and the test short.
        .args("--wait 5 --visibility-timeout 600")
        .process()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start ecomm");
    let deadline = Instant::now() + Duration::from_secs(20);
    while queue.depth().await != (0, held) {
        assert!(
            Instant::now() < deadline,
            "ecomm never held all {held} messages"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    crate::support::interrupt(&child);
    let out = child.wait_with_output().expect("ecomm ends after Ctrl-C");
    let answer = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON after Ctrl-C ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code().expect("an exit code, not a signal"),
        answer,
    )
}

#[tokio::test]
async fn ctrl_c_during_show_export_or_purge_ends_with_exit_3_and_every_message_visible_again() {
    let stack = Stack::deploy(&[("notification", Wiring::Both)]).await;
    for i in 0..5 {
        let event = order_created(&format!("ord-c{i}"), "corr-ctrl-c");
        stack
            .dlq("notification")
            .seed_target_failure(&event, "THROTTLING")
            .await;
    }
    let queue = stack.dlq("notification");

    let (code, shown) =
        interrupted_while_holding(&stack, &["dlq", "show", "notification"], 5).await;
    assert_eq!(code, 3, "{shown}");
    assert_eq!(shown["interrupted"], true, "{shown}");
    assert_eq!(shown["complete"], false, "{shown}");
    assert_eq!(
        shown["messages"].as_array().map(Vec::len),
        Some(5),
        "{shown}"
    );
    // Released at once, not after the 600 s visibility timeout.
    queue.assert_all_visible(5).await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.ndjson");
    let file_arg = file.to_str().unwrap();
    let (code, exported) = interrupted_while_holding(
        &stack,
        &["dlq", "export", "notification", "--file", file_arg],
        5,
    )
    .await;
    assert_eq!(
        (code, &exported["interrupted"]),
        (3, &Value::Bool(true)),
        "{exported}"
    );
    queue.assert_all_visible(5).await;

    let (code, purged) = interrupted_while_holding(
        &stack,
        &[
            "dlq",
            "purge",
            "notification",
            "--error-code",
            "THROTTLING",
            "--yes",
        ],
        5,
    )
    .await;
    assert_eq!(code, 3, "{purged}");
    assert_eq!(purged["interrupted"], true, "{purged}");
    assert_eq!(purged["deleted"], 0, "{purged}");
    queue.assert_all_visible(5).await;
}

#[tokio::test]
async fn a_dlq_deleted_from_under_its_target_is_a_finding_of_ls_and_a_clear_error_to_act_on() {
    let stack = Stack::deploy(&[("inventory", Wiring::Both), ("notification", Wiring::Both)]).await;
    stack
        .sqs
        .delete_queue()
        .queue_url(&stack.dlq("inventory").url)
        .send()
        .await
        .expect("delete the DLQ");

    // SQS answers QueueDoesNotExist: ls lists the consumer, says so, and still succeeds.
    let rows: Vec<LsRow> = stack.ecomm().args("dlq ls").json();
    let inventory = rows.iter().find(|r| r.target == "inventory").unwrap();
    assert_eq!((inventory.dlq.as_deref(), inventory.visible), (None, None));
    assert!(
        inventory
            .findings
            .iter()
            .any(|f| f.contains("does not exist") && f.contains(&stack.dlq("inventory").arn)),
        "{inventory:?}"
    );
    let notification = rows.iter().find(|r| r.target == "notification").unwrap();
    assert_eq!(notification.visible, Some(0), "{notification:?}");

    let stderr = stack
        .ecomm()
        .args("dlq show inventory --wait 1")
        .code(1)
        .stderr();
    assert!(stderr.contains("consumer inventory has no DLQ"), "{stderr}");
}
