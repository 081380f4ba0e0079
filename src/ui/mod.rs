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
use futures::FutureExt as _;
use futures::StreamExt as _;
use tokio::signal::unix::{SignalKind, signal};

use crate::backend::{Backend, Consumer};
use crate::cli::{Cli, Command, DlqCommand};
use crate::commands;
use crate::interaction::{Confirmation, Interaction, Progress};
use crate::render;
use crate::report::UiSession;
use crate::report::trace::TraceReport;
use crate::scan::Holding;
use app::{Answer, App, Work};

/// What the UI is given: where to work, how often to refresh, where the redrive journal is.
pub(crate) struct Setup<'a> {
    /// The one account; across accounts, all of them read as one (for a trace).
    pub(crate) backend: &'a dyn Backend,
    /// Across accounts, each of them: a command on one consumer acts in the account that owns
    /// it (`NAME@ACCOUNT`). Empty for one account.
    pub(crate) accounts: &'a [commands::accounts::Account<'a>],
    pub(crate) banner: String,
    pub(crate) refresh: Duration,
    pub(crate) journal: PathBuf,
    /// Seconds the queue view's messages stay hidden after each renewal (the most they stay
    /// hidden should the UI be killed).
    pub(crate) hold: u32,
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

/// What the loop runs, one at a time, in order.
#[derive(Debug)]
enum Job {
    /// A command, as a user would type it.
    Work(Work),
    /// Keep the open DLQ's messages hidden a while more.
    Renew,
    /// Give the open DLQ's messages back to other readers.
    Release,
}

/// What the loop keeps between jobs: the consumers found (the periodic refresh reads only
/// their counters) and the messages the open queue view holds hidden.
#[derive(Default)]
struct Kept<'a> {
    consumers: RefCell<Option<Vec<Consumer>>>,
    /// Across accounts, each account's consumers.
    discovered: RefCell<Option<commands::accounts::Discovered>>,
    holding: RefCell<Option<Rc<OpenView<'a>>>>,
}

/// The messages one queue view holds, and the account that holds them.
struct OpenView<'a> {
    target: String,
    holding: Holding,
    backend: &'a dyn Backend,
}

impl OpenView<'_> {
    async fn renew(&self) -> usize {
        self.holding.renew(self.backend).await
    }
}

impl Kept<'_> {
    fn held_target(&self) -> Option<String> {
        self.holding.borrow().as_ref().map(|k| k.target.clone())
    }

    /// Give back whatever is held; how many could not be (they reappear on their own).
    async fn release(&self) -> usize {
        let taken = self.holding.borrow_mut().take();
        match taken {
            Some(kept) => kept.holding.release(kept.backend).await,
            None => 0,
        }
    }
}

/// What a job ended with, for the app.
enum Done {
    Work(Work, Box<Result<Answer, String>>),
    /// A renewal or release: how many messages it could not reach.
    Visibility {
        released: bool,
        failed: usize,
    },
}

/// Do one piece of work with the CLI's command function; an error becomes its text. A DLQ
/// read for the queue view keeps its messages hidden (in `kept`) for `hold` seconds.
async fn perform(
    context: &Context<'_>,
    interaction: &UiInteraction,
    work: &Work,
) -> Result<Answer, String> {
    let kept = &context.kept;
    let mut line: Vec<String> = std::iter::once("ecomm".to_owned())
        .chain(work.command_line())
        .collect();
    if matches!(work, Work::Queue { .. }) {
        line.extend([
            "--visibility-timeout".to_owned(),
            context.setup.hold.to_string(),
        ]);
    }
    let mut cli = Cli::try_parse_from(line).map_err(|e| e.to_string())?;
    // The view's name of the consumer: `NAME@ACCOUNT` across accounts.
    let named = cli.command.target_mut().map(|t| t.clone());
    let backend = context.backend_for(&mut cli.command).await.map_err(text)?;
    let answer = match cli.command {
        Command::Dlq(DlqCommand::Ls) => overview(context, work).await.map(Answer::Overview),
        Command::Dlq(DlqCommand::Show(args)) => {
            match commands::dlq::show_holding(backend, &args, interaction).await {
                Ok((report, holding)) => {
                    *kept.holding.borrow_mut() = Some(Rc::new(OpenView {
                        target: named.unwrap_or_else(|| args.target.clone()),
                        holding,
                        backend,
                    }));
                    Ok(Answer::Queue(report))
                }
                Err(e) => Err(e),
            }
        }
        Command::Dlq(DlqCommand::Purge(args)) => commands::dlq::purge(backend, &args, interaction)
            .await
            .map(Answer::Purge),
        Command::Dlq(DlqCommand::Export(args)) => {
            commands::dlq::export(backend, &args, interaction)
                .await
                .map(Answer::Export)
        }
        Command::Redrive(args) => {
            commands::redrive::run(backend, &args, context.setup.journal.clone(), interaction)
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
    answer.map_err(text)
}

/// An error and its causes, on one line.
#[allow(clippy::needless_pass_by_value, reason = "used as a map_err function")]
fn text(e: anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        text.push_str(": ");
        text.push_str(&cause.to_string());
    }
    text
}

/// The overview: consumers discovered once (and again on `g`), their counters every refresh;
/// across accounts, in each account.
async fn overview(
    context: &Context<'_>,
    work: &Work,
) -> anyhow::Result<crate::report::dlq::DlqList> {
    let (backend, kept) = (context.setup.backend, &context.kept);
    let refresh = matches!(work, Work::Counters);
    if !context.setup.accounts.is_empty() {
        let known = kept.discovered.borrow().clone().filter(|_| refresh);
        let (list, discovered) =
            commands::accounts::survey(context.setup.accounts, known.as_ref()).await;
        *kept.discovered.borrow_mut() = Some(discovered);
        return Ok(list);
    }
    let known = match work {
        Work::Counters => kept.consumers.borrow().clone(),
        _ => None,
    };
    let consumers = match known {
        Some(consumers) => consumers,
        None => backend.consumers().await?,
    };
    let list = commands::dlq::counters(backend, &consumers).await;
    // A failed read may mean the estate changed: discover again next time.
    *kept.consumers.borrow_mut() = list.is_ok().then_some(consumers);
    list
}

/// Everything a job needs.
struct Context<'a> {
    setup: &'a Setup<'a>,
    kept: Kept<'a>,
    interaction: UiInteraction,
}

impl<'a> Context<'a> {
    /// Where `command` acts: across accounts, a command on one consumer acts in the account
    /// that owns it, with the consumer's name there; anything else reads `setup.backend`.
    async fn backend_for(&self, command: &mut Command) -> anyhow::Result<&'a dyn Backend> {
        let accounts = self.setup.accounts;
        match command.target_mut() {
            Some(target) if !accounts.is_empty() => {
                let (_, backend, name) = commands::accounts::locate(accounts, target).await?;
                *target = name;
                Ok(backend)
            }
            _ => Ok(self.setup.backend),
        }
    }

    /// Run a job. Any job that reads the DLQ starts by giving back what the view holds:
    /// a command sees every message, as it would from the shell.
    async fn run(&self, job: Job) -> Done {
        match job {
            Job::Work(work) => {
                if work != Work::Overview && work != Work::Counters {
                    self.kept.release().await;
                }
                let answer = perform(self, &self.interaction, &work).await;
                Done::Work(work, Box::new(answer))
            }
            Job::Renew => {
                let kept = self.kept.holding.borrow().clone();
                let failed = match kept {
                    Some(kept) => kept.renew().await,
                    None => 0,
                };
                Done::Visibility {
                    released: false,
                    failed,
                }
            }
            Job::Release => Done::Visibility {
                released: true,
                failed: self.kept.release().await,
            },
        }
    }
}

type Running<'a> = Pin<Box<dyn Future<Output = Done> + 'a>>;

/// Run the UI until `q`; the terminal is given back as it was found, and the messages the
/// queue view held are given back to other readers, also on error and on panic.
pub(crate) async fn run(setup: Setup<'_>) -> anyhow::Result<UiSession> {
    let context = Context {
        setup: &setup,
        kept: Kept::default(),
        interaction: UiInteraction {
            progress: Shared::default(),
        },
    };
    let mut terminal = ratatui::try_init()?;
    let (result, unreleased) = guarded(
        &context.kept,
        event_loop(&mut terminal, &context),
        ratatui::restore,
    )
    .await;
    match result {
        Ok(result) => result.map(|()| UiSession {
            unreleased,
            visibility_timeout: setup.hold,
        }),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Run `work`, then `restore` the terminal; then, however the work ended (an answer, an
/// error, a panic), give back what `kept` holds: how many messages could not be.
async fn guarded<T>(
    kept: &Kept<'_>,
    work: impl Future<Output = T>,
    restore: impl FnOnce(),
) -> (std::thread::Result<T>, usize) {
    let result = std::panic::AssertUnwindSafe(work).catch_unwind().await;
    restore();
    let unreleased = kept.release().await;
    (result, unreleased)
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    context: &Context<'_>,
) -> anyhow::Result<()> {
    let setup = context.setup;
    let mut app = App::new(setup.banner.clone());
    let progress = context.interaction.progress.clone();
    let mut events = EventStream::new();
    let mut refresh = tokio::time::interval(setup.refresh);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // Renewed three times per timeout: one late renewal still keeps them hidden.
    let mut renew = tokio::time::interval(Duration::from_secs(u64::from(setup.hold)) / 3);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut redraw = tokio::time::interval(Duration::from_millis(250));
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut pending: VecDeque<Job> = VecDeque::new();
    let mut running: Option<Running<'_>> = None;
    let mut overview: Option<Running<'_>> = None;
    let start = |job: Job| -> Running<'_> { Box::pin(context.run(job)) };
    loop {
        // Leaving the view (or its DLQ) gives its messages back.
        let held = context.kept.held_target();
        if held.is_some()
            && held.as_deref() != app.viewing()
            && !pending.iter().any(|j| matches!(j, Job::Release))
        {
            pending.push_back(Job::Release);
        }
        if running.is_none()
            && let Some(job) = pending.pop_front()
        {
            running = Some(start(job));
        }
        if app.quit && running.is_none() {
            return Ok(());
        }
        app.weather = setup.backend.weather();
        app.held = context
            .kept
            .holding
            .borrow()
            .as_ref()
            .map(|k| k.holding.len());
        let status = progress.0.borrow().clone();
        terminal.draw(|frame| render::ui::draw(frame, &app, status.as_deref()))?;
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    if let Some(work) = app.key(key) {
                        if work == Work::Overview {
                            if overview.is_none() {
                                overview = Some(start(Job::Work(work)));
                            }
                        } else {
                            pending.push_back(Job::Work(work));
                        }
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => app.quit = true,
            },
            _ = hangup.recv() => app.quit = true,
            _ = terminate.recv() => app.quit = true,
            _ = refresh.tick(), if overview.is_none() => {
                let work = if app.overview.is_some() { Work::Counters } else { Work::Overview };
                overview = Some(start(Job::Work(work)));
            }
            _ = renew.tick(), if context.kept.held_target().is_some() => {
                if !pending.iter().any(|j| matches!(j, Job::Renew)) {
                    pending.push_back(Job::Renew);
                }
            }
            done = async { overview.as_mut().expect("guarded").await }, if overview.is_some() => {
                overview = None;
                finished(&mut app, &mut pending, done);
            }
            done = async { running.as_mut().expect("guarded").await }, if running.is_some() => {
                running = None;
                *progress.0.borrow_mut() = None;
                finished(&mut app, &mut pending, done);
            }
            _ = redraw.tick() => {}
        }
    }
}

/// A job ended: the app sees its answer, and any work it asks for next is queued.
fn finished(app: &mut App, pending: &mut VecDeque<Job>, done: Done) {
    match done {
        Done::Work(work, answer) => {
            if let Some(next) = app.finished(&work, *answer) {
                pending.push_back(Job::Work(next));
            }
        }
        Done::Visibility { released, failed } if failed > 0 => {
            app.last_error = Some(if released {
                format!(
                    "{failed} message(s) could not be made visible again; they reappear on their own"
                )
            } else {
                format!(
                    "{failed} message(s) could not be kept hidden: another reader may take them"
                )
            });
        }
        Done::Visibility { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::commands::dlq::tests::{dlq_counts, stack_with};

    #[tokio::test(flavor = "current_thread")]
    async fn a_panic_in_the_loop_restores_the_terminal_and_gives_the_held_messages_back() {
        let (_dir, backend) = stack_with(3);
        let kept = Kept::default();
        let interaction = UiInteraction {
            progress: Shared::default(),
        };
        let restored = Cell::new(false);
        let (result, unreleased) = guarded(
            &kept,
            async {
                let cli = Cli::try_parse_from(["ecomm", "dlq", "show", "notification"])
                    .expect("a command line");
                let Command::Dlq(DlqCommand::Show(args)) = cli.command else {
                    unreachable!("dlq show")
                };
                let (report, holding) = commands::dlq::show_holding(&backend, &args, &interaction)
                    .await
                    .expect("read");
                assert_eq!(report.messages.len(), 3);
                *kept.holding.borrow_mut() = Some(Rc::new(OpenView {
                    target: args.target.clone(),
                    holding,
                    backend: &backend,
                }));
                assert_eq!(dlq_counts(&backend), (0, 3), "hidden while held");
                panic!("a bug in the loop");
            },
            || restored.set(true),
        )
        .await;
        assert!(result.is_err(), "the panic is handed on");
        assert!(restored.get());
        assert_eq!(unreleased, 0);
        assert_eq!(dlq_counts(&backend), (3, 0), "visible again at once");
    }
}
