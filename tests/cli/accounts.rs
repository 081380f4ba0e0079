//! `--accounts`: one on-call view over the same bus in several accounts, each read and acted on
//! with a session of `--account-role` assumed in it (moto's multi-account support).

use std::collections::BTreeSet;

use crate::support::{
    DeniedAccount, LambdaRecorder, LsRow, RedriveReport, Stack, Wiring, order_created, unique,
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
