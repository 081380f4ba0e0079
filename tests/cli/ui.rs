//! `ecomm ui` in a real terminal (a pseudo-terminal read back through a terminal emulator), and
//! colours on a terminal only.

use std::path::Path;
use std::time::{Duration, Instant};

use std::collections::BTreeSet;

use crate::support::{
    Ecomm, FaultMix, FaultyProxy, LambdaRecorder, Pty, Stack, Wiring, by_event_id, depth,
    order_created, recent_demo_state, show,
};

const DOWN: &str = "\x1b[B";
const ENTER: &str = "\r";
const BACK: &str = "\x7f";

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

#[tokio::test]
async fn on_aws_the_ui_redrives_two_marked_messages_to_their_function_and_nothing_else() {
    let stack = Stack::deploy(&[("inventory", Wiring::Both)]).await;
    let recorder = LambdaRecorder::start(&stack.endpoint);
    let function = stack.consumer_of("inventory").function.clone();
    let events = [
        order_created("ord-1", "corr-a"),
        order_created("ord-2", "corr-b"),
        order_created("ord-3", "corr-c"),
    ];
    let dlq = stack.dlq("inventory");
    let seeded: BTreeSet<String> = dlq.seed_in_turn(&events).await.into_iter().collect();

    let ui = stack
        .ecomm_at(recorder.endpoint())
        .each(["ui", "--refresh", "1"])
        .process();
    let mut pty = Pty::run(&ui, 100, 30);
    pty.wait_for("inventory      3");
    pty.keys(ENTER);
    pty.wait_for("inventory DLQ: 3 of 3 read");
    assert_eq!(dlq.depth().await, (0, 3), "hidden while the view is open");
    pty.keys("  ");
    pty.wait_for("2 marked");
    pty.keys("r");
    pty.wait_for("Redrive 2 message(s) of inventory?");
    pty.keys("y");
    pty.wait_for("redriven: 2");
    pty.wait_for("inventory DLQ: 1 of 1 read");
    pty.keys("x");
    // Ctrl-C quits as q does, giving the held message back.
    pty.keys("\x03");
    assert_eq!(pty.exit_code(), 0, "{}", pty.contents());

    // Two events went to the function, once each, and the third stayed, visible.
    let delivered = recorder.delivered_to(&function);
    assert_eq!(delivered.len(), 2, "{delivered:?}");
    let left = dlq.ids().await;
    assert_eq!(left.len(), 1);
    assert!(left.is_subset(&seeded));
    let delivered = by_event_id(delivered.into_iter().map(|i| i.payload));
    let all = by_event_id(events);
    assert_eq!(delivered.len(), 2, "two distinct events: {delivered:?}");
    assert!(
        delivered.iter().all(|(id, once)| all.get(id) == Some(once)),
        "the original events, unchanged, once each: {delivered:?}"
    );
    dlq.assert_all_visible(1).await;
}

#[tokio::test]
async fn on_aws_a_throttled_read_says_it_backs_off_then_gives_up_and_the_ui_stays_alive() {
    let stack = Stack::deploy_unrouted(&[("notification", Wiring::Both)]).await;
    let dlq = stack.dlq("notification");
    for order in ["ord-1", "ord-2"] {
        dlq.seed_target_failure(&order_created(order, "c"), "THROTTLING")
            .await;
    }
    // Every receive is throttled; the queue counters are not.
    let proxy = FaultyProxy::start(&stack.endpoint, FaultMix::throttle_all());
    let ui = stack
        .ecomm_at(proxy.endpoint())
        .args("--give-up-after 3s")
        .each(["ui", "--refresh", "60"])
        .process();
    let mut pty = Pty::run(&ui, 120, 30);
    pty.wait_for("notification   2");
    pty.keys(ENTER);
    let backing_off = pty.wait_for("backing off");
    assert!(backing_off.contains("throttled by AWS"), "{backing_off}");
    let gave_up = pty.wait_for("gave up after 3s without progress");
    assert!(
        gave_up.contains("error: the DLQ was read in part"),
        "{gave_up}"
    );
    // Still alive: back to the overview, then quit normally.
    pty.keys(BACK);
    pty.wait_for("Enter open DLQ");
    pty.keys("q");
    assert_eq!(pty.exit_code(), 0, "{}", pty.contents());
    assert!(proxy.injected().throttled > 0);
    dlq.assert_all_visible(2).await;
}

/// Wait until `check` holds, for at most `within`; `what` says what was awaited.
fn eventually(within: Duration, what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_queue_view_hides_its_messages_only_while_open_and_a_hangup_or_kill_gives_them_back() {
    let (_dir, state) = recent_demo_state();
    let path = state.to_str().expect("a UTF-8 path");
    let open = || {
        let args = [
            "--state",
            path,
            "ui",
            "--refresh",
            "1",
            "--visibility-timeout",
            "3",
        ];
        let mut pty = Pty::spawn(&args, &[], 100, 30);
        pty.wait_for("notification   5");
        pty.keys(DOWN);
        pty.keys(ENTER);
        pty.wait_for("5 hidden while open");
        pty
    };
    let mut pty = open();
    assert_eq!(depth(&state, "notification"), (0, 5));

    // Renewed while open: still hidden well past one 3-second timeout.
    let watched = Instant::now();
    while watched.elapsed() < Duration::from_secs(5) {
        assert_eq!(
            depth(&state, "notification"),
            (0, 5),
            "after {:?}",
            watched.elapsed()
        );
    }

    // Back to the overview: given back at once, not at the timeout.
    pty.keys(BACK);
    eventually(Duration::from_secs(2), "released on leaving", || {
        depth(&state, "notification") == (5, 0)
    });

    // Opened again, then the terminal closes (SIGHUP): released before it exits.
    pty.keys(ENTER);
    pty.wait_for("5 hidden while open");
    assert_eq!(depth(&state, "notification"), (0, 5));
    pty.signal("HUP");
    pty.exit_code();
    assert_eq!(depth(&state, "notification"), (5, 0), "released on hangup");

    // kill -9: nothing can release them, and they come back within the timeout on their own.
    let mut pty = open();
    pty.signal("KILL");
    pty.exit_code();
    let killed = Instant::now();
    assert_eq!(depth(&state, "notification"), (0, 5));
    eventually(
        Duration::from_secs(5),
        "visible again after kill -9",
        || depth(&state, "notification") == (5, 0),
    );
    assert!(
        killed.elapsed() < Duration::from_secs(4),
        "{:?}",
        killed.elapsed()
    );
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
