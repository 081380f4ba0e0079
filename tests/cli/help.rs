//! `--help` and usage errors.

use crate::support::ecomm;

#[test]
fn help_documents_the_exit_codes() {
    let out = ecomm()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let help = String::from_utf8(out).unwrap();
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("3  partial success"), "{help}");
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    ecomm().arg("--no-such-flag").assert().code(2);
}

/// Exit 2, and stderr says `hint`.
fn refused(args: &[&str], hint: &str) {
    let out = ecomm().args(args).assert().code(2).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(hint), "ecomm {args:?}: {stderr}");
}

#[test]
fn a_bare_number_for_since_or_until_is_refused_with_a_hint_at_the_units() {
    refused(&["dlq", "show", "inventory", "--since", "2"], "has no unit");
    refused(&["dlq", "show", "inventory", "--until", "30"], "30m");
    refused(&["trace", "ord-1", "--since", "7"], "7d");
}

#[test]
fn impossible_counts_and_rates_are_refused_before_anything_runs() {
    refused(
        &["redrive", "--target", "inventory", "--rate", "0"],
        "above 0",
    );
    refused(
        &["redrive", "--target", "inventory", "--rate=-5"],
        "above 0",
    );
    refused(
        &["redrive", "--target", "inventory", "--rate", "inf"],
        "above 0",
    );
    refused(&["redrive", "--target", "inventory", "--max", "0"], "--max");
    refused(&["dlq", "show", "inventory", "--limit", "0"], "--limit");
    refused(
        &["redrive", "--target", "inventory", "--concurrency", "0"],
        "--concurrency",
    );
}

#[test]
fn read_only_commands_on_an_empty_local_stack_say_how_to_fill_it_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("not-yet").join("local.sqlite");
    for args in [
        &["dlq", "ls"][..],
        &["dlq", "show", "inventory"],
        &["dlq", "export", "inventory"],
        &["trace", "ord-00001"],
    ] {
        let out = ecomm()
            .arg("--state")
            .arg(&state)
            .args(args)
            .assert()
            .code(1)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("the local stack is empty") && stderr.contains("ecomm demo"),
            "ecomm {args:?}: {stderr}"
        );
    }
    assert!(
        !dir.path().join("not-yet").exists(),
        "a read-only command created the state directory"
    );
}
