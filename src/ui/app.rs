//! What `ecomm ui` shows and what each key does: a state machine with no I/O. A key gives
//! back the work to start ([`Work`]); the loop (`super::run`) does it with the same command
//! functions as the CLI and hands the answer back ([`App::finished`]).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::report::dlq::{DlqList, ExportReport, MessageView, PurgeReport, ShowReport};
use crate::report::redrive::RedriveReport;
use crate::report::trace::TraceReport;

/// Work for the loop: each is one CLI command, run by the same function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Work {
    /// `dlq ls`: the overview, consumers discovered again.
    Overview,
    /// `dlq ls` for the consumers already discovered: the overview's counters, from queue
    /// attributes only (the periodic refresh).
    Counters,
    /// `dlq show TARGET --raw`: the messages of one DLQ.
    Queue { target: String },
    /// `redrive --target TARGET --message-id …`.
    Redrive { target: String, ids: Vec<String> },
    /// `dlq purge TARGET --message-id … --archive FILE --yes`.
    Purge {
        target: String,
        ids: Vec<String>,
        archive: String,
    },
    /// `dlq export TARGET --message-id … --file FILE`.
    Export {
        target: String,
        ids: Vec<String>,
        file: String,
    },
    /// `trace ID`.
    Trace { id: String },
}

impl Work {
    /// The command line a user would type for the same work.
    pub(crate) fn command_line(&self) -> Vec<String> {
        let ids = |ids: &[String]| {
            ids.iter()
                .flat_map(|id| ["--message-id".to_owned(), id.clone()])
                .collect::<Vec<_>>()
        };
        let mut line: Vec<String> = Vec::new();
        match self {
            Self::Overview | Self::Counters => line.extend(["dlq", "ls"].map(str::to_owned)),
            Self::Queue { target } => {
                line.extend(["dlq", "show", target, "--raw"].map(str::to_owned));
            }
            Self::Redrive {
                target,
                ids: chosen,
            } => {
                line.extend(["redrive", "--target", target].map(str::to_owned));
                line.extend(ids(chosen));
            }
            Self::Purge {
                target,
                ids: chosen,
                archive,
            } => {
                line.extend(
                    ["dlq", "purge", target, "--archive", archive, "--yes"].map(str::to_owned),
                );
                line.extend(ids(chosen));
            }
            Self::Export {
                target,
                ids: chosen,
                file,
            } => {
                line.extend(["dlq", "export", target, "--file", file].map(str::to_owned));
                line.extend(ids(chosen));
            }
            Self::Trace { id } => line.extend(["trace", id].map(str::to_owned)),
        }
        line
    }
}

/// A command's answer, for the screen that asked.
#[derive(Debug)]
pub(crate) enum Answer {
    Overview(DlqList),
    Queue(ShowReport),
    Redrive(RedriveReport),
    Purge(PurgeReport),
    Export(ExportReport),
    Trace(TraceReport),
}

/// The screen shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Screen {
    Overview,
    Queue,
    Message,
    Trace,
}

/// How the queue view orders its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Sort {
    /// Oldest first.
    #[default]
    Age,
    /// By error code, then oldest first.
    Error,
}

/// What is asked of the person, over the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Dialog {
    /// Yes or no; yes starts the work.
    Confirm { text: Vec<String>, then: Confirmed },
    /// A line of text (a path); Enter starts the work with it.
    Input {
        prompt: String,
        value: String,
        then: Typed,
    },
    /// The outcome of an action; any key closes it.
    Result { title: String, lines: Vec<String> },
    /// The keys.
    Help,
}

/// What a yes does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Confirmed {
    Work(Work),
    RevealPii,
}

/// What a typed line is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Typed {
    /// The archive of a purge (required).
    PurgeArchive { target: String, ids: Vec<String> },
    /// The file of an export.
    ExportFile { target: String, ids: Vec<String> },
}

/// The state of one DLQ's view.
#[derive(Debug, Default)]
pub(crate) struct QueueView {
    pub(crate) target: String,
    pub(crate) report: Option<ShowReport>,
    pub(crate) filter: String,
    /// `/` was pressed: keys go to the filter.
    pub(crate) filtering: bool,
    pub(crate) sort: Sort,
    pub(crate) marked: Vec<String>,
    pub(crate) selected: usize,
}

impl QueueView {
    /// The messages shown: filtered by order id, correlation id, error code or detail-type,
    /// in the chosen order.
    pub(crate) fn visible(&self) -> Vec<&MessageView> {
        let needle = self.filter.to_lowercase();
        let mut shown: Vec<&MessageView> = self
            .report
            .iter()
            .flat_map(|r| &r.messages)
            .filter(|m| {
                needle.is_empty()
                    || [
                        &m.order_id,
                        &m.correlation_id,
                        &m.error_code,
                        &m.detail_type,
                    ]
                    .into_iter()
                    .flatten()
                    .any(|v| v.to_lowercase().contains(&needle))
            })
            .collect();
        match self.sort {
            Sort::Age => shown.sort_by_key(|m| m.sent_at),
            Sort::Error => {
                shown.sort_by(|a, b| (&a.error_code, a.sent_at).cmp(&(&b.error_code, b.sent_at)));
            }
        }
        shown
    }

    /// The message under the cursor.
    pub(crate) fn current(&self) -> Option<&MessageView> {
        self.visible().get(self.selected).copied()
    }

    /// The marked messages, or the current one when none is marked.
    fn chosen(&self) -> Vec<String> {
        if self.marked.is_empty() {
            self.current()
                .map(|m| vec![m.message_id.clone()])
                .unwrap_or_default()
        } else {
            self.marked.clone()
        }
    }
}

/// Everything `ecomm ui` shows.
#[derive(Debug)]
pub(crate) struct App {
    /// Where the answers come from (the CLI's banner).
    pub(crate) banner: String,
    pub(crate) screen: Screen,
    pub(crate) overview: Option<DlqList>,
    pub(crate) selected: usize,
    pub(crate) queue: QueueView,
    pub(crate) trace: Option<TraceReport>,
    /// Lines scrolled in the message and trace views.
    pub(crate) scroll: u16,
    /// PII shown unmasked in the message view (after a confirmation).
    pub(crate) reveal_pii: bool,
    pub(crate) dialog: Option<Dialog>,
    /// What is running, for the status bar.
    pub(crate) busy: Option<String>,
    /// The last failed call, for the status bar.
    pub(crate) last_error: Option<String>,
    /// Why the calls are slowed down, if they are (throttling), for the status bar.
    pub(crate) weather: Option<String>,
    /// How many messages of the open DLQ are kept hidden from other readers.
    pub(crate) held: Option<usize>,
    pub(crate) quit: bool,
}

impl App {
    pub(crate) fn new(banner: String) -> Self {
        Self {
            banner,
            screen: Screen::Overview,
            overview: None,
            selected: 0,
            queue: QueueView::default(),
            trace: None,
            scroll: 0,
            reveal_pii: false,
            dialog: None,
            busy: None,
            last_error: None,
            weather: None,
            held: None,
            quit: false,
        }
    }

    /// The DLQ whose messages are on screen (the queue and message views): while this names
    /// it, the loop keeps them hidden from other readers; otherwise it gives them back.
    pub(crate) fn viewing(&self) -> Option<&str> {
        matches!(self.screen, Screen::Queue | Screen::Message)
            .then_some(self.queue.target.as_str())
            .filter(|target| !target.is_empty())
    }

    /// The consumer under the overview's cursor.
    pub(crate) fn current_target(&self) -> Option<&str> {
        self.overview
            .as_ref()
            .and_then(|o| o.rows.get(self.selected))
            .map(|r| r.target.as_str())
    }

    /// A key was pressed: the work it starts, if any.
    pub(crate) fn key(&mut self, key: KeyEvent) -> Option<Work> {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return None;
        }
        if let Some(dialog) = self.dialog.take() {
            return self.dialog_key(dialog, key.code);
        }
        if self.screen == Screen::Queue && self.queue.filtering {
            self.filter_key(key.code);
            return None;
        }
        match key.code {
            KeyCode::Char('q') => {
                self.quit = true;
                None
            }
            KeyCode::Char('?') => {
                self.dialog = Some(Dialog::Help);
                None
            }
            KeyCode::Esc | KeyCode::Backspace => self.back(),
            code => match self.screen {
                Screen::Overview => self.overview_key(code),
                Screen::Queue => self.queue_key(code),
                Screen::Message => self.message_key(code),
                Screen::Trace => {
                    self.scroll_key(code);
                    None
                }
            },
        }
    }

    /// Back one screen; from a trace, the DLQ is read again (a trace reads every DLQ, so the
    /// view gave its messages back for it).
    fn back(&mut self) -> Option<Work> {
        let from = self.screen;
        self.screen = match self.screen {
            Screen::Overview | Screen::Queue => Screen::Overview,
            Screen::Message => Screen::Queue,
            Screen::Trace => {
                if self.queue.current().is_some() {
                    Screen::Message
                } else {
                    Screen::Queue
                }
            }
        };
        self.scroll = 0;
        if self.screen == Screen::Overview {
            self.queue = QueueView::default();
        }
        (from == Screen::Trace).then(|| Work::Queue {
            target: self.queue.target.clone(),
        })
    }

    fn overview_key(&mut self, code: KeyCode) -> Option<Work> {
        let rows = self.overview.as_ref().map_or(0, |o| o.rows.len());
        match code {
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(rows.saturating_sub(1));
                None
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.selected = self.selected.saturating_sub(1);
                None
            }
            KeyCode::Char('g') => Some(Work::Overview),
            KeyCode::Enter => {
                let target = self.current_target()?.to_owned();
                self.queue = QueueView {
                    target: target.clone(),
                    ..QueueView::default()
                };
                self.screen = Screen::Queue;
                Some(Work::Queue { target })
            }
            _ => None,
        }
    }

    fn queue_key(&mut self, code: KeyCode) -> Option<Work> {
        let count = self.queue.visible().len();
        match code {
            KeyCode::Down | KeyCode::Char('j') => {
                self.queue.selected = (self.queue.selected + 1).min(count.saturating_sub(1));
                None
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.queue.selected = self.queue.selected.saturating_sub(1);
                None
            }
            KeyCode::Char('/') => {
                self.queue.filtering = true;
                None
            }
            KeyCode::Char('s') => {
                self.queue.sort = match self.queue.sort {
                    Sort::Age => Sort::Error,
                    Sort::Error => Sort::Age,
                };
                None
            }
            KeyCode::Char(' ') => {
                let id = self.queue.current()?.message_id.clone();
                if let Some(at) = self.queue.marked.iter().position(|m| *m == id) {
                    self.queue.marked.remove(at);
                } else {
                    self.queue.marked.push(id);
                }
                self.queue.selected = (self.queue.selected + 1).min(count.saturating_sub(1));
                None
            }
            KeyCode::Char('g') => Some(Work::Queue {
                target: self.queue.target.clone(),
            }),
            KeyCode::Enter => {
                self.queue.current()?;
                self.screen = Screen::Message;
                self.scroll = 0;
                self.reveal_pii = false;
                None
            }
            KeyCode::Char('t') => self.trace_current(),
            KeyCode::Char('r') => {
                self.ask_redrive();
                None
            }
            KeyCode::Char('x') => {
                self.ask_path(true);
                None
            }
            KeyCode::Char('e') => {
                self.ask_path(false);
                None
            }
            _ => None,
        }
    }

    fn message_key(&mut self, code: KeyCode) -> Option<Work> {
        match code {
            KeyCode::Char('t') => self.trace_current(),
            KeyCode::Char('r') => {
                self.ask_redrive();
                None
            }
            KeyCode::Char('P') if !self.reveal_pii => {
                self.dialog = Some(Dialog::Confirm {
                    text: vec![
                        "Show this message's personal data (emails, names, addresses)?".to_owned(),
                        "Only where nobody else can see the screen.".to_owned(),
                    ],
                    then: Confirmed::RevealPii,
                });
                None
            }
            code => {
                self.scroll_key(code);
                None
            }
        }
    }

    fn scroll_key(&mut self, code: KeyCode) {
        match code {
            KeyCode::Down | KeyCode::Char('j') => self.scroll = self.scroll.saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => self.scroll = self.scroll.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll = self.scroll.saturating_add(10),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(10),
            _ => {}
        }
    }

    fn filter_key(&mut self, code: KeyCode) {
        match code {
            KeyCode::Enter => self.queue.filtering = false,
            KeyCode::Esc => {
                self.queue.filtering = false;
                self.queue.filter.clear();
            }
            KeyCode::Backspace => {
                self.queue.filter.pop();
            }
            KeyCode::Char(c) => self.queue.filter.push(c),
            _ => {}
        }
        self.queue.selected = 0;
    }

    fn trace_current(&mut self) -> Option<Work> {
        let message = self.queue.current()?;
        let id = message
            .order_id
            .clone()
            .or_else(|| message.correlation_id.clone())
            .or_else(|| message.event_id.clone())?;
        self.trace = None;
        self.scroll = 0;
        self.screen = Screen::Trace;
        Some(Work::Trace { id })
    }

    fn ask_redrive(&mut self) {
        let ids = self.queue.chosen();
        if ids.is_empty() {
            return;
        }
        let target = self.queue.target.clone();
        self.dialog = Some(Dialog::Confirm {
            text: vec![
                format!("Redrive {} message(s) of {target}?", ids.len()),
                format!("Each goes to {target}'s target as EventBridge delivers it (--via target)"),
                "and leaves the DLQ once accepted; the journal keeps every one.".to_owned(),
            ],
            then: Confirmed::Work(Work::Redrive { target, ids }),
        });
    }

    fn ask_path(&mut self, purge: bool) {
        let ids = self.queue.chosen();
        if ids.is_empty() {
            return;
        }
        let target = self.queue.target.clone();
        self.dialog = Some(if purge {
            Dialog::Input {
                prompt: format!(
                    "Purge {} message(s) of {target}: archive them first to (required)",
                    ids.len()
                ),
                value: String::new(),
                then: Typed::PurgeArchive { target, ids },
            }
        } else {
            Dialog::Input {
                prompt: format!("Export {} message(s) of {target} to", ids.len()),
                value: format!("{target}-dlq.ndjson"),
                then: Typed::ExportFile { target, ids },
            }
        });
    }

    fn dialog_key(&mut self, dialog: Dialog, code: KeyCode) -> Option<Work> {
        match dialog {
            Dialog::Confirm { then, text } => match code {
                KeyCode::Char('y' | 'Y') => match then {
                    Confirmed::Work(work) => Some(self.start(work)),
                    Confirmed::RevealPii => {
                        self.reveal_pii = true;
                        None
                    }
                },
                KeyCode::Char('n' | 'N') | KeyCode::Esc => None,
                _ => {
                    self.dialog = Some(Dialog::Confirm { text, then });
                    None
                }
            },
            Dialog::Input {
                prompt,
                mut value,
                then,
            } => match code {
                KeyCode::Esc => None,
                KeyCode::Enter if !value.trim().is_empty() => {
                    let path = value.trim().to_owned();
                    match then {
                        Typed::PurgeArchive { target, ids } => {
                            self.dialog = Some(Dialog::Confirm {
                                text: vec![
                                    format!(
                                        "Delete {} message(s) from {target}'s DLQ for good?",
                                        ids.len()
                                    ),
                                    format!("They are archived to {path} first."),
                                ],
                                then: Confirmed::Work(Work::Purge {
                                    target,
                                    ids,
                                    archive: path,
                                }),
                            });
                            None
                        }
                        Typed::ExportFile { target, ids } => Some(self.start(Work::Export {
                            target,
                            ids,
                            file: path,
                        })),
                    }
                }
                code => {
                    match code {
                        KeyCode::Backspace => {
                            value.pop();
                        }
                        KeyCode::Char(c) => value.push(c),
                        _ => {}
                    }
                    self.dialog = Some(Dialog::Input {
                        prompt,
                        value,
                        then,
                    });
                    None
                }
            },
            Dialog::Result { .. } | Dialog::Help => None,
        }
    }

    /// Work an action starts: the status bar says so until it ends.
    fn start(&mut self, work: Work) -> Work {
        self.busy = Some(format!("running: ecomm {}", work.command_line().join(" ")));
        work
    }

    /// Work ended: show its answer, or its error (the UI keeps running). The work to start
    /// next, if any (a fresh view of the DLQ an action changed).
    pub(crate) fn finished(&mut self, work: &Work, answer: Result<Answer, String>) -> Option<Work> {
        if !matches!(work, Work::Overview | Work::Counters) {
            self.busy = None;
        }
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => {
                self.last_error = Some(error.clone());
                if matches!(
                    work,
                    Work::Redrive { .. } | Work::Purge { .. } | Work::Export { .. }
                ) {
                    self.dialog = Some(Dialog::Result {
                        title: "failed".to_owned(),
                        lines: vec![error],
                    });
                }
                return None;
            }
        };
        if matches!(work, Work::Overview | Work::Counters) {
            self.last_error = None;
        }
        match answer {
            Answer::Overview(list) => {
                self.selected = self.selected.min(list.rows.len().saturating_sub(1));
                self.overview = Some(list);
                None
            }
            Answer::Queue(report) => {
                if matches!(work, Work::Queue { target } if *target == self.queue.target) {
                    if let Some(reason) = &report.coverage.incomplete {
                        self.last_error = Some(format!("the DLQ was read in part: {reason}"));
                    }
                    let ids: Vec<&str> = report
                        .messages
                        .iter()
                        .map(|m| m.message_id.as_str())
                        .collect();
                    self.queue.marked.retain(|m| ids.contains(&m.as_str()));
                    self.queue.report = Some(report);
                    self.queue.selected = self
                        .queue
                        .selected
                        .min(self.queue.visible().len().saturating_sub(1));
                }
                None
            }
            Answer::Trace(trace) => {
                self.trace = Some(trace);
                None
            }
            Answer::Redrive(report) => {
                let mut lines = vec![
                    format!("redriven: {}", report.redriven),
                    format!("failed: {}", report.failed),
                    format!("skipped: {}", report.skipped),
                ];
                if report.delivered_not_deleted > 0 {
                    lines.push(format!(
                        "delivered, not deleted: {} (they will be delivered again by the next redrive)",
                        report.delivered_not_deleted
                    ));
                }
                lines.extend(
                    report
                        .not_redriven
                        .iter()
                        .map(|n| format!("  {}: {}", n.message_id, n.reason)),
                );
                if let Some(reason) = &report.incomplete {
                    lines.push(format!("incomplete: {reason}"));
                }
                lines.push(format!("journal: {}", report.journal));
                Some(self.done_action("redrive", lines))
            }
            Answer::Purge(report) => {
                let mut lines = vec![format!("deleted: {} from {}", report.deleted, report.queue)];
                if let Some(archive) = &report.archive {
                    lines.push(format!("archived to {archive}"));
                }
                if report.failed > 0 {
                    lines.push(format!("not deleted, still in the DLQ: {}", report.failed));
                }
                Some(self.done_action("purge", lines))
            }
            Answer::Export(report) => {
                let file = report
                    .file
                    .as_ref()
                    .map_or_else(|| "stdout".to_owned(), |f| f.display().to_string());
                Some(self.done_action(
                    "export",
                    vec![format!("exported {} message(s) to {file}", report.exported)],
                ))
            }
        }
    }

    /// An action ended: its result in a dialog, the marks cleared, the DLQ read again.
    fn done_action(&mut self, title: &str, lines: Vec<String>) -> Work {
        self.dialog = Some(Dialog::Result {
            title: title.to_owned(),
            lines,
        });
        self.queue.marked.clear();
        if self.screen == Screen::Message {
            self.screen = Screen::Queue;
        }
        Work::Queue {
            target: self.queue.target.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::fixtures;

    fn press(app: &mut App, keys: &str) -> Vec<Work> {
        keys.chars()
            .filter_map(|c| app.key(KeyEvent::from(KeyCode::Char(c))))
            .collect()
    }

    fn code(app: &mut App, code: KeyCode) -> Option<Work> {
        app.key(KeyEvent::from(code))
    }

    /// The app with the overview read and the notification DLQ open and read.
    fn in_notification_dlq() -> App {
        let mut app = App::new("local stack: /tmp/state.db".to_owned());
        assert_eq!(
            app.finished(&Work::Overview, Ok(Answer::Overview(fixtures::overview()))),
            None
        );
        code(&mut app, KeyCode::Down);
        let open = code(&mut app, KeyCode::Enter);
        let target = "notification".to_owned();
        assert_eq!(
            open,
            Some(Work::Queue {
                target: target.clone()
            })
        );
        assert_eq!(app.screen, Screen::Queue);
        app.finished(
            &Work::Queue { target },
            Ok(Answer::Queue(fixtures::notification_dlq())),
        );
        app
    }

    use fixtures::id;

    #[test]
    fn marked_messages_are_redriven_only_after_a_yes_that_names_their_count() {
        let mut app = in_notification_dlq();
        assert!(press(&mut app, "  ").is_empty());
        assert_eq!(app.queue.marked, [id(1), id(2)]);

        assert!(press(&mut app, "r").is_empty());
        let Some(Dialog::Confirm { text, .. }) = &app.dialog else {
            panic!("no confirmation: {:?}", app.dialog)
        };
        assert!(
            text[0].contains("Redrive 2 message(s) of notification"),
            "{text:?}"
        );
        assert!(text.iter().any(|t| t.contains("--via target")), "{text:?}");

        // No: nothing runs, the marks stay.
        assert!(press(&mut app, "n").is_empty());
        assert_eq!(app.dialog, None);
        assert_eq!(app.queue.marked.len(), 2);

        assert!(press(&mut app, "r").is_empty());
        let work = press(&mut app, "y");
        assert_eq!(
            work,
            [Work::Redrive {
                target: "notification".to_owned(),
                ids: vec![id(1), id(2)],
            }]
        );
        assert_eq!(
            work[0].command_line().join(" "),
            format!(
                "redrive --target notification --message-id {} --message-id {}",
                id(1),
                id(2)
            )
        );
        assert!(
            app.busy
                .as_deref()
                .is_some_and(|b| b.contains("ecomm redrive"))
        );
    }

    #[test]
    fn without_marks_an_action_takes_the_current_message_and_a_second_space_unmarks() {
        let mut app = in_notification_dlq();
        press(&mut app, " ");
        code(&mut app, KeyCode::Up);
        press(&mut app, " ");
        assert!(app.queue.marked.is_empty(), "{:?}", app.queue.marked);
        code(&mut app, KeyCode::Up);
        press(&mut app, "r");
        let work = press(&mut app, "y");
        assert_eq!(
            work,
            [Work::Redrive {
                target: "notification".to_owned(),
                ids: vec![id(1)],
            }]
        );
    }

    #[test]
    fn the_filter_matches_order_correlation_error_or_event_and_esc_clears_it() {
        let mut app = in_notification_dlq();
        press(&mut app, "/invalid");
        assert!(app.queue.filtering);
        code(&mut app, KeyCode::Enter);
        assert!(!app.queue.filtering);
        let shown: Vec<_> = app
            .queue
            .visible()
            .iter()
            .map(|m| m.message_id.clone())
            .collect();
        assert_eq!(shown, [id(3)]);

        // While filtering, letters are text, not keys: `q` does not quit.
        press(&mut app, "/");
        code(&mut app, KeyCode::Backspace);
        for _ in 0..7 {
            code(&mut app, KeyCode::Backspace);
        }
        press(&mut app, "q");
        assert!(!app.quit);
        assert_eq!(app.queue.filter, "q");
        code(&mut app, KeyCode::Esc);
        assert_eq!(app.queue.filter, "");
        assert_eq!(app.queue.visible().len(), 3);

        for needle in ["ord-00082", "corr-2", "ordercreated"] {
            app.queue.filter = needle.to_owned();
            assert!(!app.queue.visible().is_empty(), "{needle}");
        }
    }

    #[test]
    fn sorting_by_error_groups_the_codes() {
        let mut app = in_notification_dlq();
        app.finished(
            &Work::Queue {
                target: "notification".to_owned(),
            },
            Ok(Answer::Queue({
                let mut report = fixtures::notification_dlq();
                report.messages.reverse();
                report
            })),
        );
        let order = |app: &App| -> Vec<String> {
            app.queue
                .visible()
                .iter()
                .map(|m| m.message_id.clone())
                .collect()
        };
        assert_eq!(order(&app), [id(1), id(2), id(3)], "oldest first");
        press(&mut app, "s");
        assert_eq!(app.queue.sort, Sort::Error);
        assert_eq!(order(&app), [id(1), id(2), id(3)]);
        assert_eq!(
            app.queue.visible()[2].error_code.as_deref(),
            Some("InvalidAddress")
        );
    }

    #[test]
    fn a_purge_needs_an_archive_path_then_a_yes() {
        let mut app = in_notification_dlq();
        press(&mut app, " x");
        assert!(matches!(app.dialog, Some(Dialog::Input { .. })));
        // No path: Enter does nothing.
        assert_eq!(code(&mut app, KeyCode::Enter), None);
        assert!(matches!(app.dialog, Some(Dialog::Input { .. })));
        assert!(press(&mut app, "/tmp/purged.ndjson").is_empty());
        assert_eq!(code(&mut app, KeyCode::Enter), None);
        let Some(Dialog::Confirm { text, .. }) = &app.dialog else {
            panic!("no confirmation: {:?}", app.dialog)
        };
        assert!(text[0].contains("Delete 1 message(s)"), "{text:?}");
        assert!(text[1].contains("/tmp/purged.ndjson"), "{text:?}");
        let work = press(&mut app, "y");
        assert_eq!(
            work[0].command_line().join(" "),
            format!(
                "dlq purge notification --archive /tmp/purged.ndjson --yes --message-id {}",
                id(1)
            )
        );

        // Esc at the path cancels the purge.
        press(&mut app, "x");
        code(&mut app, KeyCode::Esc);
        assert_eq!(app.dialog, None);
    }

    #[test]
    fn a_failed_call_shows_its_error_and_the_ui_keeps_running() {
        let mut app = in_notification_dlq();
        press(&mut app, "r");
        let work = press(&mut app, "y").remove(0);
        let next = app.finished(
            &work,
            Err("throttled by AWS: ThrottlingException: Rate exceeded".to_owned()),
        );
        assert_eq!(next, None);
        assert!(!app.quit);
        assert!(app.busy.is_none());
        assert!(
            app.last_error
                .as_deref()
                .is_some_and(|e| e.contains("Rate exceeded"))
        );
        assert!(matches!(&app.dialog, Some(Dialog::Result { title, .. }) if title == "failed"));
        // Any key closes the dialog; the queue view is still there.
        press(&mut app, "z");
        assert_eq!(app.dialog, None);
        assert_eq!(app.screen, Screen::Queue);
        // A failed refresh keeps the last overview; the next good one clears the error.
        app.finished(&Work::Overview, Err("connection refused".to_owned()));
        assert!(app.overview.is_some());
        app.finished(&Work::Overview, Ok(Answer::Overview(fixtures::overview())));
        assert_eq!(app.last_error, None);
    }

    #[test]
    fn a_redrive_result_reads_the_dlq_again_and_clears_the_marks() {
        let mut app = in_notification_dlq();
        press(&mut app, "  r");
        let work = press(&mut app, "y").remove(0);
        let next = app.finished(&work, Ok(Answer::Redrive(fixtures::redriven(2))));
        assert_eq!(
            next,
            Some(Work::Queue {
                target: "notification".to_owned()
            })
        );
        assert!(app.queue.marked.is_empty());
        let Some(Dialog::Result { title, lines }) = &app.dialog else {
            panic!("no result: {:?}", app.dialog)
        };
        assert_eq!(title, "redrive");
        assert_eq!(lines[0], "redriven: 2");
        assert!(
            lines
                .iter()
                .any(|l| l == "journal: /tmp/redrive-journal.ndjson"),
            "{lines:?}"
        );
    }

    #[test]
    fn pii_is_shown_only_after_a_yes_and_trace_opens_the_order() {
        let mut app = in_notification_dlq();
        code(&mut app, KeyCode::Enter);
        assert_eq!(app.screen, Screen::Message);
        press(&mut app, "P");
        press(&mut app, "n");
        assert!(!app.reveal_pii);
        press(&mut app, "Py");
        assert!(app.reveal_pii);
        let work = press(&mut app, "t");
        assert_eq!(
            work,
            [Work::Trace {
                id: "ord-00081".to_owned()
            }]
        );
        assert_eq!(app.screen, Screen::Trace);
        code(&mut app, KeyCode::Esc);
        assert_eq!(app.screen, Screen::Message);
        code(&mut app, KeyCode::Esc);
        code(&mut app, KeyCode::Esc);
        assert_eq!(app.screen, Screen::Overview);
        press(&mut app, "q");
        assert!(app.quit);
    }

    #[test]
    fn the_messages_stay_held_only_while_their_dlq_is_on_screen_and_a_trace_reads_it_again() {
        let mut app = in_notification_dlq();
        assert_eq!(app.viewing(), Some("notification"));
        code(&mut app, KeyCode::Enter);
        assert_eq!(app.viewing(), Some("notification"), "the message view too");

        // A trace reads every DLQ: they are given back for it, and read again after it.
        press(&mut app, "t");
        assert_eq!(app.viewing(), None);
        let back = code(&mut app, KeyCode::Esc);
        assert_eq!(
            back,
            Some(Work::Queue {
                target: "notification".to_owned()
            })
        );
        assert_eq!(app.viewing(), Some("notification"));

        // Leaving for the overview gives them back, without reading anything.
        assert_eq!(code(&mut app, KeyCode::Esc), None);
        assert_eq!(
            app.viewing(),
            Some("notification"),
            "back in the queue view"
        );
        assert_eq!(code(&mut app, KeyCode::Esc), None);
        assert_eq!(app.screen, Screen::Overview);
        assert_eq!(app.viewing(), None);
    }

    #[test]
    fn the_periodic_refresh_is_the_overview_from_counters_and_keeps_the_cursor() {
        let mut app = App::new("local stack: /tmp/state.db".to_owned());
        app.finished(&Work::Overview, Ok(Answer::Overview(fixtures::overview())));
        code(&mut app, KeyCode::Down);
        assert_eq!(Work::Counters.command_line().join(" "), "dlq ls");
        app.finished(
            &Work::Counters,
            Err("throttled by AWS: Rate exceeded".to_owned()),
        );
        assert_eq!(
            app.last_error.as_deref(),
            Some("throttled by AWS: Rate exceeded")
        );
        assert_eq!(
            app.finished(&Work::Counters, Ok(Answer::Overview(fixtures::overview()))),
            None
        );
        assert_eq!(
            app.last_error, None,
            "a refresh that worked clears the error"
        );
        assert_eq!(app.current_target(), Some("notification"));
    }
}
