//! A consumer whose function errors go to Lambda's S3 on-failure destination: its records are
//! read with its DLQ by every command, against moto's S3 on loopback.
//!
//! Each test wires a bucket as Terraform does for `"onFailure": "s3"` (the target DLQ stays,
//! for delivery failures), puts records where Lambda writes them, runs the binary, and checks
//! the bucket and the queue with the SDK.

use std::collections::{BTreeMap, BTreeSet};

use ecomm_events::DlqMessage;

use crate::support::{
    FailureBucket, LambdaRecorder, LsRow, Purged, RedriveReport, Shown, Stack, Wiring, by_event_id,
    event_id, order_created, read_archive,
};

/// inventory's DLQ with one delivery failure of ord-1 in the queue, and a record each of ord-1,
/// ord-2 and ord-3 in its bucket.
struct Seeded {
    bucket: FailureBucket,
    queued: String,
    /// By order: the record's key and body.
    records: BTreeMap<&'static str, (String, DlqMessage)>,
}

impl Seeded {
    async fn on(stack: &Stack) -> Self {
        let bucket = stack.failure_bucket("inventory").await;
        let dlq = stack.dlq("inventory");
        let queued = dlq
            .seed_target_failure(&order_created("ord-1", "corr-1"), "THROTTLING")
            .await;
        let mut records = BTreeMap::new();
        for order in ["ord-1", "ord-2", "ord-3"] {
            let record = dlq.destination_record(&order_created(order, "corr-1"), "Timeout");
            records.insert(order, (bucket.seed(&record).await, record));
        }
        Self {
            bucket,
            queued,
            records,
        }
    }

    fn key(&self, order: &str) -> String {
        self.records[order].0.clone()
    }

    fn keys(&self) -> BTreeSet<String> {
        self.records.values().map(|(k, _)| k.clone()).collect()
    }
}

#[tokio::test]
async fn records_in_a_bucket_are_listed_shown_and_exported_with_the_dlq() {
    let stack = Stack::deploy(&[("inventory", Wiring::Both), ("analytics", Wiring::Both)]).await;
    let seeded = Seeded::on(&stack).await;
    let (bucket, queued, records) = (&seeded.bucket, &seeded.queued, &seeded.records);
    let key = |order: &str| seeded.key(order);
    let all_keys = seeded.keys();
    let dlq = stack.dlq("inventory");

    let rows: Vec<LsRow> = stack.ecomm().args("dlq ls").json();
    let row = rows.iter().find(|r| r.target == "inventory").unwrap();
    assert_eq!(row.failure_bucket.as_deref(), Some(bucket.url().as_str()));
    assert_eq!(
        (row.failure_objects, row.visible, row.in_flight),
        (Some(3), Some(4), Some(0)),
        "the records are counted with the queue's message"
    );
    assert!(row.oldest_object.is_some_and(|t| t <= chrono::Utc::now()));
    assert_eq!(row.function_errors_wired, Some(true), "ecomm reads them");
    assert!(row.findings.is_empty(), "{:?}", row.findings);

    let table = stack.ecomm().args("dlq ls").columns(80).stdout();
    assert!(
        table.contains("inventory: 3 function error record(s) in S3, oldest ")
            && table.contains(&format!("  {} (counted in visible)\n", bucket.url())),
        "{table}"
    );

    let shown: Shown = stack.ecomm().args("dlq show inventory --wait 1").json();
    assert_eq!(shown.bucket.as_deref(), Some(bucket.url().as_str()));
    assert_eq!(shown.ids(), &all_keys | &BTreeSet::from([queued.clone()]));
    let record = shown
        .messages
        .iter()
        .find(|m| m.message_id == key("ord-2"))
        .unwrap();
    assert_eq!(
        (record.kind.as_str(), record.error_code.as_deref()),
        ("lambda-destination", Some("Timeout"))
    );
    assert_eq!(record.order_id.as_deref(), Some("ord-2"));
    let ord_1: Shown = stack
        .ecomm()
        .args("dlq show inventory --order-id ord-1 --wait 1")
        .json();
    assert_eq!(
        ord_1.ids(),
        BTreeSet::from([queued.clone(), key("ord-1")]),
        "filters select records as they select messages"
    );
    let table = stack
        .ecomm()
        .args("dlq show inventory --wait 1")
        .columns(200)
        .stdout();
    let rows: Vec<&str> = table.lines().filter(|l| l.contains('┆')).collect();
    assert!(
        table.contains(&format!(
            "with the function errors' records in {}",
            bucket.url()
        )) && rows.iter().filter(|r| r.contains("record-")).count() == 3
            && rows.iter().all(|r| !r.contains("aws/lambda/async/")),
        "a record is named by its key's last part: {table}"
    );
    assert_eq!(bucket.keys().await, all_keys, "reading deletes nothing");
    dlq.assert_all_visible(1).await;

    let exported: Vec<crate::support::Archived> =
        stack.ecomm().args("dlq export inventory --wait 1").ndjson();
    let bodies: BTreeMap<String, String> = exported
        .into_iter()
        .map(|e| (e.message_id, e.body))
        .collect();
    for (order, (key, record)) in records {
        assert_eq!(bodies[key], record.body, "{order}'s record verbatim");
        assert_eq!(bucket.body(key).await, record.body);
    }
}

#[tokio::test]
async fn records_in_a_bucket_are_purged_with_the_dlq_after_their_archive() {
    let stack = Stack::deploy(&[("inventory", Wiring::Both)]).await;
    let seeded = Seeded::on(&stack).await;
    let (bucket, records) = (&seeded.bucket, &seeded.records);
    let key = |order: &str| seeded.key(order);
    let dlq = stack.dlq("inventory");

    let dir = tempfile::tempdir().expect("a temporary directory");
    let archive = dir.path().join("ord-2.ndjson");
    let purged: Purged = stack
        .ecomm()
        .args("dlq purge inventory --order-id ord-2 --yes --wait 1 --archive")
        .arg(&archive)
        .json();
    assert_eq!((purged.deleted, purged.failed), (1, 0));
    assert_eq!(purged.bucket.as_deref(), Some(bucket.url().as_str()));
    let archived = read_archive(&archive);
    assert_eq!(archived.len(), 1);
    assert_eq!(
        (&archived[0].message_id, &archived[0].body),
        (&key("ord-2"), &records["ord-2"].1.body),
        "archived verbatim before it was deleted"
    );
    assert_eq!(
        bucket.keys().await,
        BTreeSet::from([key("ord-1"), key("ord-3")])
    );
    dlq.assert_all_visible(1).await;

    let purged: Purged = stack
        .ecomm()
        .args("dlq purge inventory --yes --wait 1")
        .json();
    assert!(purged.full_purge);
    assert!(
        bucket.keys().await.is_empty(),
        "records purged with the queue"
    );
    dlq.assert_all_visible(0).await;
}

#[tokio::test]
async fn a_redrive_of_records_deletes_exactly_the_objects_whose_invocation_was_accepted() {
    let stack = Stack::deploy(&[("inventory", Wiring::Both)]).await;
    let recorder = LambdaRecorder::start(&stack.endpoint);
    let function = stack.consumer_of("inventory").function.clone();
    let bucket = stack.failure_bucket("inventory").await;
    let dlq = stack.dlq("inventory");
    let mut keys = BTreeMap::new();
    let mut events = Vec::new();
    for i in 0..6 {
        let event = order_created(&format!("ord-{i}"), "corr-s3");
        let record = dlq.destination_record(&event, "Timeout");
        keys.insert(format!("ord-{i}"), bucket.seed(&record).await);
        events.push(event);
    }
    // ord-3's payload is refused by Lambda as too large: not retried, its record stays.
    recorder.refuse_containing("\"ord-3\"");
    let redrive = |extra: &[&str], code: i32| -> RedriveReport {
        let mut args = vec!["redrive", "--target", "inventory", "--wait", "1"];
        args.extend_from_slice(extra);
        stack
            .ecomm_at(recorder.endpoint())
            .each(&args)
            .code(code)
            .json()
    };

    let report = redrive(&[], 3);
    assert_eq!((report.redriven, report.failed), (5, 1), "{report:?}");
    assert!(
        report.reasons()[&keys["ord-3"]].contains("RequestTooLargeException"),
        "{report:?}"
    );
    assert_eq!(
        bucket.keys().await,
        BTreeSet::from([keys["ord-3"].clone()]),
        "exactly the delivered records are deleted"
    );
    let delivered = recorder.delivered_to(&function);
    assert_eq!(
        by_event_id(delivered.into_iter().map(|i| i.payload)),
        by_event_id(
            events
                .iter()
                .filter(|e| e["detail"]["order"]["orderId"] != "ord-3")
                .cloned()
        ),
        "each record's event, as the function first received it, once"
    );

    // Accepted now: --keep delivers it and leaves its record where it is; then a run deletes it.
    recorder.refuse_none();
    let kept = redrive(&["--keep"], 0);
    assert_eq!((kept.copied, kept.redriven), (1, 0), "{kept:?}");
    assert_eq!(bucket.keys().await, BTreeSet::from([keys["ord-3"].clone()]));
    let last = redrive(&[], 0);
    assert_eq!(last.redriven, 1, "{last:?}");
    assert!(bucket.keys().await.is_empty());
    // It fails again, and Lambda writes a new record: the loop guard holds it back.
    let again = bucket
        .seed(&dlq.destination_record(&events[3], "Timeout"))
        .await;
    let guarded = redrive(&["--max-redrives", "1"], 3);
    assert_eq!((guarded.skipped, guarded.redriven), (1, 0), "{guarded:?}");
    assert!(
        guarded.reasons()[&again].contains("redriven 1 times"),
        "{guarded:?}"
    );
    assert_eq!(bucket.keys().await, BTreeSet::from([again]));
    let ord_3 = event_id(&events[3]);
    assert_eq!(
        recorder
            .delivered_to(&function)
            .iter()
            .filter(|i| event_id(&i.payload) == ord_3)
            .count(),
        2,
        "the copy and the redrive"
    );
    dlq.assert_all_visible(0).await;
}

#[tokio::test]
async fn a_redrive_of_records_killed_mid_run_and_run_again_loses_none() {
    let stack = Stack::deploy(&[("notification", Wiring::Both)]).await;
    let recorder = LambdaRecorder::start(&stack.endpoint);
    let function = stack.consumer_of("notification").function.clone();
    let bucket = stack.failure_bucket("notification").await;
    let mut seeded = BTreeSet::new();
    for i in 0..30 {
        let event = order_created(&format!("ord-{i}"), "corr-kill");
        seeded.insert(event_id(&event));
        let record = stack
            .dlq("notification")
            .destination_record(&event, "Timeout");
        bucket.seed(&record).await;
    }
    let redrive = stack
        .ecomm_at(recorder.endpoint())
        .args("--output json redrive --target notification --rate 5 --concurrency 1 --wait 1")
        .process();
    let first_run = recorder.kill_after(redrive, &function, 3).await;
    let left = bucket.keys().await.len();
    assert!(
        (3..30).contains(&first_run.len()) && left + first_run.len() >= 30,
        "killed mid-run: {} delivered, {left} records left",
        first_run.len()
    );

    // No visibility timeout to wait for: S3 holds nothing for a process that is gone.
    let report: RedriveReport = stack
        .ecomm_at(recorder.endpoint())
        .each(["redrive", "--target", "notification", "--wait", "1"])
        .code(0)
        .json();
    assert_eq!((report.failed, report.skipped), (0, 0), "{report:?}");
    recorder.assert_each_delivered_once_but_for(&function, &seeded, &first_run);
    assert!(bucket.keys().await.is_empty());
}
