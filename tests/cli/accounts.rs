//! `--accounts`: one on-call view over the same bus in several accounts, each read and acted on
//! with a session of `--account-role` assumed in it (moto's multi-account support).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{
    DeniedAccount, Direct, LambdaRecorder, LsRow, Pty, RedriveReport, Shown, Stack, Wiring,
    endpoint, order_created, sdk_config, unique,
};

const TENANT_A: &str = "111122223333";
const TENANT_B: &str = "444455556666";
const NO_BUS: &str = "777788889999";

fn row<'a>(rows: &'a [LsRow], target: &str) -> &'a LsRow {
    rows.iter()
        .find(|r| r.target == target)
        .unwrap_or_else(|| panic!("no row {target}: {rows:#?}"))
}

#[tokio::test]
async fn dlq_ls_across_accounts_shows_every_accounts_consumers_and_the_ones_it_cannot_read() {
    let bus = unique("ecomm");
    let a = Stack::deploy_in(TENANT_A, &bus, &[("inventory", Wiring::Both)]).await;
    let b = Stack::deploy_in(
        TENANT_B,
        &bus,
        &[("inventory", Wiring::Both), ("notification", Wiring::Both)],
    )
    .await;
    b.dlq("inventory")
        .seed_in_turn(&[order_created("ord-1", "c-1"), order_created("ord-2", "c-2")])
        .await;
    // One account whose role is refused, one where the role works but there is no such bus.
    let denied = DeniedAccount::start(&a.endpoint, TENANT_B);
    let accounts = format!("{TENANT_A},{TENANT_B},{NO_BUS}");

    let rows: Vec<LsRow> = a
        .ecomm()
        .args(&format!(
            "--accounts {accounts} --account-role ecomm-oncall -o json dlq ls"
        ))
        .code(3)
        .json();
    let targets: Vec<&str> = rows.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            format!("inventory@{TENANT_A}"),
            format!("inventory@{TENANT_B}"),
            format!("notification@{TENANT_B}"),
            format!("*@{NO_BUS}"),
        ],
        "every account's consumers, in the order of --accounts"
    );
    assert_eq!(
        row(&rows, &format!("inventory@{TENANT_B}")).visible,
        Some(2)
    );
    assert_eq!(
        row(&rows, &format!("inventory@{TENANT_A}")).visible,
        Some(0)
    );
    assert_eq!(
        row(&rows, &format!("inventory@{TENANT_A}"))
            .account
            .as_deref(),
        Some(TENANT_A)
    );
    let missing = row(&rows, &format!("*@{NO_BUS}"));
    assert!(
        missing
            .unreachable
            .as_deref()
            .is_some_and(|r| r.contains("not found")),
        "{missing:?}"
    );

    // Through the proxy, tenant B's role is refused: its row says so, the rest still works.
    let rows: Vec<LsRow> = a
        .ecomm_at(denied.endpoint())
        .args(&format!(
            "--accounts {TENANT_A},{TENANT_B} --account-role ecomm-oncall -o json dlq ls"
        ))
        .code(3)
        .json();
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_eq!(rows[0].target, format!("inventory@{TENANT_A}"));
    let refused = row(&rows, &format!("*@{TENANT_B}"));
    let reason = refused.unreachable.as_deref().unwrap_or_default();
    assert!(
        reason.starts_with(&format!(
            "cannot assume arn:aws:iam::{TENANT_B}:role/ecomm-oncall:"
        )) && reason.contains("AccessDenied"),
        "{reason}"
    );

    // The human table: an account column, the refused account's row in it.
    let table = a
        .ecomm_at(denied.endpoint())
        .args(&format!(
            "--accounts {TENANT_A},{TENANT_B} --account-role ecomm-oncall dlq ls"
        ))
        .code(3)
        .stdout();
    assert!(table.contains("account"), "{table}");
    assert!(table.contains(TENANT_B), "{table}");
}

#[tokio::test]
async fn a_redrive_across_accounts_acts_in_the_account_that_owns_the_dlq_and_nowhere_else() {
    let bus = unique("ecomm");
    let a = Stack::deploy_in(TENANT_A, &bus, &[("inventory", Wiring::Both)]).await;
    let b = Stack::deploy_in(TENANT_B, &bus, &[("inventory", Wiring::Both)]).await;
    let seeded_a: BTreeSet<String> = a
        .dlq("inventory")
        .seed_in_turn(&[order_created("ord-a", "c-a")])
        .await
        .into_iter()
        .collect();
    b.dlq("inventory")
        .seed_in_turn(&[
            order_created("ord-b1", "c-b1"),
            order_created("ord-b2", "c-b2"),
        ])
        .await;
    let recorder = LambdaRecorder::start(&a.endpoint);
    let across = |args: &str| {
        a.ecomm_at(recorder.endpoint()).args(&format!(
            "--accounts {TENANT_A},{TENANT_B} --account-role ecomm-oncall {args}"
        ))
    };

    // A name two accounts have must say which.
    let stderr = across("redrive --target inventory").code(2).stderr();
    assert!(
        stderr.contains(&format!("inventory@{TENANT_A}, inventory@{TENANT_B}")),
        "{stderr}"
    );

    let report: RedriveReport = across(&format!("-o json redrive --target inventory@{TENANT_B}"))
        .code(0)
        .json();
    assert_eq!((report.redriven, report.failed), (2, 0), "{report:?}");
    // Delivered to tenant B's function only; B's DLQ drained, A's untouched and visible.
    let to_b = recorder.delivered_to(&b.consumer_of("inventory").function);
    assert_eq!(to_b.len(), 2, "{to_b:?}");
    assert!(
        recorder
            .delivered_to(&a.consumer_of("inventory").function)
            .is_empty()
    );
    assert!(b.dlq("inventory").ids().await.is_empty());
    assert_eq!(a.dlq("inventory").ids().await, seeded_a);
    a.dlq("inventory").assert_all_visible(1).await;
}

#[tokio::test]
async fn a_config_file_names_a_set_of_accounts_their_own_buses_and_the_consumers() {
    let (bus_a, bus_b) = (unique("ecomm"), unique("ecomm"));
    let _a = Stack::deploy_in(TENANT_A, &bus_a, &[("inventory", Wiring::Both)]).await;
    let b = Stack::deploy_in(TENANT_B, &bus_b, &[("inventory", Wiring::Both)]).await;
    b.dlq("inventory")
        .seed_in_turn(&[order_created("ord-b", "c-b")])
        .await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "account_role = \"ecomm-oncall\"\n\n[names]\ninventory = \"stock\"\n\n\
             [accounts.{TENANT_B}]\nname = \"brand-b\"\nbus = \"{bus_b}\"\n\n\
             [account_sets]\ntenants = [\"{TENANT_A}\", \"brand-b\"]\n"
        ),
    )
    .expect("write the config file");
    // --bus names tenant A's bus; tenant B has its own in the file.
    let ecomm = || b.ecomm_on_bus(&bus_a).env("ECOMM_CONFIG", &config);

    let rows: Vec<LsRow> = ecomm()
        .args("--accounts tenants -o json dlq ls")
        .code(0)
        .json();
    let targets: Vec<&str> = rows.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [format!("stock@{TENANT_A}"), format!("stock@{TENANT_B}")]
    );
    assert_eq!(rows[1].account_name.as_deref(), Some("brand-b"));
    assert_eq!(rows[1].visible, Some(1));

    // An account by its name, a consumer by its name.
    let shown: Shown = ecomm()
        .args("--accounts tenants -o json dlq show stock@brand-b")
        .code(0)
        .json();
    assert_eq!(shown.messages.len(), 1, "{shown:?}");
    assert_eq!(shown.messages[0].order_id.as_deref(), Some("ord-b"));

    // A set or name the file does not have is a usage error saying what it has.
    let stderr = ecomm().args("--accounts staging dlq ls").code(2).stderr();
    assert!(
        stderr.contains("nor a set or an account named in the config file (tenants, brand-b)"),
        "{stderr}"
    );
}

#[tokio::test]
async fn all_accounts_reads_the_organizations_active_accounts() {
    let organizations = aws_sdk_organizations::Client::new(&sdk_config(&endpoint()).await);
    if organizations.describe_organization().send().await.is_err() {
        organizations
            .create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .expect("create the organization");
    }
    let created = organizations
        .create_account()
        .account_name(unique("tenant"))
        .email(format!("{}@example.com", unique("tenant")))
        .send()
        .await
        .expect("create an account");
    let tenant = created
        .create_account_status()
        .and_then(|s| s.account_id())
        .expect("moto creates the account at once")
        .to_owned();
    let bus = unique("ecomm");
    let stack = Stack::deploy_in(&tenant, &bus, &[("inventory", Wiring::Both)]).await;

    let rows: Vec<LsRow> = stack
        .ecomm()
        .args("--all-accounts --account-role ecomm-oncall -o json dlq ls")
        .code(3)
        .json();
    assert!(
        rows.iter()
            .any(|r| r.target == format!("inventory@{tenant}")),
        "{rows:#?}"
    );
    // The management account is in the organization too, without this bus.
    let management = rows
        .iter()
        .find(|r| r.target.starts_with('*'))
        .unwrap_or_else(|| panic!("{rows:#?}"));
    assert!(
        management
            .unreachable
            .as_deref()
            .is_some_and(|r| r.contains("not found")),
        "{management:?}"
    );
}

/// A central bus in `central`, and in tenant A a forward rule to it whose DLQ holds `event`,
/// failed with `NO_PERMISSIONS`: the central stack, the tenant stack, the DLQ message's id.
async fn forward_to(central: &str, event: &Value) -> (Stack, Stack, String) {
    let central_bus = unique("ecomm");
    let central_stack = Stack::deploy_in(central, &central_bus, &[]).await;
    let mut tenant = Stack::deploy_in(TENANT_A, &unique("ecomm"), &[]).await;
    let central_arn = format!("arn:aws:events:us-east-1:{central}:event-bus/{central_bus}");
    tenant
        .deploy_target("forward", Direct::Bus(central_arn), None)
        .await;
    let seeded = tenant
        .dlq("forward")
        .seed_target_failure(event, "NO_PERMISSIONS")
        .await;
    (central_stack, tenant, seeded)
}

/// `redrive --target forward@<tenant A>` across accounts, with the exit code expected.
fn redrive_forward(tenant: &Stack, code: i32) -> RedriveReport {
    tenant
        .ecomm()
        .args(&format!(
            "--accounts {TENANT_A} --account-role ecomm-oncall -o json redrive --target forward@{TENANT_A}"
        ))
        .code(code)
        .json()
}

/// A tenant's forward DLQ replayed to its target, the central bus of another account: the
/// `PutEvents` names that bus by ARN, with the tenant's session. moto resolves a bus only in the
/// caller's own account, so it answers as AWS does when the central bus is gone or refuses: the
/// replay fails, and the message stays, visible, for the next run. (The success of a
/// cross-account put cannot be shown on moto; the test below shows it between two buses of one
/// account.)
#[tokio::test]
async fn a_forward_replay_the_central_bus_refuses_names_it_and_loses_nothing() {
    let (central, tenant, seeded) = forward_to(TENANT_B, &order_created("ord-t", "c-t")).await;

    let report = redrive_forward(&tenant, 3);
    assert_eq!((report.redriven, report.failed), (0, 1), "{report:?}");
    let reason = &report.not_redriven[0].reason;
    assert!(
        reason.contains("putting events on the bus") && reason.contains(&central.bus),
        "{reason}"
    );
    assert_eq!(
        tenant.dlq("forward").ids().await,
        std::collections::BTreeSet::from([seeded])
    );
    tenant.dlq("forward").assert_all_visible(1).await;
}

#[tokio::test]
async fn a_forward_dlq_is_replayed_onto_the_bus_its_target_names_unchanged() {
    let event = order_created("ord-t", "c-t");
    let (central, tenant, _) = forward_to(TENANT_A, &event).await;
    let tap = central.tap().await;

    let report = redrive_forward(&tenant, 0);
    assert_eq!((report.redriven, report.failed), (1, 0), "{report:?}");
    assert!(tenant.dlq("forward").ids().await.is_empty());
    let arrived = central.tapped(&tap).await;
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    assert_eq!(
        arrived[0]["detail"], event["detail"],
        "the event, unchanged, on the central bus"
    );
}

#[tokio::test]
async fn the_ui_across_accounts_opens_a_dlq_in_the_account_that_owns_it_and_gives_it_back() {
    let bus = unique("ecomm");
    let a = Stack::deploy_in(TENANT_A, &bus, &[("inventory", Wiring::Both)]).await;
    let b = Stack::deploy_in(TENANT_B, &bus, &[("inventory", Wiring::Both)]).await;
    a.dlq("inventory")
        .seed_in_turn(&[order_created("ord-a", "c-a")])
        .await;
    b.dlq("inventory")
        .seed_in_turn(&[
            order_created("ord-b1", "c-b1"),
            order_created("ord-b2", "c-b2"),
        ])
        .await;
    let ui = a
        .ecomm()
        .args(&format!(
            "--accounts {TENANT_A},{TENANT_B} --account-role ecomm-oncall ui --refresh 60"
        ))
        .process();
    let mut pty = Pty::run(&ui, 120, 30);
    let overview = pty.wait_for(TENANT_B);
    assert!(overview.contains("account"), "{overview}");
    pty.keys("\x1b[B");
    pty.keys("\r");
    pty.wait_for(&format!("inventory@{TENANT_B} DLQ: 2 of 2 read"));
    pty.wait_for("2 hidden while open");
    assert_eq!(b.dlq("inventory").depth().await, (0, 2), "held in B");
    assert_eq!(a.dlq("inventory").depth().await, (1, 0), "A untouched");
    pty.keys("\x7f");
    pty.wait_for("Enter open DLQ");
    b.dlq("inventory").assert_all_visible(2).await;
    pty.keys("q");
    assert_eq!(pty.exit_code(), 0, "{}", pty.contents());
}
