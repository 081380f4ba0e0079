//! `--help`, usage errors, and what a command says before it has anything to act on.

use crate::support::{Ecomm, assert_session_snapshot};

#[test]
fn help_documents_the_exit_codes() {
    let help = Ecomm::bare().args("--help").stdout();
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("3  partial success"), "{help}");
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    Ecomm::bare().args("--no-such-flag").code(2).run();
}

/// Exit 2, and stderr says `hint`.
fn refused(line: &str, hint: &str) {
    let stderr = Ecomm::bare().args(line).code(2).stderr();
    assert!(stderr.contains(hint), "ecomm {line}: {stderr}");
}

#[test]
fn a_bare_number_for_since_or_until_is_refused_with_a_hint_at_the_units() {
    refused("dlq show inventory --since 2", "has no unit");
    refused("dlq show inventory --until 30", "30m");
    refused("trace ord-1 --since 7", "7d");
}

#[test]
fn impossible_counts_and_rates_are_refused_before_anything_runs() {
    refused("redrive --target inventory --rate 0", "above 0");
    refused("redrive --target inventory --rate=-5", "above 0");
    refused("redrive --target inventory --rate inf", "above 0");
    refused("redrive --target inventory --max 0", "--max");
    refused("dlq show inventory --limit 0", "--limit");
    refused(
        "redrive --target inventory --concurrency 0",
        "--concurrency",
    );
}

#[test]
fn read_only_commands_on_an_empty_local_stack_say_how_to_fill_it_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("not-yet").join("local.sqlite");
    for line in [
        "dlq ls",
        "dlq show inventory",
        "dlq export inventory",
        "trace ord-00001",
    ] {
        let session = Ecomm::local(&state).args(line).code(1).run();
        assert!(
            session.stderr.contains("the local stack is empty")
                && session.stderr.contains("ecomm demo"),
            "{}",
            session.transcript()
        );
    }
    assert!(
        !dir.path().join("not-yet").exists(),
        "a read-only command created the state directory"
    );
    assert_session_snapshot!(
        "empty_local_stack",
        Ecomm::local(&state).args("dlq ls").code(1).run(),
        (r"state file at \S+", "state file at [STATE]"),
    );
}
