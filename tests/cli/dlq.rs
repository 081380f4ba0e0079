//! `ecomm dlq ls | show | export | purge` on the local stack after `ecomm demo` with the default
//! faults, plus `completions` and `man`. Every fact is read through the CLI itself: `dlq ls`
//! for the counters, `dlq show` and `dlq export` for the messages.

use std::collections::BTreeSet;
use std::path::Path;

use ecomm_events::{AttributeValue, MessageAttributes};
use serde_json::Value;

use crate::support::{
    Archived, Ecomm, Exported, Purged, ShownMessage, TARGETS, assert_all_visible,
    assert_session_snapshot, demo_state, depth, dlq_ids, export, ids, ls, recent_demo_state,
    send_to_dlq, show,
};

/// The lines of an NDJSON file (an archive, an export).
fn archived(path: &Path) -> Vec<Archived> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The age cells of `dlq show` (a few seconds or minutes), as wide as the column.
const AGE: (&str, &str) = (r"┆ \d{1,2}[sm] *┆", "┆ age ┆");

#[test]
fn ls_lists_every_consumer_with_its_failure_paths_and_the_depths_show_reads() {
    let (_dir, state) = demo_state();
    let rows = ls(&state);
    let targets: Vec<&str> = rows.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, TARGETS);
    for row in &rows {
        let target = row.target.as_str();
        // The audit consumer's target is a queue: it has no function, and only EventBridge's
        // delivery can fail.
        let function = (target != "audit").then(|| format!("ecomm-local-{target}"));
        assert_eq!(row.function, function);
        assert_eq!(
            row.dlq.as_deref(),
            Some(format!("ecomm-local-{target}-dlq").as_str())
        );
        assert!(row.delivery_failures_wired, "{row:?}");
        assert_eq!(
            row.function_errors_wired,
            function.is_some().then_some(true),
            "{row:?}"
        );
        assert!(row.findings.is_empty(), "{row:?}");
        assert_eq!(row.in_flight, Some(0));
        let shown = show(&state, target, &[]);
        assert!(!shown.is_empty(), "the default faults fill every DLQ");
        assert_eq!(row.visible, Some(shown.len() as u64), "{target}");
        let oldest = shown.iter().filter_map(|m| m.sent_at).min().unwrap();
        assert_eq!(row.oldest_sent, Some(oldest), "{target}");
    }
    // After `show` released what it read, `ls` counts the same, nothing in flight.
    let again = ls(&state);
    assert_eq!(again.len(), TARGETS.len());
    for (before, after) in rows.iter().zip(&again) {
        assert_eq!(before.visible, after.visible);
        assert_eq!(after.in_flight, Some(0));
    }
}

#[test]
fn ls_as_ndjson_prints_one_consumer_per_line() {
    let (_dir, state) = demo_state();
    let rows: Vec<crate::support::LsRow> = Ecomm::local(&state).args("dlq ls").ndjson();
    let targets: Vec<&str> = rows.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, TARGETS);
}

/// A field of a shown message that a filter selects on.
type Field = fn(&ShownMessage) -> Option<String>;

#[test]
fn show_reads_each_failure_and_each_filter_selects_exactly_the_matching_messages() {
    let (_dir, state) = demo_state();
    let all: Vec<(&str, Vec<ShownMessage>)> =
        TARGETS.iter().map(|t| (*t, show(&state, t, &[]))).collect();

    // What the default faults leave: transient mail failures and a poison event in
    // notification, EventBridge throttling in analytics, a gateway timeout in refund.
    let notification = &all[1].1;
    assert!(notification.iter().any(|m| {
        m.error_code.as_deref() == Some("DependencyUnavailable")
            && m.kind == "lambda-destination"
            && m.attempts == Some(3)
    }));
    let poison: Vec<&ShownMessage> = notification
        .iter()
        .filter(|m| m.error_code.as_deref() == Some("UnsupportedEventVersion"))
        .collect();
    assert_eq!(poison.len(), 1);
    assert_eq!(poison[0].event_version.as_deref(), Some("3.0"));
    assert!(all[2].1.iter().any(|m| {
        m.kind == "eventbridge-target" && m.error_code.as_deref() == Some("THROTTLING")
    }));
    assert_eq!(
        all[3].1[0].detail_type.as_deref(),
        Some("InventoryOutOfStock")
    );

    let every = |f: Field| -> BTreeSet<String> {
        all.iter()
            .flat_map(|(_, messages)| messages.iter().filter_map(f))
            .collect()
    };
    let filters: [(&str, Field); 4] = [
        ("--order-id", |m| m.order_id.clone()),
        ("--correlation-id", |m| m.correlation_id.clone()),
        ("--error-code", |m| m.error_code.clone()),
        ("--detail-type", |m| m.detail_type.clone()),
    ];
    for (flag, field) in filters {
        for value in every(field) {
            for (target, messages) in &all {
                let expected: Vec<String> = messages
                    .iter()
                    .filter(|m| field(m).as_deref() == Some(value.as_str()))
                    .map(|m| m.message_id.clone())
                    .collect();
                let got = ids(&show(&state, target, &[flag, &value]));
                assert_eq!(got, expected, "{target} {flag} {value}");
            }
        }
    }
}

#[test]
fn filters_ignore_the_case_of_error_codes_combine_and_split_by_time_and_limit() {
    let (_dir, state) = demo_state();
    let notification = show(&state, "notification", &[]);

    // Error codes match whatever the case.
    let transient = ids(&show(
        &state,
        "notification",
        &["--error-code", "DependencyUnavailable"],
    ));
    assert!(!transient.is_empty());
    assert_eq!(
        ids(&show(
            &state,
            "notification",
            &["--error-code", "dependencyunavailable"]
        )),
        transient
    );

    // Message ids, repeatable; filters combine.
    let picked = [&notification[0].message_id, &notification[2].message_id];
    assert_eq!(
        ids(&show(
            &state,
            "notification",
            &["--message-id", picked[0], "--message-id", picked[1]]
        )),
        picked.map(String::clone)
    );
    let first = &notification[0];
    let its_code = first.error_code.as_deref().unwrap();
    let other_code = if its_code == "UnsupportedEventVersion" {
        "DependencyUnavailable"
    } else {
        "UnsupportedEventVersion"
    };
    let both = |code: &str| {
        ids(&show(
            &state,
            "notification",
            &["--message-id", &first.message_id, "--error-code", code],
        ))
    };
    assert_eq!(both(its_code), std::slice::from_ref(&first.message_id));
    assert!(both(other_code).is_empty());

    // Since is inclusive, until exclusive: together they split the queue at any message.
    let middle = notification[notification.len() / 2].sent_at.unwrap();
    let at = middle.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let since = ids(&show(&state, "notification", &["--since", &at]));
    let until = ids(&show(&state, "notification", &["--until", &at]));
    let expected_since: Vec<String> = notification
        .iter()
        .filter(|m| m.sent_at.unwrap() >= middle)
        .map(|m| m.message_id.clone())
        .collect();
    assert_eq!(since, expected_since);
    assert_eq!([until, since].concat(), ids(&notification));
    assert!(show(&state, "notification", &["--since", "1m"]).is_empty());
    assert_eq!(
        show(&state, "notification", &["--until", "1m"]).len(),
        notification.len()
    );

    // A limit keeps the oldest.
    assert_eq!(
        ids(&show(&state, "notification", &["--limit", "2"])),
        ids(&notification[..2])
    );
}

#[test]
fn show_reads_the_legacy_function_dlq_format_and_number_attributes_and_masks_error_messages() {
    let (_dir, state) = demo_state();
    let record: Value = serde_json::from_str(&export(&state, "notification", &[])[0].body).unwrap();
    let event = record["requestPayload"].to_string();
    let order_id = record["requestPayload"]["detail"]["order"]["orderId"]
        .as_str()
        .unwrap();
    // The function-level DLQ of old deployments: the event as body, the error in attributes.
    let legacy = MessageAttributes::from([
        ("RequestID".to_owned(), AttributeValue::string("req-1")),
        (
            "ErrorCode".to_owned(),
            AttributeValue::string("MessageRejected"),
        ),
        (
            "ErrorMessage".to_owned(),
            AttributeValue::string("Email address is not verified: grace.hopper@example.com"),
        ),
    ]);
    send_to_dlq(&state, "notification", "legacy-dlq-1", &event, &legacy);
    // EventBridge may write RETRY_ATTEMPTS as a Number.
    let mut throttled = export(&state, "analytics", &[])[0].attributes.clone();
    throttled.insert("RETRY_ATTEMPTS".to_owned(), AttributeValue::number("7"));
    send_to_dlq(&state, "analytics", "numeric-attempts", &event, &throttled);

    let shown = show(&state, "notification", &["--message-id", "legacy-dlq-1"]);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].kind, "lambda-dlq");
    assert_eq!(shown[0].error_code.as_deref(), Some("MessageRejected"));
    assert_eq!(shown[0].order_id.as_deref(), Some(order_id));
    assert_eq!(
        ids(&show(
            &state,
            "notification",
            &["--error-code", "messagerejected"]
        )),
        ["legacy-dlq-1"]
    );
    let shown = show(&state, "analytics", &["--message-id", "numeric-attempts"]);
    assert_eq!(shown[0].kind, "eventbridge-target");
    assert_eq!(shown[0].attempts, Some(8), "7 retries after the first try");

    // The error message quotes an address: masked for people, in the table and raw.
    for line in ["dlq show notification", "dlq show notification --raw"] {
        let masked = Ecomm::local(&state).args(line).stdout();
        assert!(!masked.contains("grace.hopper"), "{masked}");
        assert!(masked.contains("g***@example.com"), "{masked}");
        let shown = Ecomm::local(&state).args(line).args("--show-pii").stdout();
        // The table cuts the message at 48 characters.
        assert!(shown.contains("grace.hopper@exa"), "{shown}");
    }
}

#[test]
fn show_does_not_consume_the_queue_but_each_read_counts_as_a_receive() {
    let (_dir, state) = demo_state();
    let (visible, in_flight) = depth(&state, "notification");
    assert!(visible > 0 && in_flight == 0);

    // The first read is each message's first receive: nothing read them before.
    let first = show(&state, "notification", &[]);
    let second = show(&state, "notification", &[]);
    assert_eq!(first.len() as u64, visible);
    assert_eq!(ids(&first), ids(&second));
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.receive_count, 1);
        assert_eq!(b.receive_count, 2);
    }

    // Released at the end of each scan: all there, all visible, bodies untouched.
    assert_all_visible(&state, "notification", first.len());
    let raw: crate::support::Shown = Ecomm::local(&state)
        .args("dlq show notification --raw")
        .json();
    let exported = export(&state, "notification", &[]);
    assert_eq!(raw.messages.len(), exported.len());
    for (shown, line) in raw.messages.iter().zip(&exported) {
        assert_eq!(shown.message_id, line.message_id);
        assert_eq!(shown.body.as_deref(), Some(line.body.as_str()));
        assert_eq!(shown.receive_count, 3);
        assert_eq!(line.receive_count, 4);
    }
}

#[test]
fn raw_show_masks_emails_names_and_addresses_unless_asked_to_show_them() {
    let (_dir, state) = demo_state();
    let message = show(&state, "notification", &[])
        .into_iter()
        .find(|m| {
            m.event_version
                .as_deref()
                .is_some_and(|v| v.starts_with("2."))
        })
        .unwrap();
    let body: Value = serde_json::from_str(
        &export(
            &state,
            "notification",
            &["--message-id", &message.message_id],
        )[0]
        .body,
    )
    .unwrap();
    let customer = &body["requestPayload"]["detail"]["customer"];
    let email = customer["email"].as_str().unwrap();
    let name = customer["name"].as_str().unwrap();
    let street = customer["shippingAddress"]["line1"].as_str().unwrap();
    let (local, domain) = email.split_once('@').unwrap();

    let raw_show = || {
        Ecomm::local(&state)
            .args("dlq show notification --raw --message-id")
            .arg(&message.message_id)
    };
    let masked = raw_show().stdout();
    assert!(masked.contains(&message.message_id), "{masked}");
    assert!(masked.contains("DependencyUnavailable"), "{masked}");
    assert!(!masked.contains(email), "{masked}");
    assert!(
        masked.contains(&format!("{}***@{domain}", &local[..1])),
        "{masked}"
    );
    assert!(!masked.contains(&format!("\"{name}\"")), "{masked}");
    assert!(!masked.contains(street), "{masked}");
    assert!(masked.contains("\"shippingAddress\": \"***\""), "{masked}");
    // Ids stay readable: they are what the on-call engineer searches for.
    assert!(masked.contains(message.order_id.as_deref().unwrap()));
    assert!(masked.contains(customer["userId"].as_str().unwrap()));

    let shown = raw_show().args("--show-pii").stdout();
    assert!(shown.contains(email), "{shown}");
    assert!(shown.contains(&format!("\"{name}\"")), "{shown}");
    assert!(shown.contains(street), "{shown}");

    // Scripts get the body verbatim.
    let json: crate::support::Shown = raw_show().json();
    let raw = json.messages[0].body.as_deref().unwrap();
    assert!(raw.contains(email));
}

#[test]
fn export_writes_exactly_the_messages_verbatim_to_stdout_or_a_file_without_consuming_them() {
    let (dir, state) = demo_state();
    // What anyone with sqs:SendMessage could put there: the export must give it back verbatim.
    let attributes = MessageAttributes::from([
        (
            "ERROR_CODE".to_owned(),
            AttributeValue::string("THROTTLING"),
        ),
        ("RETRY_ATTEMPTS".to_owned(), AttributeValue::number("5")),
        ("blob".to_owned(), AttributeValue::binary(b"\x00\xff")),
    ]);
    let body = r#"{"hand": "written",  "spacing": "kept"}"#;
    send_to_dlq(&state, "inventory", "by-hand-1", body, &attributes);
    let by_hand = export(&state, "inventory", &["--message-id", "by-hand-1"]);
    let [line] = by_hand.as_slice() else {
        panic!("{by_hand:?}")
    };
    assert_eq!(line.body, body, "bodies verbatim");
    assert_eq!(
        line.attributes, attributes,
        "attributes verbatim, with their types"
    );
    assert!(line.sent_at.is_some());

    for target in TARGETS {
        let shown = show(&state, target, &[]);
        let lines = export(&state, target, &[]);
        assert_eq!(
            lines.iter().map(|l| &l.message_id).collect::<Vec<_>>(),
            shown.iter().map(|m| &m.message_id).collect::<Vec<_>>(),
            "{target}"
        );
        // Nothing consumed: the next export reads them all again.
        assert_all_visible(&state, target, lines.len());
        assert_eq!(export(&state, target, &[]).len(), lines.len());
    }

    let file = dir.path().join("notification.ndjson");
    let report: Exported = Ecomm::local(&state)
        .args("dlq export notification --file")
        .arg(&file)
        .json();
    let from_stdout = export(&state, "notification", &[]);
    assert_eq!(report.exported, from_stdout.len());
    assert!(report.complete && !report.interrupted, "{report:?}");
    assert_eq!(report.file.as_deref(), file.to_str());
    let without_receives = |lines: Vec<Archived>| -> Vec<Archived> {
        lines
            .into_iter()
            .map(|l| Archived {
                receive_count: 0,
                ..l
            })
            .collect()
    };
    assert_eq!(
        without_receives(archived(&file)),
        without_receives(from_stdout.clone())
    );

    // Filters apply to exports too.
    let order: Value = serde_json::from_str(&from_stdout[0].body).unwrap();
    let order_id = order["requestPayload"]["detail"]["order"]["orderId"]
        .as_str()
        .unwrap();
    let one = export(&state, "notification", &["--order-id", order_id]);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].message_id, from_stdout[0].message_id);
}

#[test]
fn purge_with_an_archive_and_a_filter_deletes_exactly_the_archived_messages() {
    let (dir, state) = demo_state();
    let before = export(&state, "notification", &[]);
    let transient = show(
        &state,
        "notification",
        &["--error-code", "DependencyUnavailable"],
    );
    assert!(!transient.is_empty() && transient.len() < before.len());
    let archive = dir.path().join("archive.ndjson");

    let report: Purged = Ecomm::local(&state)
        .args("dlq purge notification --yes --error-code dependencyunavailable --archive")
        .arg(&archive)
        .json();
    assert_eq!(report.deleted, transient.len() as u64);
    assert_eq!(report.failed, 0);
    assert!(!report.full_purge && !report.interrupted);
    assert_eq!(report.archive.as_deref(), archive.to_str());

    let archived = archived(&archive);
    let archived_ids: Vec<&str> = archived.iter().map(|l| l.message_id.as_str()).collect();
    assert_eq!(archived_ids, ids(&transient));
    for line in &archived {
        let original = before
            .iter()
            .find(|m| m.message_id == line.message_id)
            .unwrap();
        assert_eq!(line.body, original.body);
        assert_eq!(line.attributes, original.attributes);
    }

    let expected: BTreeSet<String> = before
        .iter()
        .map(|m| m.message_id.clone())
        .filter(|id| !archived_ids.contains(&id.as_str()))
        .collect();
    assert_all_visible(&state, "notification", expected.len());
    assert_eq!(dlq_ids(&state, "notification"), expected);
}

#[test]
fn purges_into_the_same_archive_add_to_it_instead_of_replacing_it() {
    let (dir, state) = demo_state();
    let messages = show(&state, "notification", &[]);
    let archive = dir.path().join("archive.ndjson");
    for message in &messages[..2] {
        let report: Purged = Ecomm::local(&state)
            .args("dlq purge notification --yes --message-id")
            .arg(&message.message_id)
            .args("--archive")
            .arg(&archive)
            .json();
        assert_eq!(report.deleted, 1);
    }
    let archived: Vec<String> = archived(&archive)
        .into_iter()
        .map(|l| l.message_id)
        .collect();
    assert_eq!(archived, ids(&messages[..2]));
    assert_eq!(
        dlq_ids(&state, "notification"),
        ids(&messages[2..]).into_iter().collect()
    );
}

#[test]
fn purge_without_yes_and_without_a_terminal_is_a_usage_error_that_deletes_nothing() {
    let (dir, state) = demo_state();
    let before = dlq_ids(&state, "notification");
    for line in [
        "dlq purge notification",
        "dlq purge notification --error-code DependencyUnavailable",
    ] {
        let stderr = Ecomm::local(&state)
            .args(line)
            .stdin("y\n")
            .code(2)
            .stderr();
        assert!(stderr.contains("pass --yes"), "{stderr}");
        assert_eq!(dlq_ids(&state, "notification"), before, "{line}");
    }
    // An archive is written before anything is deleted, so it exists even when the user
    // then declines.
    let archive = dir.path().join("kept.ndjson");
    Ecomm::local(&state)
        .args("dlq purge notification --archive")
        .arg(&archive)
        .stdin("y\n")
        .code(2)
        .run();
    assert_eq!(archived(&archive).len(), before.len());
    assert_all_visible(&state, "notification", before.len());
    assert_eq!(dlq_ids(&state, "notification"), before);
}

#[test]
fn a_full_purge_empties_the_queue_and_a_second_within_60_seconds_is_refused() {
    let (_dir, state) = demo_state();
    let (analytics, _) = depth(&state, "analytics");
    let (notification, _) = depth(&state, "notification");
    let report: Purged = Ecomm::local(&state)
        .args("dlq purge analytics --yes")
        .json();
    assert!(report.full_purge);
    assert_eq!(report.deleted, analytics);
    assert_eq!(depth(&state, "analytics"), (0, 0));
    // Other queues are untouched.
    assert_eq!(depth(&state, "notification"), (notification, 0));

    let stderr = Ecomm::local(&state)
        .args("dlq purge analytics --yes")
        .code(1)
        .stderr();
    assert!(
        stderr.contains("purged less than 60 s ago") && stderr.contains("retry in"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_consumer_is_named_with_the_known_ones() {
    let (_dir, state) = demo_state();
    let stderr = Ecomm::local(&state)
        .args("dlq show billing")
        .code(1)
        .stderr();
    assert!(
        stderr.contains("no consumer \"billing\"")
            && stderr.contains("inventory, notification, analytics, refund"),
        "{stderr}"
    );
}

#[test]
fn ls_human_output() {
    let (_dir, state) = recent_demo_state();
    assert_session_snapshot!(
        "ls_human_output",
        Ecomm::local(&state).args("dlq ls").run(),
        (r"┆ \d{1,2}[sm] *┆", "┆ age    ┆"),
    );
}

#[test]
fn show_human_output() {
    let (_dir, state) = recent_demo_state();
    for target in ["notification", "analytics"] {
        assert_session_snapshot!(
            format!("show_{target}"),
            Ecomm::local(&state).args("dlq show").arg(target).run(),
            AGE,
        );
    }
}

#[test]
fn completions_print_a_shell_script_and_man_prints_roff() {
    let script = Ecomm::bare().args("completions bash").stdout();
    assert!(script.contains("_ecomm()"), "{script}");
    assert!(script.contains("complete -F _ecomm"), "{script}");
    assert!(script.contains("redrive"));

    let page = Ecomm::bare().args("man").stdout();
    assert!(
        page.starts_with(".ie") || page.contains(".TH ecomm"),
        "{page}"
    );
    assert!(page.contains(".SH NAME"), "{page}");
    assert!(page.contains("redrive"), "{page}");
}
