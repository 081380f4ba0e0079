//! `ecomm ui` in a real terminal (a pseudo-terminal read back through a terminal emulator), and
//! colours on a terminal only.

use std::path::Path;

use crate::support::{Ecomm, Pty, depth, recent_demo_state, show};

const DOWN: &str = "\x1b[B";
const ENTER: &str = "\r";

fn ui(state: &Path) -> Pty {
    let state = state.to_str().expect("a UTF-8 path");
    Pty::spawn(&["--state", state, "ui", "--refresh", "1"], &[], 100, 30)
}

#[test]
fn two_marked_messages_are_redriven_from_the_ui_and_nothing_stays_hidden() {
    let (_dir, state) = recent_demo_state();
    let before = show(&state, "notification", &[]);
    assert_eq!(before.len(), 5);
    let mut oldest: Vec<_> = before
        .iter()
        .map(|m| (m.sent_at, m.message_id.clone()))
        .collect();
    oldest.sort();

    let mut pty = ui(&state);
    pty.wait_for("notification   5");
    pty.keys(DOWN);
    pty.keys(ENTER);
    pty.wait_for("notification DLQ: 5 of 5 read");
    pty.keys("  ");
    pty.wait_for("2 marked");
    pty.keys("r");
    let confirm = pty.wait_for("Redrive 2 message(s) of notification?");
    assert!(
        confirm.contains("as EventBridge delivers it (--via"),
        "{confirm}"
    );
    pty.keys("y");
    let result = pty.wait_for("redriven: 2");
    assert!(result.contains("journal: "), "{result}");
    pty.wait_for("notification DLQ: 3 of 3 read");
    pty.keys("x");
    pty.keys("q");
    assert_eq!(pty.exit_code(), 0, "{}", pty.contents());

    // Exactly the two oldest (the first two rows, oldest first) left; none is held invisible.
    let after: Vec<String> = show(&state, "notification", &[])
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    let expected: Vec<String> = oldest[2..].iter().map(|(_, id)| id.clone()).collect();
    let mut after_sorted = after.clone();
    after_sorted.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(after_sorted, expected_sorted);
    assert_eq!(depth(&state, "notification"), (3, 0));
}

#[test]
fn the_ui_refuses_to_start_without_a_terminal() {
    let (_dir, state) = recent_demo_state();
    let stderr = Ecomm::local(&state).args("ui").code(2).stderr();
    assert!(stderr.contains("`ecomm ui` needs a terminal"), "{stderr}");
}

#[test]
fn tables_are_coloured_on_a_terminal_only_and_never_with_no_color() {
    let (_dir, state) = recent_demo_state();
    let path = state.to_str().expect("a UTF-8 path");
    let red = b"\x1b[38;5;9m";
    let coloured = |args: &[&str], env: &[(&str, &str)]| {
        let mut pty = Pty::spawn(args, env, 120, 40);
        assert_eq!(pty.exit_code(), 0, "{}", pty.contents());
        // The reader may still be draining the last bytes: wait for the table's end.
        pty.wait_for("└");
        pty.raw().windows(red.len()).any(|w| w == red)
    };
    assert!(
        coloured(&["--state", path, "dlq", "ls"], &[]),
        "a DLQ depth above 0 is red"
    );
    assert!(!coloured(
        &["--state", path, "dlq", "ls"],
        &[("NO_COLOR", "1")]
    ));
    assert!(!coloured(
        &["--state", path, "--no-color", "dlq", "ls"],
        &[]
    ));
    let piped = Ecomm::local(&state)
        .env_remove("NO_COLOR")
        .args("dlq ls")
        .stdout();
    assert!(
        !piped.contains('\x1b'),
        "no colour off a terminal:\n{piped}"
    );
}
