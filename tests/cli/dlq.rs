//! `ecomm dlq ls | show | export | purge` on the local stack after `ecomm demo` with the default
//! faults, plus `completions` and `man`. The helpers here (a demo state, JSON answers, the
//! stored queues and tables) are shared with the redrive tests.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ecomm_events::{AttributeValue, MessageAttributes};
use ecomm_local::store::Db;
use serde::Deserialize;
use serde_json::Value;

use crate::support::{ecomm, ecomm_on, temp_state};

/// The start of every functional test's demo: fixed, so the same orders fail every run.
pub(crate) const START: &str = "2026-11-25T10:00:00Z";

/// The four consumers of the local bus.
pub(crate) const TARGETS: [&str; 4] = ["inventory", "notification", "analytics", "refund"];

/// A fresh state after `ecomm demo --start START --orders 200` with the default faults.
pub(crate) fn demo_state() -> (tempfile::TempDir, PathBuf) {
    demo_state_from(START)
}

/// The same demo over the hour before now: every DLQ message is under an hour old, so the
/// age columns of the human tables have a fixed width (their values are filtered out).
pub(crate) fn recent_demo_state() -> (tempfile::TempDir, PathBuf) {
    let start = (Utc::now() - chrono::Duration::minutes(58)).to_rfc3339();
    demo_state_from(&start)
}

fn demo_state_from(start: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, state) = temp_state();
    ecomm_on(&state)
        .args([
            "demo", "--start", start, "--orders", "200", "--output", "json",
        ])
        .assert()
        .success();
    (dir, state)
}

/// Run `ecomm --output json <args>`, expect exit code `code`, and parse stdout.
pub(crate) fn run_json(state: &Path, args: &[&str], code: i32) -> Value {
    let out = ecomm_on(state)
        .args(args)
        .args(["--output", "json"])
        .assert()
        .code(code);
    let stdout = &out.get_output().stdout;
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "ecomm {args:?} printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(stdout)
        )
    })
}

/// Run `ecomm <args>` (human output), expect exit code `code`, and return stdout.
pub(crate) fn run_text(state: &Path, args: &[&str], code: i32) -> String {
    let out = ecomm_on(state).args(args).assert().code(code);
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// One message of `dlq show --output json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Shown {
    pub(crate) message_id: String,
    pub(crate) sent_at: Option<DateTime<Utc>>,
    pub(crate) receive_count: u32,
    pub(crate) kind: String,
    pub(crate) error_code: Option<String>,
    pub(crate) error_message: Option<String>,
    pub(crate) attempts: Option<u32>,
    pub(crate) detail_type: Option<String>,
    pub(crate) event_version: Option<String>,
    pub(crate) event_id: Option<String>,
    pub(crate) order_id: Option<String>,
    pub(crate) correlation_id: Option<String>,
}

/// `ecomm dlq show <target> <filters> --output json`: the messages, after checking the scan saw
/// the whole queue.
pub(crate) fn show(state: &Path, target: &str, filters: &[&str]) -> Vec<Shown> {
    let answer = run_json(state, &[&["dlq", "show", target], filters].concat(), 0);
    assert_eq!(answer["complete"], true, "{answer}");
    serde_json::from_value(answer["messages"].clone()).unwrap()
}

/// The message ids, in order.
pub(crate) fn ids(messages: &[Shown]) -> Vec<String> {
    messages.iter().map(|m| m.message_id.clone()).collect()
}

/// A message as the state file holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stored {
    pub(crate) message_id: String,
    pub(crate) body: String,
    pub(crate) attributes: Value,
    pub(crate) receive_count: u32,
    pub(crate) visible: bool,
}

/// The local DLQ of a consumer.
pub(crate) fn queue_name(target: &str) -> String {
    ecomm_local::names::dlq(target)
}

/// Every message of a consumer's DLQ as stored, oldest first, read without receiving.
pub(crate) fn stored(state: &Path, target: &str) -> Vec<Stored> {
    let now = Utc::now().timestamp_millis();
    Db::open(state)
        .unwrap()
        .with(|c| {
            let mut stmt = c.prepare(
                "SELECT message_id, body, attributes, receive_count, visible_ms <= ?2
                 FROM messages WHERE queue = ?1 ORDER BY sent_ms, seq",
            )?;
            stmt.query_map((queue_name(target), now), |r| {
                let attributes: String = r.get(2)?;
                Ok(Stored {
                    message_id: r.get(0)?,
                    body: r.get(1)?,
                    attributes: serde_json::from_str(&attributes).unwrap(),
                    receive_count: r.get(3)?,
                    visible: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .unwrap()
}

/// The stored message ids of a consumer's DLQ, sorted.
pub(crate) fn stored_ids(state: &Path, target: &str) -> BTreeSet<String> {
    stored(state, target)
        .into_iter()
        .map(|m| m.message_id)
        .collect()
}

/// `SELECT COUNT(*) ...` with one text parameter.
pub(crate) fn count(state: &Path, sql: &str, param: &str) -> i64 {
    Db::open(state)
        .unwrap()
        .with(|c| c.query_row(sql, [param], |r| r.get(0)))
        .unwrap()
}

/// Put a message into a consumer's DLQ, sent a second ago, as anyone with `sqs:SendMessage`
/// could.
pub(crate) fn send_to_dlq(
    state: &Path,
    target: &str,
    message_id: &str,
    body: &str,
    attributes: &MessageAttributes,
) {
    let sent = Utc::now().timestamp_millis() - 1000;
    ecomm_local::sqs::Queues::new(Db::open(state).unwrap())
        .send(
            &queue_name(target),
            message_id,
            body,
            attributes,
            sent,
            sent,
        )
        .unwrap();
}

/// `dlq export <target> <filters>`: the NDJSON lines, parsed.
pub(crate) fn export(state: &Path, target: &str, filters: &[&str]) -> Vec<Value> {
    let text = run_text(state, &[&["dlq", "export", target], filters].concat(), 0);
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Settings for snapshots of human output: no state paths, no generated message ids, no ages.
/// `age` is what an age cell becomes, padded to the column's width.
pub(crate) fn human_settings(age: &str) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    // Named by the test alone, so the files do not depend on the test binary's name.
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(r"local stack: \S+", "local stack: [STATE]");
    settings.add_filter(r"journal: \S+", "journal: [JOURNAL]");
    // Same length as what they replace, so the tables stay aligned.
    settings.add_filter(
        r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
        "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    );
    settings.add_filter(r"┆ [0-9a-f]{7}… ┆", "┆ xxxxxxx… ┆");
    settings.add_filter(r"│ [0-9a-f]{7}… ┆", "│ xxxxxxx… ┆");
    settings.add_filter(r"┆ \d{1,2}[sm] *┆", format!("┆ {age} ┆"));
    settings
}

#[test]
fn ls_lists_the_four_consumers_with_both_failure_paths_and_the_depths_show_reads() {
    let (_dir, state) = demo_state();
    let rows = run_json(&state, &["dlq", "ls"], 0);
    let rows = rows.as_array().unwrap();
    let targets: Vec<&str> = rows.iter().map(|r| r["target"].as_str().unwrap()).collect();
    assert_eq!(targets, TARGETS);
    for row in rows {
        let target = row["target"].as_str().unwrap();
        assert_eq!(row["function"], format!("ecomm-local-{target}"));
        assert_eq!(row["dlq"], queue_name(target));
        assert_eq!(row["deliveryFailuresWired"], true, "{row}");
        assert_eq!(row["functionErrorsWired"], true, "{row}");
        assert_eq!(row["findings"], serde_json::json!([]));
        assert_eq!(row["inFlight"], 0);
        let shown = show(&state, target, &[]);
        assert!(!shown.is_empty(), "the default faults fill every DLQ");
        assert_eq!(row["visible"], shown.len(), "{target}");
        let oldest = shown.iter().filter_map(|m| m.sent_at).min().unwrap();
        let listed: DateTime<Utc> = serde_json::from_value(row["oldestSent"].clone()).unwrap();
        assert_eq!(listed, oldest, "{target}");
    }
    // After `show` released what it read, `ls` counts the same, nothing in flight.
    let again = run_json(&state, &["dlq", "ls"], 0);
    assert_eq!(again.as_array().unwrap().len(), 4);
    for (before, after) in rows.iter().zip(again.as_array().unwrap()) {
        assert_eq!(before["visible"], after["visible"]);
        assert_eq!(after["inFlight"], 0);
    }
}

#[test]
fn ls_as_ndjson_prints_one_consumer_per_line() {
    let (_dir, state) = demo_state();
    let out = ecomm_on(&state)
        .args(["dlq", "ls", "--output", "ndjson"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let targets: Vec<String> = text
        .lines()
        .map(|l| {
            let row: Value = serde_json::from_str(l).unwrap();
            row["target"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(targets, TARGETS);
}

/// A field of a shown message that a filter selects on.
type Field = fn(&Shown) -> Option<String>;

#[test]
fn show_reads_each_failure_and_each_filter_selects_exactly_the_matching_messages() {
    let (_dir, state) = demo_state();
    let all: Vec<(&str, Vec<Shown>)> = TARGETS.iter().map(|t| (*t, show(&state, t, &[]))).collect();

    // What the default faults leave: transient mail failures and a poison event in
    // notification, EventBridge throttling in analytics, a gateway timeout in refund.
    let notification = &all[1].1;
    assert!(notification.iter().any(|m| {
        m.error_code.as_deref() == Some("DependencyUnavailable")
            && m.kind == "lambda-destination"
            && m.attempts == Some(3)
    }));
    let poison: Vec<&Shown> = notification
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
    let record: Value = serde_json::from_str(&stored(&state, "notification")[0].body).unwrap();
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
    let mut throttled = stored(&state, "analytics")[0].attributes.clone();
    throttled["RETRY_ATTEMPTS"] = serde_json::json!({"DataType": "Number", "StringValue": "7"});
    send_to_dlq(
        &state,
        "analytics",
        "numeric-attempts",
        &event,
        &serde_json::from_value(throttled).unwrap(),
    );

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
    for args in [
        vec!["dlq", "show", "notification"],
        vec!["dlq", "show", "notification", "--raw"],
    ] {
        let masked = run_text(&state, &args, 0);
        assert!(!masked.contains("grace.hopper"), "{masked}");
        assert!(masked.contains("g***@example.com"), "{masked}");
        let shown = run_text(&state, &[&args[..], &["--show-pii"]].concat(), 0);
        // The table cuts the message at 48 characters.
        assert!(shown.contains("grace.hopper@exa"), "{shown}");
    }
}

#[test]
fn show_does_not_consume_the_queue_but_each_read_counts_as_a_receive() {
    let (_dir, state) = demo_state();
    let before = stored(&state, "notification");
    assert!(before.iter().all(|m| m.visible && m.receive_count == 0));

    let first = show(&state, "notification", &[]);
    let second = show(&state, "notification", &[]);
    assert_eq!(ids(&first), ids(&second));
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.receive_count, 1);
        assert_eq!(b.receive_count, 2);
    }

    let after = stored(&state, "notification");
    assert_eq!(after.len(), before.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.message_id, b.message_id);
        assert_eq!(a.body, b.body);
        assert!(a.visible, "released at the end of the scan");
        assert_eq!(a.receive_count, 2);
    }
    let ls = run_json(&state, &["dlq", "ls"], 0);
    assert_eq!(ls[1]["visible"], before.len());
    assert_eq!(ls[1]["inFlight"], 0);
}

#[test]
fn raw_show_masks_emails_names_and_addresses_unless_asked_to_show_them() {
    let (_dir, state) = demo_state();
    let message = show(&state, "notification", &[])
        .into_iter()
        .find(|m| m.event_version.as_deref() == Some("2.0"))
        .unwrap();
    let body: Value = serde_json::from_str(
        &stored(&state, "notification")
            .into_iter()
            .find(|m| m.message_id == message.message_id)
            .unwrap()
            .body,
    )
    .unwrap();
    let customer = &body["requestPayload"]["detail"]["customer"];
    let email = customer["email"].as_str().unwrap();
    let name = customer["name"].as_str().unwrap();
    let street = customer["shippingAddress"]["line1"].as_str().unwrap();
    let (local, domain) = email.split_once('@').unwrap();

    let args = ["dlq", "show", "notification", "--raw", "--message-id"];
    let masked = run_text(&state, &[&args[..], &[&message.message_id]].concat(), 0);
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

    let shown = run_text(
        &state,
        &[&args[..], &[&message.message_id, "--show-pii"]].concat(),
        0,
    );
    assert!(shown.contains(email), "{shown}");
    assert!(shown.contains(&format!("\"{name}\"")), "{shown}");
    assert!(shown.contains(street), "{shown}");

    // Scripts get the body verbatim.
    let json = run_json(&state, &[&args[..], &[&message.message_id]].concat(), 0);
    let raw = json["messages"][0]["body"].as_str().unwrap();
    assert!(raw.contains(email));
}

#[test]
fn export_writes_exactly_the_messages_verbatim_to_stdout_or_a_file_without_consuming_them() {
    let (dir, state) = demo_state();
    for target in TARGETS {
        let before = stored(&state, target);
        let lines = export(&state, target, &[]);
        assert_eq!(lines.len(), before.len(), "{target}");
        for (line, message) in lines.iter().zip(&before) {
            assert_eq!(line["messageId"], message.message_id.as_str());
            assert_eq!(line["body"], message.body.as_str(), "bodies verbatim");
            assert_eq!(line["attributes"], message.attributes);
            assert!(line["sentAt"].is_string());
        }
        let after = stored(&state, target);
        assert_eq!(after.len(), before.len());
        assert!(after.iter().all(|m| m.visible));
    }

    let file = dir.path().join("notification.ndjson");
    let report = run_json(
        &state,
        &[
            "dlq",
            "export",
            "notification",
            "--file",
            file.to_str().unwrap(),
        ],
        0,
    );
    assert_eq!(report["exported"], stored(&state, "notification").len());
    assert_eq!(report["complete"], true);
    let from_file: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let from_stdout = export(&state, "notification", &[]);
    let without_receives = |lines: &[Value]| -> Vec<Value> {
        lines
            .iter()
            .map(|l| {
                let mut l = l.clone();
                l.as_object_mut().unwrap().remove("receiveCount");
                l
            })
            .collect()
    };
    assert_eq!(without_receives(&from_file), without_receives(&from_stdout));

    // Filters apply to exports too.
    let order = from_stdout[0]["body"].as_str().unwrap();
    let order: Value = serde_json::from_str(order).unwrap();
    let order_id = order["requestPayload"]["detail"]["order"]["orderId"]
        .as_str()
        .unwrap();
    let one = export(&state, "notification", &["--order-id", order_id]);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["messageId"], from_stdout[0]["messageId"]);
}

#[test]
fn purge_with_an_archive_and_a_filter_deletes_exactly_the_archived_messages() {
    let (dir, state) = demo_state();
    let before = stored(&state, "notification");
    let transient = show(
        &state,
        "notification",
        &["--error-code", "DependencyUnavailable"],
    );
    assert!(!transient.is_empty() && transient.len() < before.len());
    let archive = dir.path().join("archive.ndjson");

    let report = run_json(
        &state,
        &[
            "dlq",
            "purge",
            "notification",
            "--archive",
            archive.to_str().unwrap(),
            "--yes",
            "--error-code",
            "dependencyunavailable",
        ],
        0,
    );
    assert_eq!(report["deleted"], transient.len());
    assert_eq!(report["failed"], 0);
    assert_eq!(report["fullPurge"], false);
    assert_eq!(report["archive"], archive.to_str().unwrap());

    let archived: Vec<Value> = std::fs::read_to_string(&archive)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let archived_ids: Vec<&str> = archived
        .iter()
        .map(|l| l["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(archived_ids, ids(&transient));
    for line in &archived {
        let original = before
            .iter()
            .find(|m| m.message_id == line["messageId"].as_str().unwrap())
            .unwrap();
        assert_eq!(line["body"], original.body.as_str());
        assert_eq!(line["attributes"], original.attributes);
    }

    let left = stored_ids(&state, "notification");
    let expected: BTreeSet<String> = before
        .iter()
        .map(|m| m.message_id.clone())
        .filter(|id| !archived_ids.contains(&id.as_str()))
        .collect();
    assert_eq!(left, expected);
    assert!(stored(&state, "notification").iter().all(|m| m.visible));
}

#[test]
fn purges_into_the_same_archive_add_to_it_instead_of_replacing_it() {
    let (dir, state) = demo_state();
    let messages = show(&state, "notification", &[]);
    let archive = dir.path().join("archive.ndjson");
    for message in &messages[..2] {
        run_json(
            &state,
            &[
                "dlq",
                "purge",
                "notification",
                "--message-id",
                &message.message_id,
                "--archive",
                archive.to_str().unwrap(),
                "--yes",
            ],
            0,
        );
    }
    let archived: Vec<String> = std::fs::read_to_string(&archive)
        .unwrap()
        .lines()
        .map(|l| {
            let line: Value = serde_json::from_str(l).unwrap();
            line["messageId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(archived, ids(&messages[..2]));
    assert_eq!(
        stored_ids(&state, "notification"),
        ids(&messages[2..]).into_iter().collect()
    );
}

#[test]
fn purge_without_yes_and_without_a_terminal_is_a_usage_error_that_deletes_nothing() {
    let (dir, state) = demo_state();
    let before = stored_ids(&state, "notification");
    for args in [
        vec!["dlq", "purge", "notification"],
        vec![
            "dlq",
            "purge",
            "notification",
            "--error-code",
            "DependencyUnavailable",
        ],
    ] {
        let out = ecomm_on(&state)
            .args(&args)
            .write_stdin("y\n")
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains("pass --yes"), "{stderr}");
        assert_eq!(stored_ids(&state, "notification"), before, "{args:?}");
    }
    // An archive is written before anything is deleted, so it exists even when the user
    // then declines.
    let archive = dir.path().join("kept.ndjson");
    ecomm_on(&state)
        .args(["dlq", "purge", "notification", "--archive"])
        .arg(&archive)
        .write_stdin("y\n")
        .assert()
        .code(2);
    assert_eq!(
        std::fs::read_to_string(&archive).unwrap().lines().count(),
        before.len()
    );
    assert_eq!(stored_ids(&state, "notification"), before);
    assert!(stored(&state, "notification").iter().all(|m| m.visible));
}

#[test]
fn a_full_purge_empties_the_queue_and_a_second_within_60_seconds_is_refused() {
    let (_dir, state) = demo_state();
    let depth = stored(&state, "analytics").len();
    let report = run_json(&state, &["dlq", "purge", "analytics", "--yes"], 0);
    assert_eq!(report["fullPurge"], true);
    assert_eq!(report["deleted"], depth);
    assert!(stored(&state, "analytics").is_empty());
    // Other queues are untouched.
    assert!(!stored(&state, "notification").is_empty());

    let out = ecomm_on(&state)
        .args(["dlq", "purge", "analytics", "--yes"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("purged less than 60 s ago") && stderr.contains("retry in"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_consumer_is_named_with_the_known_ones() {
    let (_dir, state) = demo_state();
    let out = ecomm_on(&state)
        .args(["dlq", "show", "billing"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("no consumer \"billing\"")
            && stderr.contains("inventory, notification, analytics, refund"),
        "{stderr}"
    );
}

#[test]
fn ls_human_output() {
    let (_dir, state) = recent_demo_state();
    let text = run_text(&state, &["dlq", "ls"], 0);
    human_settings("age   ").bind(|| insta::assert_snapshot!(text));
}

#[test]
fn show_human_output() {
    let (_dir, state) = recent_demo_state();
    let notification = run_text(&state, &["dlq", "show", "notification"], 0);
    let analytics = run_text(&state, &["dlq", "show", "analytics"], 0);
    let settings = human_settings("age");
    settings.bind(|| {
        insta::assert_snapshot!("show_notification", notification);
        insta::assert_snapshot!("show_analytics", analytics);
    });
}

#[test]
fn completions_print_a_shell_script_and_man_prints_roff() {
    let out = ecomm().args(["completions", "bash"]).assert().success();
    let script = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(script.contains("_ecomm()"), "{script}");
    assert!(script.contains("complete -F _ecomm"), "{script}");
    assert!(script.contains("redrive"));

    let out = ecomm().arg("man").assert().success();
    let page = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH ecomm"),
        "{page}"
    );
    assert!(page.contains(".SH NAME"), "{page}");
    assert!(page.contains("redrive"), "{page}");
}
