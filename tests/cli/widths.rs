//! Human output in terminals of 80, 100, 120 and 200 columns (`COLUMNS`): tables keep the
//! columns that matter and cut the rest, a row takes at most two lines, trees wrap under their
//! branches, and commands to copy stay whole.

use unicode_width::UnicodeWidthStr as _;

use crate::support::{Ecomm, Session, assert_session_snapshot, recent_demo_state};

const WIDTHS: [usize; 4] = [80, 100, 120, 200];

/// Ages and the ids that differ between runs, at any length a column cut them to.
const FILTERS: [(&str, &str); 4] = [
    (r"┆ \d{1,2}[sm] *┆", "┆ age ┆"),
    (r"for \d{1,2}[sm]:", "for [AGE]:"),
    (r"\b[0-9a-f]{8}-[0-9a-f-]{0,27}…", "[ID]…"),
    (r"\b[0-9a-f]{7,8}\b…?", "[ID]"),
];

/// Every table and tree line fits `width`; a table row takes one or two lines.
fn assert_fits(session: &Session, width: usize) {
    let mut continued = 0;
    for line in session.stdout.lines() {
        // A command to copy stays whole, under any branch.
        let command = line.contains("replay: ");
        let table = line.starts_with(['┌', '│', '╞', '└']);
        let tree = line.starts_with(['├', '└', '│', ' ']);
        if (table || tree) && !command {
            assert!(
                line.width() <= width,
                "{}: a line of {} columns in {width}:\n{line}\n{}",
                session.line,
                line.width(),
                session.stdout
            );
        }
        // A row's second line has an empty first cell; a third would too.
        if line.starts_with("│ ")
            && line
                .trim_start_matches('│')
                .split('┆')
                .next()
                .is_some_and(|first| first.trim().is_empty())
        {
            continued += 1;
            assert!(
                continued < 2,
                "{}: a row over three lines:\n{}",
                session.line,
                session.stdout
            );
        } else {
            continued = 0;
        }
    }
}

#[test]
fn tables_and_trees_fit_80_100_120_and_200_columns() {
    for width in WIDTHS {
        let (_dir, state) = recent_demo_state();
        let run = |args: &str, code: i32| {
            let session = Ecomm::local(&state)
                .columns(width)
                .args(args)
                .code(code)
                .run();
            assert_fits(&session, width);
            session
        };
        let ls = run("dlq ls", 0);
        let show = run("dlq show notification", 0);
        let trace = run("trace ord-00081", 0);
        let redrive = run("redrive --target notification", 0);
        for (name, session) in [
            ("ls", &ls),
            ("show", &show),
            ("trace", &trace),
            ("redrive", &redrive),
        ] {
            let [a, b, c, d] = FILTERS;
            assert_session_snapshot!(format!("{name}_{width}_columns"), session, a, b, c, d);
        }
        if width == 80 {
            assert!(
                show.stdout
                    .contains("(not shown, to fit: receives, kind, attempts, event, correlation;"),
                "{}",
                show.stdout
            );
        }
    }
}

#[test]
fn wide_output_and_pipes_show_every_column_at_full_length() {
    let (_dir, state) = recent_demo_state();
    let wide = Ecomm::local(&state)
        .columns(80)
        .args("--output wide dlq show notification")
        .stdout();
    let piped = Ecomm::local(&state).args("dlq show notification").stdout();
    for stdout in [&wide, &piped] {
        assert!(stdout.contains("correlation"), "{stdout}");
        assert!(
            stdout.contains("SES is unavailable: connection timed out (injected outage)"),
            "{stdout}"
        );
        assert!(!stdout.contains('…'), "nothing cut:\n{stdout}");
        assert!(!stdout.contains("not shown, to fit"), "{stdout}");
    }
}
