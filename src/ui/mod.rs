//! `ecomm ui`: every DLQ in one terminal screen, with redrive, purge, export and trace a key
//! away. The state machine is [`app`]; drawing is `render::ui`; the work is done here, one
//! command at a time, by the same functions as the CLI (built from the command line a user
//! would type), so the UI has no scanning, redrive or trace of its own.
//!
//! A command is never dropped half-way: keys pressed meanwhile are queued behind it, and
//! quitting waits for it to end. The terminal is restored on quit, on error and on panic.

pub(crate) mod app;
#[cfg(test)]
pub(crate) mod fixtures;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use clap::Parser as _;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt as _;

use crate::backend::Backend;
use crate::cli::{Cli, Command, DlqCommand};
use crate::commands;
use crate::interaction::{Confirmation, Interaction, Progress};
use crate::render;
use crate::report::trace::TraceReport;
use app::{Answer, App, Work};

/// What the UI is given: where to work, how often to refresh, where the redrive journal is.
pub(crate) struct Setup<'a> {
    pub(crate) backend: &'a dyn Backend,
    pub(crate) banner: String,
    pub(crate) refresh: Duration,
    pub(crate) journal: PathBuf,
}

/// A command's progress, for the status bar.
#[derive(Debug, Default, Clone)]
struct Shared(Rc<RefCell<Option<String>>>);

struct StatusProgress {
    shared: Shared,
    message: String,
    total: u64,
    done: RefCell<u64>,
}

impl Progress for StatusProgress {
    fn advance(&self, n: u64) {
        let mut done = self.done.borrow_mut();
        *done += n;
        *self.shared.0.borrow_mut() = Some(format!("{} {}/{}", self.message, done, self.total));
    }

    fn status(&self, text: String) {
        *self.shared.0.borrow_mut() = Some(format!("{} ({text})", self.message));
    }

    fn finish(&self) {
        *self.shared.0.borrow_mut() = None;
    }
}

/// The UI, as commands see it: it has asked before starting anything, so a command's own
/// question is never needed (purge is given `--yes` after the UI's confirmation).
struct UiInteraction {
    progress: Shared,
}

impl Interaction for UiInteraction {
    fn confirm(&self, _question: &str) -> Confirmation {
        Confirmation::No
    }

    fn progress(&self, total: u64, message: &str) -> Box<dyn Progress> {
        Box::new(StatusProgress {
            shared: self.progress.clone(),
            message: message.to_owned(),
            total,
            done: RefCell::new(0),
        })
    }

    fn spinner(&self, message: &str) -> Box<dyn Progress> {
        *self.progress.0.borrow_mut() = Some(message.to_owned());
        Box::new(StatusProgress {
            shared: self.progress.clone(),
            message: message.to_owned(),
            total: 0,
            done: RefCell::new(0),
        })
    }

    fn trace_update(&self, _trace: &TraceReport) {}
}

/// Do one piece of work with the CLI's command function; an error becomes its text.
async fn perform(
    backend: &dyn Backend,
    journal: &std::path::Path,
    interaction: &UiInteraction,
    work: &Work,
) -> Result<Answer, String> {
    let line = std::iter::once("ecomm".to_owned()).chain(work.command_line());
    let cli = Cli::try_parse_from(line).map_err(|e| e.to_string())?;
    let answer = match cli.command {
        Command::Dlq(DlqCommand::Ls) => commands::dlq::ls(backend).await.map(Answer::Overview),
        Command::Dlq(DlqCommand::Show(args)) => commands::dlq::show(backend, &args, interaction)
            .await
            .map(Answer::Queue),
        Command::Dlq(DlqCommand::Purge(args)) => commands::dlq::purge(backend, &args, interaction)
            .await
            .map(Answer::Purge),
        Command::Dlq(DlqCommand::Export(args)) => {
            commands::dlq::export(backend, &args, interaction)
                .await
                .map(Answer::Export)
        }
        Command::Redrive(args) => {
            commands::redrive::run(backend, &args, journal.to_owned(), interaction)
                .await
                .map(Answer::Redrive)
        }
        Command::Trace(args) => commands::trace::run(backend, &args)
            .await
            .map(Answer::Trace),
        _ => {
            return Err(format!(
                "not a command of the UI: {}",
                work.command_line().join(" ")
            ));
        }
    };
    answer.map_err(|e| {
        let mut text = e.to_string();
        for cause in e.chain().skip(1) {
            text.push_str(": ");
            text.push_str(&cause.to_string());
        }
        text
    })
}

type Running<'a> = Pin<Box<dyn Future<Output = (Work, Result<Answer, String>)> + 'a>>;

/// Run the UI until `q`; the terminal is given back as it was found.
pub(crate) async fn run(setup: Setup<'_>) -> anyhow::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let result = event_loop(&mut terminal, &setup).await;
    ratatui::restore();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    setup: &Setup<'_>,
) -> anyhow::Result<()> {
    let mut app = App::new(setup.banner.clone());
    let progress = Shared::default();
    let interaction = UiInteraction {
        progress: progress.clone(),
    };
    let mut events = EventStream::new();
    let mut refresh = tokio::time::interval(setup.refresh);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut redraw = tokio::time::interval(Duration::from_millis(250));
    let mut pending: VecDeque<Work> = VecDeque::new();
    let mut running: Option<Running<'_>> = None;
    let mut overview: Option<Running<'_>> = None;
    let start = |work: Work| -> Running<'_> {
        let interaction = &interaction;
        Box::pin(async move {
            let answer = perform(setup.backend, &setup.journal, interaction, &work).await;
            (work, answer)
        })
    };
    loop {
        if running.is_none()
            && let Some(work) = pending.pop_front()
        {
            running = Some(start(work));
        }
        if app.quit && running.is_none() {
            return Ok(());
        }
        let status = progress.0.borrow().clone();
        terminal.draw(|frame| render::ui::draw(frame, &app, status.as_deref()))?;
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    if let Some(work) = app.key(key) {
                        if work == Work::Overview {
                            if overview.is_none() {
                                overview = Some(start(work));
                            }
                        } else {
                            pending.push_back(work);
                        }
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => app.quit = true,
            },
            _ = refresh.tick(), if overview.is_none() => {
                overview = Some(start(Work::Overview));
            }
            (work, answer) = async { overview.as_mut().expect("guarded").await }, if overview.is_some() => {
                overview = None;
                if let Some(next) = app.finished(&work, answer) {
                    pending.push_back(next);
                }
            }
            (work, answer) = async { running.as_mut().expect("guarded").await }, if running.is_some() => {
                running = None;
                *progress.0.borrow_mut() = None;
                if let Some(next) = app.finished(&work, answer) {
                    pending.push_back(next);
                }
            }
            _ = redraw.tick() => {}
        }
    }
}
