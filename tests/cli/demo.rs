//! `ecomm demo` and the local stack it runs.

use serde_json::Value;

use crate::support::{ecomm_on, temp_state};

fn demo_json(state: &std::path::Path, args: &[&str]) -> Value {
    let out = ecomm_on(state)
        .args([
            "demo",
            "--output",
            "json",
            "--start",
            "2026-11-25T10:00:00Z",
        ])
        .args(args)
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn the_demo_accounts_for_every_order_and_reset_deletes_the_state() {
    let (_dir, state) = temp_state();
    let report = demo_json(&state, &["--orders", "60"]);
    let submitted = report["ordersSubmitted"].as_u64().unwrap();
    let legacy = report["legacyV1Events"].as_u64().unwrap();
    assert_eq!(submitted + legacy, 60);
    assert_eq!(
        report["ordersAccepted"].as_u64().unwrap() + report["ordersRejected"].as_u64().unwrap(),
        submitted
    );
    assert!(state.exists());

    ecomm_on(&state).args(["local", "reset"]).assert().success();
    assert!(!state.exists());
}
