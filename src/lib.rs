//! The `ecomm` CLI: parses the command line, runs the command, renders its report once and
//! maps how it ended to an exit code.
//!
//! Exit codes are part of the interface: 0 success, 1 a failure the user can act on, 2 a usage
//! error, 3 partial success.

mod backend;
mod cli;
mod commands;
mod config;
mod delivery;
mod filter;
mod interaction;
mod journal;
mod render;
mod report;
mod scan;
mod target;
mod ui;

use std::process::ExitCode;

use clap::Parser as _;

use crate::backend::Backend;
use crate::backend::patient::{Patience, Patient};
use crate::cli::{Cli, Command, DlqCommand, LocalCommand};
use crate::render::{Printer, Terminal};
use crate::report::{Outcome, Report};
use crate::target::{Connected, Target};

/// A usage error found after parsing (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

/// Run the CLI with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::new(&cli.global);
    let answer = run(cli, &printer)
        .and_then(|(banner, report)| render::report(&printer, &banner, &report).map(|()| report));
    match answer {
        Ok(report) => match report.outcome() {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::Partial => ExitCode::from(3),
            Outcome::Failed => ExitCode::FAILURE,
        },
        Err(error) => {
            render::error(&error);
            if error.is::<UsageError>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Run the command: its report, and the banner naming where the answer comes from.
fn run(cli: Cli, printer: &Printer) -> anyhow::Result<(String, Report)> {
    match cli.command {
        Command::Completions { shell } => return Ok((String::new(), Report::Completions(shell))),
        Command::Man => return Ok((String::new(), Report::Man)),
        Command::Ui(_) => {
            use std::io::IsTerminal as _;
            if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
                return Err(UsageError(
                    "`ecomm ui` needs a terminal: run it in one, or use `ecomm dlq ls` and `ecomm dlq show` in scripts".to_owned(),
                )
                .into());
            }
        }
        _ => {}
    }
    if cli.global.output == cli::OutputFormat::Mermaid && !matches!(cli.command, Command::Trace(_))
    {
        return Err(UsageError("--output mermaid is for `ecomm trace` only".to_owned()).into());
    }
    let target = Target::resolve(&cli.global)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Demo(args) => {
            let terminal = Terminal::new(printer, target.banner());
            let summary = runtime.block_on(commands::demo::run(&target, &args, &terminal))?;
            Ok((target.banner(), Report::Demo(summary)))
        }
        Command::Local(LocalCommand::Reset) => Ok((
            target.banner(),
            Report::Reset(commands::local::reset(&target)?),
        )),
        command => runtime.block_on(async {
            let patience = Patience::new(cli.global.give_up_after);
            match target.connect_all().await? {
                Connected::One(connected) => {
                    let patient = Patient::new(connected.as_ref(), patience);
                    execute(command, &patient, &target, printer).await
                }
                Connected::Several(accounts) => {
                    across_accounts(&target, &accounts, command, printer, patience).await
                }
            }
        }),
    }
}

/// Run a command that needs a backend: its banner and report.
async fn execute(
    command: Command,
    backend: &dyn Backend,
    target: &Target,
    printer: &Printer,
) -> anyhow::Result<(String, Report)> {
    let banner = backend.banner();
    let terminal = Terminal::new(printer, banner.clone());
    let report = match command {
        Command::Dlq(DlqCommand::Ls) => Report::DlqList(commands::dlq::ls(backend).await?),
        Command::Dlq(DlqCommand::Show(args)) => {
            Report::Show(commands::dlq::show(backend, &args, &terminal).await?)
        }
        Command::Dlq(DlqCommand::Export(args)) => {
            Report::Export(commands::dlq::export(backend, &args, &terminal).await?)
        }
        Command::Dlq(DlqCommand::Purge(args)) => {
            Report::Purge(commands::dlq::purge(backend, &args, &terminal).await?)
        }
        Command::Redrive(args) => Report::Redrive(
            commands::redrive::run(backend, &args, target.journal_path()?, &terminal).await?,
        ),
        Command::Trace(args) if args.follow => {
            commands::trace::follow(backend, &args, &terminal).await?
        }
        Command::Trace(args) => Report::Trace(commands::trace::run(backend, &args).await?),
        Command::Ui(args) => {
            let session = ui::run(ui::Setup {
                backend,
                accounts: &[],
                banner: banner.clone(),
                refresh: std::time::Duration::from_secs(args.refresh),
                journal: target.journal_path()?,
                hold: args.visibility_timeout,
            })
            .await?;
            Report::Interactive(session)
        }
        Command::Demo(_) | Command::Local(_) | Command::Completions { .. } | Command::Man => {
            unreachable!("handled above")
        }
    };
    Ok((banner, report))
}

/// The same across several accounts: `dlq ls` in all of them; a command on one consumer in
/// the account that owns it (`--target NAME@ACCOUNT`), with that account's session.
async fn across_accounts(
    target: &Target,
    accounts: &backend::accounts::Accounts,
    mut command: Command,
    printer: &Printer,
    patience: Patience,
) -> anyhow::Result<(String, Report)> {
    let members = &accounts.members;
    let patients: Vec<Result<Patient<'_>, &backend::BackendError>> = members
        .iter()
        .map(|m| {
            m.backend
                .as_ref()
                .map(|b| Patient::new(b.as_ref(), patience))
        })
        .collect();
    let views: Vec<commands::accounts::Account<'_>> = members
        .iter()
        .zip(&patients)
        .map(|(m, p)| commands::accounts::Account {
            id: &m.account,
            name: m.name.as_deref(),
            backend: p.as_ref().map(|p| p as &dyn Backend).map_err(|e| *e),
        })
        .collect();
    let banner = accounts.banner.clone();
    if matches!(command, Command::Dlq(DlqCommand::Ls)) {
        return Ok((
            banner,
            Report::DlqList(commands::accounts::ls(&views).await),
        ));
    }
    // An order's chain wherever it went: every account read as one.
    let estate = backend::estate::Estate {
        banner: banner.clone(),
        accounts: views
            .iter()
            .filter_map(|v| v.backend.ok().map(|b| (v.id, b)))
            .collect(),
    };
    if let Command::Ui(args) = &command {
        // Each command of the UI acts in the account of its consumer; a trace reads them all.
        let session = ui::run(ui::Setup {
            backend: &estate,
            accounts: &views,
            banner: banner.clone(),
            refresh: std::time::Duration::from_secs(args.refresh),
            journal: target.journal_path()?,
            hold: args.visibility_timeout,
        })
        .await?;
        return Ok((banner, Report::Interactive(session)));
    }
    if matches!(command, Command::Trace(_)) {
        let unread: Vec<String> = views
            .iter()
            .filter_map(|v| {
                let e = v.backend.err()?;
                Some(format!(
                    "account {} not read: {}",
                    v.id,
                    e.to_string().lines().next().unwrap_or_default()
                ))
            })
            .collect();
        let (banner, mut report) = execute(command, &estate, target, printer).await?;
        if let Report::Trace(trace) = &mut report {
            trace.problems.extend(unread);
        }
        return Ok((banner, report));
    }
    let named = command
        .target_mut()
        .expect("every other command acts on one consumer");
    let (index, backend, name) = commands::accounts::locate(&views, named).await?;
    *named = name;
    let (banner, mut report) = execute(command, backend, target, printer).await?;
    if let Report::Redrive(redrive) = &mut report {
        // The report names the consumer as the user does across accounts.
        redrive.target = format!("{}@{}", redrive.target, views[index].id);
    }
    Ok((banner, report))
}
