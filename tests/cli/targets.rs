//! `ecomm redrive --via target` to every target type, against moto on loopback: what reached
//! the target is read back with the SDK (the queue, the topic's subscribed queue, the state
//! machine's executions, the recorded invokes), and so is what is left in the DLQ.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_eventbridge::types::InputTransformer;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde_json::{Value, json};

use crate::support::{
    Direct, FaultMix, FaultyProxy, JournalLine, LambdaRecorder, Queue, RedriveReport, Stack,
    Wiring, event_id, order_created, sdk_config,
};

fn redrive(stack: &Stack, target: &str, extra: &[&str], code: i32) -> RedriveReport {
    let mut args = vec!["redrive", "--target", target, "--wait", "1"];
    args.extend_from_slice(extra);
    stack.ecomm().each(&args).code(code).json()
}

fn events(n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| order_created(&format!("ord-{i}"), "corr"))
        .collect()
}

/// The bodies of a queue as JSON, keyed by `metadata.eventId`, with each message's system
/// attributes (`MessageGroupId`, `MessageDeduplicationId`).
async fn received(
    stack: &Stack,
    queue: &Queue,
) -> BTreeMap<String, (Value, BTreeMap<String, String>)> {
    let mut out = BTreeMap::new();
    loop {
        let messages = stack
            .sqs
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive from the target")
            .messages
            .unwrap_or_default();
        if messages.is_empty() {
            return out;
        }
        for message in messages {
            let body: Value =
                serde_json::from_str(message.body().unwrap_or_default()).expect("a JSON body");
            let key = body["detail"]["metadata"]["eventId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let attributes = message
                .attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            stack
                .sqs
                .delete_message()
                .queue_url(&queue.url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete what was read");
            assert!(
                out.insert(key.clone(), (body, attributes)).is_none(),
                "{key} twice"
            );
        }
    }
}

fn by_id(events: &[Value]) -> BTreeMap<String, Value> {
    events.iter().map(|e| (event_id(e), e.clone())).collect()
}

#[tokio::test]
async fn a_standard_and_a_fifo_queue_target_get_each_event_once_the_fifo_one_in_the_targets_group()
{
    let mut stack = Stack::deploy(&[]).await;
    let plain = stack.deploy_target("audit", Direct::Queue, None).await;
    let fifo = stack
        .deploy_target("ledger", Direct::FifoQueue("orders"), None)
        .await;
    let sent = events(12);
    for (target, sink) in [("audit", &plain), ("ledger", &fifo)] {
        for event in &sent {
            stack
                .dlq(target)
                .seed_target_failure(event, "THROTTLING")
                .await;
        }
        let report = redrive(&stack, target, &[], 0);
        assert_eq!((report.redriven, report.failed), (12, 0), "{report:?}");
        assert_eq!(report.via, "target");
        let got = received(&stack, sink.queue.as_ref().expect("a queue")).await;
        assert_eq!(
            got.iter()
                .map(|(k, (body, _))| (k.clone(), body.clone()))
                .collect::<BTreeMap<_, _>>(),
            by_id(&sent),
            "{target}: each original event, unchanged, once"
        );
        if target == "ledger" {
            for (id, (_, attributes)) in &got {
                assert_eq!(
                    attributes.get("MessageGroupId").map(String::as_str),
                    Some("orders")
                );
                assert_eq!(attributes.get("MessageDeduplicationId"), Some(id));
            }
        }
        assert!(stack.dlq(target).ids().await.is_empty());
    }
}

#[tokio::test]
async fn an_sns_topic_target_publishes_each_event_to_its_subscribers() {
    let mut stack = Stack::deploy(&[]).await;
    let sink = stack.deploy_target("fanout", Direct::Topic, None).await;
    let sent = events(13);
    for event in &sent {
        stack
            .dlq("fanout")
            .seed_target_failure(event, "THROTTLING")
            .await;
    }
    let report = redrive(&stack, "fanout", &[], 0);
    assert_eq!(report.redriven, 13, "{report:?}");
    let got = received(&stack, sink.queue.as_ref().expect("the subscription")).await;
    assert_eq!(
        got.into_iter()
            .map(|(k, (body, _))| (k, body))
            .collect::<BTreeMap<_, _>>(),
        by_id(&sent)
    );
    assert!(stack.dlq("fanout").ids().await.is_empty());
}

#[tokio::test]
async fn a_state_machine_target_starts_one_execution_per_event_named_after_it_and_a_replay_starts_none()
 {
    let mut stack = Stack::deploy(&[]).await;
    let sink = stack
        .deploy_target("workflow", Direct::StateMachine, None)
        .await;
    let machine = sink.state_machine.expect("a state machine");
    let sent = events(3);
    for event in &sent {
        stack
            .dlq("workflow")
            .seed_target_failure(event, "THROTTLING")
            .await;
    }
    assert_eq!(redrive(&stack, "workflow", &[], 0).redriven, 3);
    // The same event failing again and replayed again: its execution exists, nothing new starts.
    stack
        .dlq("workflow")
        .seed_target_failure(&sent[0], "THROTTLING")
        .await;
    assert_eq!(redrive(&stack, "workflow", &[], 0).redriven, 1);

    let sfn = aws_sdk_sfn::Client::new(&sdk_config(&stack.endpoint).await);
    let executions = sfn
        .list_executions()
        .state_machine_arn(&machine)
        .send()
        .await
        .expect("list the executions")
        .executions;
    let names: BTreeSet<String> = executions.iter().map(|e| e.name.clone()).collect();
    let expected: BTreeSet<String> = sent
        .iter()
        .map(|e| format!("redrive-{}", event_id(e)))
        .collect();
    assert_eq!(names, expected);
    assert_eq!(executions.len(), 3);
    for execution in &executions {
        let input = sfn
            .describe_execution()
            .execution_arn(&execution.execution_arn)
            .send()
            .await
            .expect("describe the execution")
            .input
            .expect("an input");
        let input: Value = serde_json::from_str(&input).expect("JSON input");
        assert_eq!(format!("redrive-{}", event_id(&input)), execution.name);
    }
    assert!(stack.dlq("workflow").ids().await.is_empty());
}

#[tokio::test]
async fn a_target_type_ecomm_cannot_reach_is_refused_before_any_message_is_touched() {
    let mut stack = Stack::deploy(&[]).await;
    stack.deploy_target("clicks", Direct::Stream, None).await;
    stack
        .dlq("clicks")
        .seed_target_failure(&order_created("ord-1", "c"), "THROTTLING")
        .await;
    let refused = stack
        .ecomm()
        .each(["redrive", "--target", "clicks"])
        .code(2)
        .stderr();
    assert!(
        refused.contains("kinesis") && refused.contains("--via bus"),
        "{refused}"
    );
    stack.dlq("clicks").assert_all_visible(1).await;
}

fn order_transformer() -> InputTransformer {
    InputTransformer::builder()
        .input_paths_map("order", "$.detail.order.orderId")
        .input_paths_map("event", "$.detail.metadata.eventId")
        .input_paths_map("detail", "$.detail")
        .input_template(
            r#"{"orderId": <order>, "note": "order <order> (<aws.events.rule-name>)", "eventId": <event>, "detail": <detail>}"#,
        )
        .build()
        .expect("a complete transformer")
}

#[tokio::test]
async fn a_transforming_lambda_target_gets_the_transformed_event_and_its_on_failure_records_as_they_were()
 {
    // Unrouted: moto's PutEvents fails as a whole when a matching rule targets a function.
    let stack = Stack::deploy_unrouted(&[("notification", Wiring::Both)]).await;
    stack
        .transform_input("notification", order_transformer())
        .await;
    let recorder = LambdaRecorder::start(&stack.endpoint);
    let consumer = stack.consumer_of("notification").clone();
    let event = order_created("ord-1", "corr");
    let dlq = stack.dlq("notification");
    // What the function received, already transformed, as Lambda records it on failure.
    let received = json!({"orderId": "ord-2", "note": "order ord-2", "eventId": "e-2"});
    let record = dlq.seed_destination_record(&received, "MailerDown").await;

    // Through the bus, the transformed payload would be published as if it were an event.
    let report: RedriveReport = stack
        .ecomm_at(recorder.endpoint())
        .each([
            "redrive",
            "--target",
            "notification",
            "--via",
            "bus",
            "--wait",
            "1",
        ])
        .code(3)
        .json();
    assert_eq!((report.redriven, report.skipped), (0, 1), "{report:?}");
    let reason = &report.reasons()[&record];
    assert!(
        reason.contains("InputTransformer") && reason.contains("--via target"),
        "{reason}"
    );
    dlq.assert_all_visible(1).await;

    dlq.seed_target_failure(&event, "THROTTLING").await;
    let report: RedriveReport = stack
        .ecomm_at(recorder.endpoint())
        .each(["redrive", "--target", "notification", "--wait", "1"])
        .code(0)
        .json();
    assert_eq!(report.redriven, 2, "{report:?}");
    let mut payloads: Vec<Value> = recorder
        .delivered_to(&consumer.function)
        .into_iter()
        .map(|i| i.payload)
        .collect();
    payloads.sort_by_key(|p| p["orderId"].as_str().unwrap_or_default().to_owned());
    let rule = consumer.function.clone();
    assert_eq!(
        payloads,
        [
            json!({
                "orderId": "ord-1",
                "note": format!("order ord-1 ({rule})"),
                "eventId": event_id(&event),
                "detail": event["detail"],
            }),
            received,
        ]
    );
    assert!(dlq.ids().await.is_empty());
}

#[tokio::test]
async fn keep_copies_and_leaves_the_dlq_as_it_was_and_the_journal_says_copied() {
    let mut stack = Stack::deploy(&[]).await;
    let sink = stack.deploy_target("audit", Direct::Queue, None).await;
    let sent = events(4);
    for event in &sent {
        stack
            .dlq("audit")
            .seed_target_failure(event, "THROTTLING")
            .await;
    }
    let before = stack.dlq("audit").ids().await;
    let report = redrive(&stack, "audit", &["--keep"], 0);
    assert!(report.keep);
    assert_eq!((report.copied, report.redriven), (4, 0), "{report:?}");
    assert_eq!(
        received(&stack, sink.queue.as_ref().expect("a queue"))
            .await
            .len(),
        4
    );
    stack.dlq("audit").assert_all_visible(4).await;
    assert_eq!(stack.dlq("audit").ids().await, before);
    assert_eq!(stack.journal_outcomes().get("copied"), Some(&before));
    assert!(!stack.journal_outcomes().contains_key("redriven"));
}

#[tokio::test]
async fn the_loop_guard_skips_an_event_redriven_max_redrives_times_unless_forced() {
    let mut stack = Stack::deploy(&[]).await;
    let sink = stack.deploy_target("audit", Direct::Queue, None).await;
    let queue = sink.queue.expect("a queue");
    let poison = order_created("ord-1", "corr");
    for _ in 0..2 {
        stack
            .dlq("audit")
            .seed_target_failure(&poison, "THROTTLING")
            .await;
        assert_eq!(
            redrive(&stack, "audit", &["--max-redrives", "2"], 0).redriven,
            1
        );
    }
    // Back a third time: the journal shows two redrives already.
    let again = stack
        .dlq("audit")
        .seed_target_failure(&poison, "THROTTLING")
        .await;
    let report = redrive(&stack, "audit", &["--max-redrives", "2"], 3);
    assert_eq!((report.redriven, report.skipped), (0, 1), "{report:?}");
    assert!(
        report.reasons()[&again].contains("redriven 2 times; failing again"),
        "{report:?}"
    );
    assert_eq!(
        stack.dlq("audit").ids().await,
        BTreeSet::from([again.clone()])
    );
    let report = redrive(&stack, "audit", &["--max-redrives", "2", "--force"], 0);
    assert_eq!(report.redriven, 1, "{report:?}");
    assert_eq!(
        stack.take_all(&queue).await.len(),
        3,
        "one delivery per run that was not skipped"
    );
}

#[tokio::test]
async fn transform_mends_a_poison_v3_event_into_v2_and_a_wrong_mend_is_skipped() {
    let mut stack = Stack::deploy(&[]).await;
    let sink = stack.deploy_target("audit", Direct::Queue, None).await;
    let mut poison = order_created("ord-1", "corr");
    poison["detail"]["eventVersion"] = json!("3.0");
    let original = stack
        .dlq("audit")
        .seed_target_failure(&poison, "UnsupportedEventVersion")
        .await;
    let mend = r#".detail.eventVersion = "2.0""#;

    let dry = redrive(&stack, "audit", &["--transform", mend, "--dry-run"], 0);
    assert_eq!(dry.would(), std::slice::from_ref(&original));
    let changes = &dry.transform_preview[0].changes;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].path, "/detail/eventVersion");
    assert_eq!(changes[0].before, Some(json!("3.0")));
    assert_eq!(changes[0].after, Some(json!("2.0")));

    let wrong = redrive(
        &stack,
        "audit",
        &["--transform", r#".detail.eventVersion = "9.0""#],
        3,
    );
    assert_eq!((wrong.redriven, wrong.skipped), (0, 1), "{wrong:?}");
    assert!(wrong.reasons()[&original].contains("contract"), "{wrong:?}");
    stack.dlq("audit").assert_all_visible(1).await;

    let report = redrive(&stack, "audit", &["--transform", mend], 0);
    assert_eq!(report.redriven, 1, "{report:?}");
    let got = received(&stack, sink.queue.as_ref().expect("a queue")).await;
    let (body, _) = &got[&event_id(&poison)];
    let mut expected = poison.clone();
    expected["detail"]["eventVersion"] = json!("2.0");
    assert_eq!(body, &expected);
    assert!(stack.dlq("audit").ids().await.is_empty());

    let journal = std::fs::read_to_string(stack.journal()).expect("the journal");
    let delivered = journal
        .lines()
        .map(|l| serde_json::from_str::<JournalLine>(l).expect("a journal line"))
        .find_map(|l| match l {
            JournalLine::Message {
                outcome,
                original,
                transformed,
                ..
            } if outcome == "delivered" => Some((original, transformed)),
            _ => None,
        })
        .expect("a delivered line");
    let (kept, mended) = delivered;
    let kept: Value = serde_json::from_str(&kept.expect("the original body")).expect("JSON");
    assert_eq!(kept, poison);
    assert_eq!(mended, Some(expected));
}

#[tokio::test]
async fn entries_send_message_batch_fails_stay_in_the_dlq_and_only_those() {
    let mut stack = Stack::deploy(&[]).await;
    let sink = stack.deploy_target("audit", Direct::Queue, None).await;
    let sent = events(25);
    for event in &sent {
        stack
            .dlq("audit")
            .seed_target_failure(event, "THROTTLING")
            .await;
    }
    let proxy = FaultyProxy::start(&stack.endpoint, FaultMix::failed_sends());
    let report: RedriveReport = stack
        .ecomm_at(proxy.endpoint())
        .each(["redrive", "--target", "audit", "--wait", "1"])
        .code(3)
        .json();
    let failed = proxy.injected().failed_entries;
    assert!(failed > 0);
    assert_eq!(
        (report.redriven, report.failed),
        (25 - failed, failed),
        "{report:?}"
    );
    assert!(
        report
            .not_redriven
            .iter()
            .all(|n| n.reason.contains("InvalidMessageContents")),
        "{report:?}"
    );
    let delivered: BTreeSet<String> = received(&stack, sink.queue.as_ref().expect("a queue"))
        .await
        .into_keys()
        .collect();
    let left: BTreeSet<String> = stack
        .stored(&stack.dlq("audit"))
        .await
        .iter()
        .map(|m| {
            let body: Value = serde_json::from_str(&m.body).expect("an event");
            event_id(&body)
        })
        .collect();
    assert_eq!(left.len() as u64, failed);
    assert!(delivered.is_disjoint(&left));
    assert_eq!(&delivered | &left, by_id(&sent).into_keys().collect());
}

#[tokio::test]
async fn entries_publish_batch_fails_stay_in_the_dlq_and_only_those() {
    let mut stack = Stack::deploy(&[]).await;
    // Three copies of the event: past SNS's 256 KiB for an event with a large detail.
    let tripled = InputTransformer::builder()
        .input_template(
            r#"{"a": <aws.events.event.json>, "b": <aws.events.event.json>, "c": <aws.events.event.json>}"#,
        )
        .build()
        .expect("a complete transformer");
    let sink = stack
        .deploy_target("fanout", Direct::Topic, Some(tripled))
        .await;
    let small = events(6);
    let mut large = order_created("ord-big", "corr");
    large["detail"]["note"] = json!("x".repeat(100_000));
    for event in &small {
        stack
            .dlq("fanout")
            .seed_target_failure(event, "THROTTLING")
            .await;
    }
    let too_large = stack
        .dlq("fanout")
        .seed_target_failure(&large, "THROTTLING")
        .await;

    let report = redrive(&stack, "fanout", &[], 3);
    assert_eq!((report.redriven, report.failed), (6, 1), "{report:?}");
    assert!(
        report.reasons()[&too_large].contains("InvalidParameter"),
        "{report:?}"
    );
    assert_eq!(stack.dlq("fanout").ids().await, BTreeSet::from([too_large]));
    let published = stack
        .take_all(sink.queue.as_ref().expect("the subscription"))
        .await;
    let ids: BTreeSet<String> = published
        .iter()
        .map(|m| {
            let body: Value = serde_json::from_str(&m.body).expect("the transformed payload");
            assert_eq!(body["a"], body["c"]);
            event_id(&body["b"])
        })
        .collect();
    assert_eq!(ids, by_id(&small).into_keys().collect());
}
