//! Answers for the UI's tests, shaped like the local stack's after `ecomm demo`: the
//! notification DLQ holding orders whose mail could not be sent.

use chrono::{Duration, Utc};
use ecomm_events::{AttributeValue, DlqKind, MessageAttributes};

use crate::cli::Via;
use crate::report::dlq::{Coverage, DlqList, DlqRow, MessageView, ShowReport};
use crate::report::redrive::RedriveReport;
use crate::report::trace::TraceReport;

fn row(target: &str, visible: u64, wired: bool) -> DlqRow {
    DlqRow {
        target: target.to_owned(),
        account: None,
        account_name: None,
        unreachable: None,
        function: Some(format!("ecomm-local-{target}")),
        dlq: Some(format!("ecomm-local-{target}-dlq")),
        visible: Some(visible),
        in_flight: Some(0),
        oldest_sent: (visible > 0).then(|| Utc::now() - Duration::minutes(42)),
        delivery_failures_wired: wired,
        function_errors_wired: Some(true),
        reader: None,
        failure_bucket: None,
        failure_objects: None,
        oldest_object: None,
        findings: if wired {
            Vec::new()
        } else {
            vec!["its rule target has no dead-letter queue".to_owned()]
        },
    }
}

/// `dlq ls`: four consumers, one of them unwired.
pub(crate) fn overview() -> DlqList {
    DlqList {
        rows: vec![
            row("inventory", 1, true),
            row("notification", 3, true),
            row("analytics", 0, false),
            row("refund", 0, true),
        ],
    }
}

/// `dlq ls` across accounts: a central account's consumer, a tenant's forward, and an
/// account whose role could not be assumed.
pub(crate) fn accounts_overview() -> DlqList {
    let in_account = |target: &str, account: &str, name: Option<&str>, visible: u64| DlqRow {
        target: format!("{target}@{account}"),
        account: Some(account.to_owned()),
        account_name: name.map(str::to_owned),
        ..row(target, visible, true)
    };
    let mut refused = in_account("*", "333333333333", None, 0);
    refused.unreachable =
        Some("cannot assume arn:aws:iam::333333333333:role/ecomm-oncall".to_owned());
    refused.findings = vec![
        "account not read: cannot assume arn:aws:iam::333333333333:role/ecomm-oncall".to_owned(),
    ];
    (refused.visible, refused.in_flight, refused.oldest_sent) = (None, None, None);
    (refused.function, refused.dlq, refused.function_errors_wired) = (None, None, None);
    refused.delivery_failures_wired = false;
    // A bus target: no function, so no function errors to wire.
    let mut forward = in_account("forward", "111111111111", Some("acme"), 2);
    (forward.function, forward.function_errors_wired) = (None, None);
    DlqList {
        rows: vec![
            in_account("inventory", "000000000000", Some("platform"), 1),
            forward,
            refused,
        ],
    }
}

/// The SQS message id of fixture message `n`.
pub(crate) fn id(n: u32) -> String {
    format!("{:08x}-5f1c-4d2e-9a7b-3c6d8e0f{n:04}", 0x3f2a_9c00_u32 + n)
}

fn message(n: u32, error: &str, minutes: i64) -> MessageView {
    let mut attributes = MessageAttributes::new();
    attributes.insert(
        "ERROR_CODE".to_owned(),
        AttributeValue::string(error.to_owned()),
    );
    MessageView {
        message_id: id(n),
        sent_at: Some(Utc::now() - Duration::minutes(minutes)),
        receive_count: 1,
        kind: DlqKind::LambdaDestination,
        error_code: Some(error.to_owned()),
        error_message: Some(format!(
            "{error}: mail to jane.doe@example.com failed (injected outage)"
        )),
        attempts: Some(3),
        exhausted_condition: Some("RetriesExhausted".to_owned()),
        failed_arn: Some(
            "arn:aws:lambda:eu-west-1:000000000000:function:ecomm-local-notification".to_owned(),
        ),
        detail_type: Some("OrderCreated".to_owned()),
        event_version: Some("2.0".to_owned()),
        event_id: Some(format!("evt-{n}")),
        order_id: Some(format!("ord-0008{n}")),
        correlation_id: Some(format!("corr-{n}")),
        body: Some(format!(
            r#"{{"detail-type":"OrderCreated","detail":{{"orderId":"ord-0008{n}","customer":{{"email":"jane.doe@example.com"}}}}}}"#
        )),
        attributes: Some(attributes),
        delivery: None,
        bus_log: None,
    }
}

/// `dlq show notification --raw`: three messages, the newest with another error.
pub(crate) fn notification_dlq() -> ShowReport {
    ShowReport {
        queue: "ecomm-local-notification-dlq".to_owned(),
        bucket: None,
        messages: vec![
            message(1, "DependencyUnavailable", 50),
            message(2, "DependencyUnavailable", 40),
            message(3, "InvalidAddress", 30),
        ],
        coverage: Coverage {
            seen: 3,
            complete: true,
            ..Coverage::default()
        },
        notes: Vec::new(),
        raw: true,
        show_pii: false,
    }
}

/// `trace ord-00081` of an order nothing was found for.
pub(crate) fn empty_trace() -> TraceReport {
    TraceReport {
        query: "ord-00081".to_owned(),
        correlation_ids: Vec::new(),
        order_ids: vec!["ord-00081".to_owned()],
        events: Vec::new(),
        problems: Vec::new(),
        notes: Vec::new(),
        partial: false,
    }
}

/// `redrive --target notification`: `n` redriven.
pub(crate) fn redriven(n: u64) -> RedriveReport {
    RedriveReport {
        target: "notification".to_owned(),
        queue: "ecomm-local-notification-dlq".to_owned(),
        via: Via::Target,
        dry_run: false,
        keep: false,
        transform: None,
        redriven: n,
        copied: 0,
        delivered_not_deleted: 0,
        failed: 0,
        skipped: 0,
        not_selected: 1,
        left_in_queue: Some(1),
        not_redriven: Vec::new(),
        would_redrive: Vec::new(),
        transform_preview: Vec::new(),
        journal: "/tmp/redrive-journal.ndjson".to_owned(),
        interrupted: false,
        incomplete: None,
        error: None,
    }
}
