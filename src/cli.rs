//! The command line, as clap types only.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  failure you can act on (credentials, missing queue, ...)
  2  usage error
  3  partial success (e.g. some messages were not redriven)

Examples:
  ecomm demo                               run the whole system locally with injected faults
  ecomm dlq ls                             every consumer's DLQ at a glance
  ecomm dlq show notification --order-id ord-00042
  ecomm redrive --target notification      replay exactly the failed deliveries to notification
  ecomm --env aws --profile prod --bus ecomm-prod dlq ls
  ecomm local reset                        start the local stack from scratch

Environment: the local stack unless --env aws, ECOMM_ENV=aws, or an AWS flag
(--profile, --region, --endpoint-url) says otherwise. Every human answer starts
with a line naming where it comes from.";

/// On-call CLI for the ecomm event-driven order system: DLQs, redrive, trace.
#[derive(Debug, Parser)]
#[command(name = "ecomm", version, about, after_help = AFTER_HELP, arg_required_else_help = true)]
pub(crate) struct Cli {
    /// Options of every command.
    #[command(flatten)]
    pub(crate) global: Global,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Where the commands act, and how they answer.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Where to act: the embedded local stack, or AWS.
    #[arg(long, value_enum, env = "ECOMM_ENV", global = true)]
    pub(crate) env: Option<Environment>,
    /// The local stack's state file [default: the user data dir's ecomm/local.sqlite].
    #[arg(long, env = "ECOMM_STATE", global = true, value_name = "PATH")]
    pub(crate) state: Option<PathBuf>,
    /// Output format: tables for people, JSON for scripts.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Table, global = true)]
    pub(crate) output: OutputFormat,
    /// No progress bars or hints; only the answer.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    /// No colours (also when NO_COLOR is set or the output is not a terminal).
    #[arg(long, global = true)]
    pub(crate) no_color: bool,
    /// Throttling and server errors are retried, at an adapting pace, until no call has
    /// succeeded for this long; the command then ends with what it did (exit 3).
    #[arg(long, global = true, default_value = "5m", value_name = "DURATION", value_parser = crate::filter::parse_duration)]
    pub(crate) give_up_after: std::time::Duration,
    /// AWS access.
    #[command(flatten)]
    pub(crate) aws: AwsArgs,
}

/// How to reach AWS: the one place the SDK configuration comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub(crate) struct AwsArgs {
    /// AWS profile (SSO profiles included) [env: AWS_PROFILE]. Implies --env aws.
    #[arg(long, global = true, help_heading = "AWS")]
    pub(crate) profile: Option<String>,
    /// AWS region [env: AWS_REGION]. Implies --env aws.
    #[arg(long, global = true, help_heading = "AWS")]
    pub(crate) region: Option<String>,
    /// Endpoint URL of every AWS service, e.g. a local emulator [env: AWS_ENDPOINT_URL].
    /// Implies --env aws.
    #[arg(long, global = true, value_name = "URL", help_heading = "AWS")]
    pub(crate) endpoint_url: Option<String>,
    /// The event bus whose consumers to act on (in every account of --accounts).
    #[arg(long, env = "ECOMM_BUS", global = true, help_heading = "AWS")]
    pub(crate) bus: Option<String>,
    /// Act in these accounts (ids, account names or one set of the config file), assuming
    /// --account-role in each; targets are then named `NAME@ACCOUNT`. Implies --env aws.
    #[arg(
        long,
        global = true,
        value_delimiter = ',',
        value_name = "ID,ID|SET",
        help_heading = "AWS"
    )]
    pub(crate) accounts: Vec<String>,
    /// Act in every active account of the organization (organizations:ListAccounts, from the
    /// management account or a delegated administrator). Implies --env aws.
    #[arg(long, global = true, conflicts_with = "accounts", help_heading = "AWS")]
    pub(crate) all_accounts: bool,
    /// The role assumed in each account of --accounts: a name (`ecomm-oncall`) or an ARN
    /// template with `{account}` (`arn:aws:iam::{account}:role/ecomm-oncall`); the config
    /// file's `account_role` by default.
    #[arg(
        long,
        global = true,
        value_name = "NAME_OR_ARN_TEMPLATE",
        help_heading = "AWS"
    )]
    pub(crate) account_role: Option<String>,
    /// The longest wait for the first byte of an answer, as the AWS CLI's
    /// --cli-read-timeout [default: 60s]; a long poll's receive gets its wait on top. A call
    /// that gets no answer in time is sent again, like a 5xx.
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_read_timeout, help_heading = "AWS")]
    pub(crate) read_timeout: Option<std::time::Duration>,
}

/// The default of `--read-timeout`, as the AWS CLI's and boto3's.
pub(crate) const DEFAULT_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_mins(1);

fn parse_read_timeout(text: &str) -> Result<std::time::Duration, String> {
    let timeout = crate::filter::parse_duration(text)?;
    if timeout.is_zero() {
        return Err("must be longer than 0s".to_owned());
    }
    Ok(timeout)
}

impl AwsArgs {
    /// `--read-timeout`, or its default.
    pub(crate) fn read_timeout(&self) -> std::time::Duration {
        self.read_timeout.unwrap_or(DEFAULT_READ_TIMEOUT)
    }

    /// Whether an AWS-only flag was given.
    pub(crate) fn any(&self) -> bool {
        self.profile.is_some()
            || self.region.is_some()
            || self.endpoint_url.is_some()
            || !self.accounts.is_empty()
            || self.all_accounts
            || self.account_role.is_some()
            || self.read_timeout.is_some()
    }
}

/// An AWS account id: twelve digits.
pub(crate) fn parse_account(text: &str) -> Result<String, String> {
    let id = text.trim();
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id.to_owned())
    } else {
        Err(format!("{id:?} is not an AWS account id (12 digits)"))
    }
}

/// Where the commands act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Environment {
    /// The embedded local stack (a SQLite state file).
    Local,
    /// AWS, through the standard credential chain.
    Aws,
}

/// How answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Tables and text for people, fitted to the terminal's width (or `COLUMNS`).
    Table,
    /// The same tables with every column at full length, whatever the width.
    Wide,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A Mermaid sequence diagram (`trace` only).
    Mermaid,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the whole system on the local stack with realistic orders and injected faults.
    #[command(after_help = "\
Examples:
  ecomm demo
  ecomm demo --orders 500 --seed 7 --faults 'mail-outage=20%..30%,throttle=analytics:3'
  ecomm demo --faults none --extend
  ecomm demo --tenants 2        two tenant accounts forwarding to the central bus

Faults (--faults): 'default', 'none', or a comma-separated list of
  mail-outage=START%..END%   the mailer is down during that part of the window
  audit-outage=START%..END%  the audit table throttles writes during that part
  throttle=TARGET:N          EventBridge cannot deliver N orders to TARGET (THROTTLING)
  no-permissions=TARGET:N    the same with NO_PERMISSIONS (not retried by EventBridge);
                             TARGET forward breaks the tenants' forward to the central bus
  gateway-timeout=N          the payment gateway times out for N refunds, every attempt
  poison=N                   N OrderCreated events of an unknown major version
The default is mail-outage=40%..47%,throttle=analytics:2,no-permissions=audit:1,
gateway-timeout=1,poison=1, and with --tenants N also no-permissions=forward:N.
Faults exist only while the demo runs: redriving their messages later succeeds,
except the poison event, which fails again.")]
    Demo(DemoArgs),
    /// List, inspect, export and purge the consumers' dead-letter queues.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Replay failed events from a consumer's DLQ to exactly that consumer, losing nothing.
    #[command(after_help = REDRIVE_HELP)]
    Redrive(RedriveArgs),
    /// An order's whole event chain, across every function's logs and every DLQ.
    #[command(after_help = "\
Examples:
  ecomm trace ord-00042
  ecomm trace corr-1a2b3c4d --since 7d
  ecomm trace ord-00042 --output mermaid > ord-00042.mmd
  ecomm trace ord-00042 --follow          live view while a redrive runs
  ecomm --env aws --bus ecomm-prod trace ord-123 --insights --since 3d

The argument is an order id, a correlation id or an event id. Log lines that are not
ecomm's JSON log records are ignored; a log group that is missing or denied is reported
and the rest is still shown.")]
    Trace(TraceArgs),
    /// Every DLQ in an interactive terminal view: open one, read its messages, redrive, purge,
    /// export or trace them with a key.
    #[command(after_help = "\
Screens: the overview of every consumer's DLQ (refreshed from queue attributes),
one DLQ's messages, one message, and an order's trace. Press ? for the keys.
Redrive, purge and export are the CLI's own commands, run after a confirmation
that names the count; the status line shows the command line each one runs.

Examples:
  ecomm ui
  ecomm --profile prod --region eu-west-1 ui --refresh 10")]
    Ui(UiArgs),
    /// Manage the local stack's state.
    #[command(subcommand)]
    Local(LocalCommand),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

const REDRIVE_HELP: &str = "\
How nothing is lost:
  Messages are received with a visibility timeout that covers the run. Each selected
  message's original event is delivered; it is deleted from the DLQ only after its own
  delivery was confirmed (the target's API reported no error for that entry). Everything else is made visible again at the end, also on Ctrl-C or error;
  after kill -9 it reappears when the visibility timeout ends. Re-running finishes the job.
  An event delivered but not yet deleted when the run stops is delivered again by the next
  run; the consumers' idempotency on metadata.eventId absorbs it.

--via target (default): straight to the consumer's own target, with what EventBridge
  would have sent it. A Lambda function gets an asynchronous Invoke; an SQS queue
  SendMessageBatch (a FIFO queue with the target's MessageGroupId, and the event id as
  deduplication id); an SNS topic PublishBatch; a Step Functions state machine
  StartExecution named redrive-<event id>, so that a replay is started once; another event
  bus PutEvents. Other target types are refused before any message is touched.
  A target-DLQ message holds the original event: the target's Input, InputPath or
  InputTransformer is applied to it first. A Lambda on-failure record holds what the
  function received, already transformed: it is delivered as is.
--via invoke: the same, for Lambda targets only.
--via bus: PutEvents of the original event to the bus: every matching rule sees it
  again, and every consumer's idempotency makes that safe. v1 events carry no eventId
  (their idempotency key is the envelope id, which PutEvents replaces), so they are
  skipped with --via bus; use --via target for them. An on-failure record of a target
  that transforms its input holds no event, and is refused.

--keep delivers and leaves the messages in the DLQ (a copy). The loop guard skips an
  event this machine's journal shows redriven --max-redrives times already (default 3):
  it is failing again, and redriving it once more will not help; --force overrides.
--transform EXPR mends each event with a jq expression first; the result must still
  decode as an event of the contract (else it is skipped, unless --force). With
  --dry-run, the changes of the first messages are shown. The journal keeps the original
  body and the mended event; the original leaves the DLQ only once the mended event's
  delivery is confirmed.

Messages in no known format are skipped and reported unless named with --message-id.
Messages that arrive in the DLQ during the run are left for the next run.

Examples:
  ecomm redrive --target notification --dry-run
  ecomm redrive --target inventory --error-code THROTTLING --rate 50 --concurrency 4
  ecomm redrive --target refund --order-id ord-00042
  ecomm redrive --target analytics --via bus --since 2h
  ecomm redrive --target audit --keep --max 10      copy ten messages, leave them in the DLQ
  ecomm redrive --target inventory --error-code UnsupportedEventVersion \\
      --transform '.detail.eventVersion = \"2.0\"' --dry-run

Exit code 3 when any selected message was not redriven.";

/// `ecomm dlq ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum DlqCommand {
    /// Every consumer's DLQ: depth, in flight, oldest message, which failure paths are wired.
    Ls,
    /// The messages of a consumer's DLQ, normalised, without consuming them.
    #[command(
        after_help = "Examples:\n  ecomm dlq show notification\n  ecomm dlq show inventory --error-code UnsupportedEventVersion --raw\n  ecomm dlq show refund --order-id ord-00042 --output json"
    )]
    Show(ShowArgs),
    /// NDJSON of a consumer's DLQ messages (bodies and attributes), without consuming them.
    #[command(
        after_help = "Examples:\n  ecomm dlq export notification > notification.ndjson\n  ecomm dlq export inventory --since 2h --file inventory.ndjson"
    )]
    Export(ExportArgs),
    /// Delete a consumer's DLQ messages: all, or only those matching the filters.
    #[command(
        after_help = "Examples:\n  ecomm dlq purge analytics --archive analytics.ndjson\n  ecomm dlq purge inventory --message-id 0d5c... --yes\n\nWith filters or --archive, exactly the matching messages that were read are deleted\n(after being written to the archive). Without either, PurgeQueue empties the queue\n(allowed once per 60 s)."
    )]
    Purge(PurgeArgs),
}

/// A count of 1 or more.
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(1..)
}

/// Which messages.
#[derive(Debug, Clone, Default, Args, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Filters {
    /// Only messages of this correlation id.
    #[arg(long, help_heading = "Filters")]
    pub(crate) correlation_id: Option<String>,
    /// Only messages of this order.
    #[arg(long, help_heading = "Filters")]
    pub(crate) order_id: Option<String>,
    /// Only messages with this error code (ERROR_CODE, errorType or ErrorCode).
    #[arg(long, help_heading = "Filters")]
    pub(crate) error_code: Option<String>,
    /// Only events of this detail-type.
    #[arg(long, help_heading = "Filters")]
    pub(crate) detail_type: Option<String>,
    /// Only messages sent since then: a duration ago (30m, 2h, 7d) or an RFC 3339 time.
    #[arg(long, value_parser = crate::filter::parse_time, help_heading = "Filters")]
    pub(crate) since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only messages sent before then (exclusive): a duration ago (30m, 2h, 7d) or an RFC 3339
    /// time.
    #[arg(long, value_parser = crate::filter::parse_time, help_heading = "Filters")]
    pub(crate) until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only these messages (repeatable); also selects messages in no known format.
    #[arg(long, help_heading = "Filters")]
    pub(crate) message_id: Vec<String>,
    /// At most this many matching messages (for `redrive`, like --max).
    #[arg(long, value_parser = at_least_one(), help_heading = "Filters")]
    pub(crate) limit: Option<usize>,
}

/// How a DLQ is read without consuming it.
#[derive(Debug, Clone, Args)]
pub(crate) struct ScanArgs {
    /// Seconds the messages read stay hidden from other readers while this command runs
    /// (they are released at the end).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=43_200), help_heading = "Scanning")]
    pub(crate) visibility_timeout: u32,
    /// Long-poll wait, in seconds, of the receive that proves the queue drained (any wait makes
    /// it a long poll, which asks every SQS server: 1 is proof enough).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=20), help_heading = "Scanning")]
    pub(crate) wait: u8,
    /// Receivers at once (for `redrive`: receive/deliver/delete pipelines); throttling lowers
    /// the pace on its own.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64), help_heading = "Scanning")]
    pub(crate) concurrency: u16,
}

impl Command {
    /// The consumer a command acts on, for those that act on one.
    pub(crate) fn target_mut(&mut self) -> Option<&mut String> {
        match self {
            Self::Dlq(DlqCommand::Show(args)) => Some(&mut args.target),
            Self::Dlq(DlqCommand::Export(args)) => Some(&mut args.target),
            Self::Dlq(DlqCommand::Purge(args)) => Some(&mut args.target),
            Self::Redrive(args) => Some(&mut args.target),
            _ => None,
        }
    }
}

/// `ecomm dlq show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The consumer (its target id), e.g. `inventory`.
    pub(crate) target: String,
    /// Which messages.
    #[command(flatten)]
    pub(crate) filters: Filters,
    /// Show each message's full body and attributes.
    #[arg(long)]
    pub(crate) raw: bool,
    /// Show customer emails, names and addresses instead of masking them.
    #[arg(long)]
    pub(crate) show_pii: bool,
    /// Scanning.
    #[command(flatten)]
    pub(crate) scan: ScanArgs,
}

/// `ecomm dlq export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The consumer (its target id).
    pub(crate) target: String,
    /// Which messages.
    #[command(flatten)]
    pub(crate) filters: Filters,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    /// Scanning.
    #[command(flatten)]
    pub(crate) scan: ScanArgs,
}

/// `ecomm dlq purge`.
#[derive(Debug, Args)]
pub(crate) struct PurgeArgs {
    /// The consumer (its target id).
    pub(crate) target: String,
    /// Which messages (none: all of them).
    #[command(flatten)]
    pub(crate) filters: Filters,
    /// Write every message to be deleted (body and attributes) to this NDJSON file first.
    #[arg(long, value_name = "FILE")]
    pub(crate) archive: Option<PathBuf>,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short)]
    pub(crate) yes: bool,
    /// Scanning.
    #[command(flatten)]
    pub(crate) scan: ScanArgs,
}

/// How `redrive` delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Via {
    /// Straight to the consumer's own target, whatever it is (function, queue, topic, state
    /// machine, another bus), with the payload EventBridge would have sent it: only that
    /// consumer sees the event.
    Target,
    /// The same as `target`, for Lambda targets only (asynchronous Invoke).
    Invoke,
    /// PutEvents to the bus: every matching rule sees the event again.
    Bus,
}

impl Via {
    /// The name on the command line (serde's name in the JSON answers is the same).
    pub(crate) fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// `ecomm redrive`.
#[derive(Debug, Args)]
pub(crate) struct RedriveArgs {
    /// The consumer to replay to (its target id), e.g. `inventory`.
    #[arg(long)]
    pub(crate) target: String,
    /// Which messages.
    #[command(flatten)]
    pub(crate) filters: Filters,
    /// Show what would be redriven; change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Redrive at most this many messages.
    #[arg(long, value_parser = at_least_one())]
    pub(crate) max: Option<usize>,
    /// At most this many deliveries per second (a number above 0, e.g. 50 or 0.5).
    #[arg(long, value_name = "N", value_parser = crate::filter::parse_rate)]
    pub(crate) rate: Option<f64>,
    /// How to deliver.
    #[arg(long, value_enum, default_value_t = Via::Target)]
    pub(crate) via: Via,
    /// Deliver, but leave the messages in the DLQ: a copy, e.g. to rehearse against staging.
    #[arg(long)]
    pub(crate) keep: bool,
    /// Skip an event already redriven this many times that is back in the DLQ (it is failing
    /// again); the count comes from this machine's redrive journal.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_redrives: u32,
    /// Redrive events the loop guard would skip, and mended events the contract rejects.
    #[arg(long)]
    pub(crate) force: bool,
    /// Mend each event with this jq expression before delivering it, e.g.
    /// '.detail.eventVersion = "2.0"'; the result must still be an event of the contract.
    #[arg(long, value_name = "EXPR")]
    pub(crate) transform: Option<String>,
    /// Scanning.
    #[command(flatten)]
    pub(crate) scan: ScanArgs,
}

/// `ecomm demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// How many orders to submit.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub(crate) orders: u32,
    /// Seeds every choice and id: the same seed gives the same outcome.
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
    /// The faults to inject (see below).
    #[arg(long, default_value = "default", value_name = "SPEC")]
    pub(crate) faults: String,
    /// Keep the existing state and add to it, instead of starting from scratch.
    #[arg(long)]
    pub(crate) extend: bool,
    /// Start of the simulated hour of orders (RFC 3339) [default: an hour ago].
    #[arg(long, value_name = "TIME")]
    pub(crate) start: Option<chrono::DateTime<chrono::Utc>>,
    /// Tenant accounts (up to 9), each with its own bus and producer forwarding to the
    /// central bus: the tenants take the orders in turn.
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=9))]
    pub(crate) tenants: u8,
}

/// `ecomm ui`.
#[derive(Debug, Args)]
pub(crate) struct UiArgs {
    /// Seconds between two refreshes of the overview's counters.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) refresh: u64,
    /// Seconds the open queue view's messages stay hidden from other readers after each
    /// renewal (renewed every third of it, released on leaving): should the UI be killed,
    /// they reappear within it.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(3..=43_200))]
    pub(crate) visibility_timeout: u32,
}

/// `ecomm trace`.
#[derive(Debug, Args)]
pub(crate) struct TraceArgs {
    /// An order id, a correlation id or an event id.
    pub(crate) id: String,
    /// Search logs from then: a duration ago (30m, 2h, 7d) or an RFC 3339 time [default: 24h].
    #[arg(long, value_parser = crate::filter::parse_time)]
    pub(crate) since: Option<chrono::DateTime<chrono::Utc>>,
    /// Search logs until then: a duration ago or an RFC 3339 time [default: 5 minutes from
    /// now, so that lines still being written are found].
    #[arg(long, value_parser = crate::filter::parse_time)]
    pub(crate) until: Option<chrono::DateTime<chrono::Utc>>,
    /// One Logs Insights query across the groups instead of FilterLogEvents per group (AWS;
    /// better for long windows).
    #[arg(long)]
    pub(crate) insights: bool,
    /// Keep polling and print new steps as they happen; Ctrl-C to stop.
    #[arg(long)]
    pub(crate) follow: bool,
    /// Seconds between polls with --follow.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub(crate) interval: u64,
    /// Scanning the DLQs.
    #[command(flatten)]
    pub(crate) scan: ScanArgs,
}

/// `ecomm local ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum LocalCommand {
    /// Delete the local state file: queues, logs, tables, everything.
    Reset,
}
