//! `ecomm ui`'s screens, drawn from its state (`crate::ui::app`) with the same cells, masks and
//! trace tree as the CLI's output.

use std::fmt::Write as _;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize as _};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, TableState, Wrap};

use super::cells::{age, message_name, opt};
use super::fit::Tone;
use super::pii::{mask_text, pretty_body};
use crate::ui::app::{App, Dialog, Screen, Sort};

fn color(tone: Tone) -> Style {
    match tone {
        Tone::Plain => Style::default(),
        Tone::Good => Style::default().fg(Color::Green),
        Tone::Warn => Style::default().fg(Color::Yellow),
        Tone::Bad => Style::default().fg(Color::Red),
    }
}

fn count_style(n: Option<u64>, tone: fn(u64) -> Tone) -> Style {
    color(n.map_or(Tone::Plain, tone))
}

/// Draw the whole screen: a title line, the screen, the status line, and any dialog on top.
pub(crate) fn draw(frame: &mut Frame<'_>, app: &App, progress: Option<&str>) {
    let [title, body, status, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::raw(" ecomm ui ").bold().reversed(),
            Span::raw(format!(" {}", app.banner)),
        ])),
        title,
    );
    match app.screen {
        Screen::Overview => overview(frame, app, body),
        Screen::Queue => queue(frame, app, body),
        Screen::Message => message(frame, app, body),
        Screen::Trace => trace(frame, app, body),
    }
    // What runs, and why it is slowed down (throttling); with nothing running, the last
    // error, else the weather (the overview's refresh backing off).
    let busy = progress.or(app.busy.as_deref());
    let weather = |w: &str| Span::raw(w.to_owned()).fg(Color::Yellow).bold();
    let status_line = match (busy, &app.weather, &app.last_error) {
        (Some(busy), Some(w), _) => Line::from(vec![
            Span::raw(format!("{busy} · ")).fg(Color::Yellow),
            weather(w),
        ]),
        (Some(busy), None, _) => Line::from(Span::raw(busy.to_owned()).fg(Color::Yellow)),
        (None, _, Some(error)) => Line::from(Span::raw(format!("error: {error}")).fg(Color::Red)),
        (None, Some(w), None) => Line::from(weather(w)),
        (None, None, None) => Line::from(Span::raw("ready").fg(Color::DarkGray)),
    };
    frame.render_widget(Paragraph::new(status_line), status);
    frame.render_widget(
        Paragraph::new(Line::from(keys_of(app)).fg(Color::DarkGray)),
        keys,
    );
    if let Some(dialog) = &app.dialog {
        draw_dialog(frame, dialog);
    }
}

fn keys_of(app: &App) -> &'static str {
    match app.screen {
        Screen::Overview => "↑↓ move · Enter open DLQ · g refresh · ? help · q quit",
        Screen::Queue if app.queue.filtering => "type to filter · Enter keep · Esc clear",
        Screen::Queue => {
            "Enter open · space mark · r redrive · x purge · e export · t trace · / filter · s sort · Esc back"
        }
        Screen::Message => "r redrive · t trace · P show PII · ↑↓ scroll · Esc back",
        Screen::Trace => "↑↓ scroll · Esc back",
    }
}

fn overview(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" DLQs: every consumer ");
    let Some(list) = &app.overview else {
        frame.render_widget(Paragraph::new("reading the DLQs…").block(block), area);
        return;
    };
    // Across accounts, the account has a column of its own: `inventory` under `platform`,
    // rather than `inventory@000000000000` cut to fit.
    let accounts = list.rows.iter().any(|r| r.account.is_some());
    let rows = list.rows.iter().map(|r| {
        let wired = |yes: bool| {
            if yes {
                Span::raw("yes").fg(Color::Green)
            } else {
                Span::raw("NO").fg(Color::Red)
            }
        };
        let findings = r.findings.first().map_or_else(String::new, |f| {
            if r.findings.len() > 1 {
                format!("{f} (+{})", r.findings.len() - 1)
            } else {
                f.clone()
            }
        });
        let mut cells = if accounts {
            let (name, id) = crate::backend::accounts::split(&r.target);
            vec![
                Line::from(name.to_owned()),
                Line::from(
                    r.account_name
                        .clone()
                        .or_else(|| id.map(str::to_owned))
                        .unwrap_or_default(),
                ),
            ]
        } else {
            vec![Line::from(r.target.clone())]
        };
        cells.extend([
            Line::from(Span::styled(
                opt(r.visible),
                count_style(r.visible, Tone::bad_above_zero),
            )),
            Line::from(Span::styled(
                opt(r.in_flight),
                count_style(r.in_flight, Tone::warn_above_zero),
            )),
            Line::from(opt(r.oldest_sent.map(age))),
            // An account that could not be read says nothing of its wiring.
            Line::from(if r.unreachable.is_some() {
                Span::raw("-")
            } else {
                wired(r.delivery_failures_wired)
            }),
            Line::from(
                r.function_errors_wired
                    .map_or_else(|| Span::raw("-"), wired),
            ),
            Line::from(Span::raw(findings).fg(Color::Yellow)),
        ]);
        Row::new(cells)
    });
    let mut widths = vec![Constraint::Length(14)];
    let mut header = vec!["target"];
    if accounts {
        widths.push(Constraint::Length(14));
        header.push("account");
    }
    widths.extend([
        Constraint::Length(8),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Min(10),
    ]);
    header.extend([
        "visible",
        "in flight",
        "oldest",
        "delivery",
        "function",
        "findings",
    ]);
    let table = Table::new(rows, widths)
        .header(Row::new(header).bold())
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .block(block);
    let mut state = TableState::default().with_selected(Some(app.selected));
    frame.render_stateful_widget(table, area, &mut state);
}

fn queue(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let view = &app.queue;
    let shown = view.visible();
    let mut title = format!(" {} DLQ", view.target);
    if let Some(report) = &view.report {
        let _ = write!(title, ": {} of {} read", shown.len(), report.coverage.seen);
    }
    if !view.marked.is_empty() {
        let _ = write!(title, ", {} marked", view.marked.len());
    }
    if let Some(held) = app.held.filter(|n| *n > 0) {
        let _ = write!(title, " · {held} hidden while open");
    }
    title.push_str(match view.sort {
        Sort::Age => " · oldest first ",
        Sort::Error => " · by error ",
    });
    let block = Block::default().borders(Borders::ALL).title(title);
    let [filter_area, table_area] = if view.filtering || !view.filter.is_empty() {
        Layout::vertical([Constraint::Length(1), Constraint::Min(2)]).areas(area)
    } else {
        [Rect::default(), area]
    };
    if filter_area.height > 0 {
        frame.render_widget(
            Paragraph::new(format!(
                "/{}{}",
                view.filter,
                if view.filtering { "▏" } else { "" }
            ))
            .fg(Color::Cyan),
            filter_area,
        );
    }
    if view.report.is_none() {
        frame.render_widget(Paragraph::new("reading the DLQ…").block(block), table_area);
        return;
    }
    // Under 100 columns the event type goes: the error and its reason matter more.
    let wide = table_area.width >= 100;
    let rows = shown.iter().map(|m| {
        let mark = if view.marked.contains(&m.message_id) {
            "●"
        } else {
            " "
        };
        let mut cells = vec![
            Line::from(Span::raw(mark).fg(Color::Cyan)),
            Line::from(super::fit::cut(message_name(&m.message_id), 8)),
            Line::from(opt(m.sent_at.map(age))),
            Line::from(Span::raw(opt(m.error_code.as_deref())).fg(Color::Red)),
            Line::from(opt(m.error_message.as_deref().map(mask_text))),
        ];
        if wide {
            cells.push(Line::from(opt(m.detail_type.as_deref())));
        }
        cells.push(Line::from(opt(m.order_id.as_deref())));
        Row::new(cells)
    });
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(if wide { 24 } else { 18 }),
        Constraint::Min(12),
    ];
    let mut header = vec!["", "message", "age", "error", "why"];
    if wide {
        widths.push(Constraint::Length(18));
        header.push("event");
    }
    widths.push(Constraint::Length(13));
    header.push("order");
    let table = Table::new(rows, widths)
        .header(Row::new(header).bold())
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .block(block);
    let mut state = TableState::default().with_selected(Some(view.selected));
    frame.render_stateful_widget(table, table_area, &mut state);
}

fn message(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let Some(m) = app.queue.current() else {
        return;
    };
    let pii = |text: &str| {
        if app.reveal_pii {
            text.to_owned()
        } else {
            mask_text(text)
        }
    };
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::raw(format!("{name:<12} ")).bold(),
            Span::raw(value),
        ])
    };
    let mut lines = vec![
        field("message", m.message_id.clone()),
        field("kind", m.kind.as_str().to_owned()),
        Line::from(vec![
            Span::raw(format!("{:<12} ", "error")).bold(),
            Span::raw(opt(m.error_code.as_deref())).fg(Color::Red),
        ]),
        field("why", opt(m.error_message.as_deref().map(pii))),
        field("attempts", opt(m.attempts)),
        field("exhausted", opt(m.exhausted_condition.as_deref())),
        field("failed", opt(m.failed_arn.as_deref())),
        field(
            "event",
            format!(
                "{} {}",
                opt(m.detail_type.as_deref()),
                m.event_version
                    .as_deref()
                    .map(|v| format!("v{v}"))
                    .unwrap_or_default()
            ),
        ),
        field("order", opt(m.order_id.as_deref())),
        field("correlation", opt(m.correlation_id.as_deref())),
        field(
            "sent",
            m.sent_at.map_or_else(
                || "-".to_owned(),
                |t| format!("{} ({} ago)", t.format("%Y-%m-%d %H:%M:%S UTC"), age(t)),
            ),
        ),
        field("receives", m.receive_count.to_string()),
    ];
    // What the bus itself logged of a failed delivery, when it logs.
    if let Some(delivery) = &m.delivery {
        lines.push(field("bus log", delivery.summary()));
    }
    lines.extend([Line::from(""), Line::from("attributes").bold()]);
    for (name, value) in m.attributes.iter().flatten() {
        lines.push(Line::from(format!(
            "  {name} [{}] = {}",
            value.data_type(),
            value.as_text().map_or_else(|| "<binary>".to_owned(), pii)
        )));
    }
    lines.push(Line::from(""));
    lines.push(
        Line::from(if app.reveal_pii {
            "body (personal data shown)"
        } else {
            "body (personal data masked: P shows it)"
        })
        .bold(),
    );
    let pretty = pretty_body(m.body.as_deref().unwrap_or_default(), app.reveal_pii);
    lines.extend(pretty.lines().map(|l| Line::from(l.to_owned())));
    frame.render_widget(
        Paragraph::new(lines)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" {} DLQ: one message ", app.queue.target)),
            )
            .wrap(Wrap { trim: false })
            .scroll((app.scroll, 0)),
        area,
    );
}

fn trace(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let Some(trace) = &app.trace else {
        frame.render_widget(
            Paragraph::new("reading the logs and DLQs…")
                .block(Block::default().borders(Borders::ALL).title(" trace ")),
            area,
        );
        return;
    };
    let mut lines = vec![Line::from(super::trace::heading(trace))];
    if trace.events.is_empty() {
        lines.push(Line::from(
            "nothing found in the logs or DLQs for this window",
        ));
    }
    let inner = usize::from(area.width.saturating_sub(2));
    for line in super::trace::tree(trace) {
        for (lead, text) in line.fitted(Some(inner)) {
            lines.push(Line::from(vec![
                Span::raw(lead),
                Span::styled(text, color(line.tone)),
            ]));
        }
    }
    for problem in &trace.problems {
        lines.push(Line::from(
            Span::raw(format!("warning: {problem}")).fg(Color::Yellow),
        ));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" trace {} ", trace.query)),
            )
            .scroll((app.scroll, 0)),
        area,
    );
}

/// The keys, in the help dialog.
const HELP: &[(&str, &str)] = &[
    ("↑ ↓  j k", "move, or scroll"),
    ("Enter", "open the DLQ, or the message"),
    ("Esc", "back"),
    ("space", "mark the message (queue view)"),
    ("/", "filter by order, correlation, error code or event"),
    ("s", "sort by age or by error"),
    ("r", "redrive the marked messages, or this one"),
    (
        "x",
        "purge the marked messages, or this one (archived first)",
    ),
    ("e", "export the marked messages, or this one"),
    ("t", "trace the message's order"),
    ("P", "show personal data in the message view"),
    ("g", "read again now"),
    ("q", "quit"),
];

fn draw_dialog(frame: &mut Frame<'_>, dialog: &Dialog) {
    let (title, lines): (String, Vec<Line<'_>>) = match dialog {
        Dialog::Confirm { text, .. } => {
            let mut lines: Vec<Line<'_>> = text.iter().map(|t| Line::from(t.clone())).collect();
            lines.push(Line::from(""));
            lines.push(Line::from("y: yes · n or Esc: no").bold());
            (" confirm ".to_owned(), lines)
        }
        Dialog::Input { prompt, value, .. } => (
            " a path ".to_owned(),
            vec![
                Line::from(prompt.clone()),
                Line::from(Span::raw(format!("{value}▏")).fg(Color::Cyan)),
                Line::from(""),
                Line::from("Enter: go on · Esc: cancel").bold(),
            ],
        ),
        Dialog::Result { title, lines } => {
            let mut shown: Vec<Line<'_>> = lines.iter().map(|t| Line::from(t.clone())).collect();
            shown.push(Line::from(""));
            shown.push(Line::from("any key: close").bold());
            (format!(" {title} "), shown)
        }
        Dialog::Help => (
            " keys ".to_owned(),
            HELP.iter()
                .map(|(key, what)| Line::from(format!("{key:<10} {what}")))
                .collect(),
        ),
    };
    let area = frame.area();
    let width = area.width.saturating_sub(4).min(76);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let wrapped: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let height = u16::try_from(wrapped + 2)
        .unwrap_or(u16::MAX)
        .min(area.height.saturating_sub(2));
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::default().borders(Borders::ALL).title(title))
            .wrap(Wrap { trim: false }),
        popup,
    );
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::draw;
    use crate::ui::app::{Answer, App, Work};
    use crate::ui::fixtures;

    /// The screen as text, one line per row, trailing blanks trimmed.
    fn screen(app: &App, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
        terminal
            .draw(|frame| draw(frame, app, None))
            .expect("drawn");
        let buffer = terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buffer.area.height {
            let line: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect();
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    fn keys(app: &mut App, keys: &[KeyCode]) {
        for key in keys {
            app.key(KeyEvent::from(*key));
        }
    }

    fn opened() -> App {
        let mut app = App::new("local stack: /tmp/state.db".to_owned());
        app.finished(&Work::Overview, Ok(Answer::Overview(fixtures::overview())));
        keys(&mut app, &[KeyCode::Down, KeyCode::Enter]);
        app.finished(
            &Work::Queue {
                target: "notification".to_owned(),
            },
            Ok(Answer::Queue(fixtures::notification_dlq())),
        );
        app
    }

    /// Every screen at 80×24 and 160×48.
    fn snapshot(name: &str, app: &App) {
        for (width, height) in [(80, 24), (160, 48)] {
            let mut settings = insta::Settings::clone_current();
            settings.set_prepend_module_to_snapshot(false);
            settings.set_snapshot_path("../../tests/snapshots/ui");
            settings.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", "[TIME]");
            settings.bind(|| {
                insta::assert_snapshot!(
                    format!("{name}_{width}x{height}"),
                    screen(app, width, height)
                );
            });
        }
    }

    #[test]
    fn overview() {
        let mut app = App::new("local stack: /tmp/state.db".to_owned());
        snapshot("overview_loading", &app);
        app.finished(&Work::Overview, Ok(Answer::Overview(fixtures::overview())));
        app.key(KeyEvent::from(KeyCode::Down));
        snapshot("overview", &app);
    }

    #[test]
    fn overview_across_accounts() {
        let mut app = App::new("aws: 3 account(s), role ecomm-oncall, bus ecomm-prod".to_owned());
        app.finished(
            &Work::Overview,
            Ok(Answer::Overview(fixtures::accounts_overview())),
        );
        snapshot("overview_accounts", &app);
    }

    #[test]
    fn a_failed_delivery_shows_what_the_bus_logged_of_it() {
        use crate::report::buslog::{AttemptResult, Delivery, DeliveryAttempt, DeliveryEnd};
        let mut app = opened();
        let throttled = |minute: i64| DeliveryAttempt {
            attempt: None,
            at: chrono::DateTime::UNIX_EPOCH + chrono::Duration::minutes(minute),
            result: AttemptResult::Throttled,
            error: Some("THROTTLING".to_owned()),
            message: None,
        };
        let report = app.queue.report.as_mut().unwrap();
        for message in &mut report.messages {
            message.delivery = Some(Delivery {
                rule: Some("ecomm-local-analytics".to_owned()),
                attempts: vec![throttled(0), throttled(61)],
                ended: Some(DeliveryEnd::SentToDlq),
            });
        }
        keys(&mut app, &[KeyCode::Enter]);
        let text = screen(&app, 160, 48);
        assert!(
            text.contains("bus log      2 attempts over 61 min: THROTTLING ×2, sent to DLQ"),
            "{text}"
        );
    }

    #[test]
    fn queue_with_marks_and_a_filter() {
        let mut app = opened();
        keys(&mut app, &[KeyCode::Char(' '), KeyCode::Char(' ')]);
        snapshot("queue_marked", &app);
        keys(
            &mut app,
            &"/invalid".chars().map(KeyCode::Char).collect::<Vec<_>>(),
        );
        snapshot("queue_filtering", &app);
    }

    #[test]
    fn message_masked_then_revealed() {
        let mut app = opened();
        keys(&mut app, &[KeyCode::Enter]);
        let masked = screen(&app, 160, 48);
        assert!(!masked.contains("jane.doe@example.com"), "{masked}");
        snapshot("message", &app);
        keys(&mut app, &[KeyCode::Char('P')]);
        snapshot("message_reveal_confirm", &app);
        keys(&mut app, &[KeyCode::Char('y')]);
        assert!(screen(&app, 160, 48).contains("jane.doe@example.com"));
    }

    #[test]
    fn trace_help_and_dialogs() {
        let mut app = opened();
        keys(&mut app, &[KeyCode::Char('t')]);
        snapshot("trace_loading", &app);
        app.finished(
            &Work::Trace {
                id: "ord-00081".to_owned(),
            },
            Ok(Answer::Trace(fixtures::empty_trace())),
        );
        snapshot("trace_empty", &app);
        keys(&mut app, &[KeyCode::Esc, KeyCode::Esc, KeyCode::Char('?')]);
        snapshot("help", &app);
        keys(
            &mut app,
            &[
                KeyCode::Esc,
                KeyCode::Char(' '),
                KeyCode::Char(' '),
                KeyCode::Char('r'),
            ],
        );
        snapshot("redrive_confirm", &app);
        keys(&mut app, &[KeyCode::Char('y')]);
        app.finished(
            &Work::Redrive {
                target: "notification".to_owned(),
                ids: Vec::new(),
            },
            Ok(Answer::Redrive(fixtures::redriven(2))),
        );
        snapshot("redrive_result", &app);
        app.key(KeyEvent::from(KeyCode::Char('z')));
        app.finished(
            &Work::Overview,
            Err("throttled by AWS: Rate exceeded".to_owned()),
        );
        snapshot("error_line", &app);
    }

    #[test]
    fn the_status_line_says_when_calls_back_off_and_the_title_what_is_held() {
        let mut app = opened();
        app.held = Some(3);
        app.weather =
            Some("backing off, 2 call(s) at a time: throttled by AWS: Rate exceeded".to_owned());
        snapshot("queue_backing_off", &app);
        app.key(KeyEvent::from(KeyCode::Char('g')));
        app.busy = Some("running: ecomm dlq show notification --raw".to_owned());
        let busy = screen(&app, 160, 48);
        assert!(
            busy.contains("running: ecomm dlq show notification --raw · backing off, 2 call(s)"),
            "{busy}"
        );
    }
}
