//! The audit journal of redrives: one NDJSON line per run start, per message outcome and per
//! run end. Lines are buffered and written per batch; the lines of a batch are on disk before
//! its messages are deleted from the DLQ, so even a killed run leaves the trail of everything
//! it deleted.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::cli::{Filters, Via};

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum MessageOutcome {
    /// Delivered; its delete from the DLQ is being sent. A later line of the same run says how
    /// that ended; a run killed before then leaves the message in the DLQ for the next run.
    Delivered,
    /// Delivered and deleted from the DLQ.
    Redriven,
    /// Delivered and left in the DLQ on purpose (`--keep`).
    Copied,
    /// Delivered; the delete failed, so it is still in the DLQ.
    DeliveredNotDeleted,
    /// The delivery failed.
    Failed,
    /// Not replayable: never delivered.
    Skipped,
}

/// One record of the journal.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "record", rename_all = "camelCase")]
pub(crate) enum JournalRecord<'a> {
    /// A run starts.
    #[serde(rename_all = "camelCase")]
    Start {
        /// Where it acts.
        backend: &'a str,
        /// The consumer.
        target: &'a str,
        /// Its DLQ.
        queue: &'a str,
        /// How it delivers.
        via: Via,
        /// Whether it changes nothing.
        dry_run: bool,
        /// The filters given.
        filters: &'a Filters,
        /// `--max`.
        max: Option<usize>,
        /// `--keep`: deliveries are copies.
        keep: bool,
        /// `--transform`.
        #[serde(skip_serializing_if = "Option::is_none")]
        transform: Option<&'a str>,
    },
    /// A message's outcome.
    #[serde(rename_all = "camelCase")]
    Message {
        /// The SQS message id.
        message_id: &'a str,
        /// The event's idempotency key.
        event_id: Option<&'a str>,
        /// The order.
        order_id: Option<&'a str>,
        /// What became of it.
        outcome: MessageOutcome,
        /// Why, when it was not redriven.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a str>,
        /// With `--transform`: the message body as it was in the DLQ.
        #[serde(skip_serializing_if = "Option::is_none")]
        original: Option<&'a str>,
        /// With `--transform`: the mended event that was delivered.
        #[serde(skip_serializing_if = "Option::is_none")]
        transformed: Option<&'a serde_json::Value>,
    },
    /// A run ends.
    #[serde(rename_all = "camelCase")]
    End {
        /// Delivered and deleted.
        redriven: u64,
        /// Delivered and left in the DLQ (`--keep`).
        copied: u64,
        /// Deliveries that failed.
        failed: u64,
        /// Not replayable.
        skipped: u64,
        /// Delivered, delete failed.
        delivered_not_deleted: u64,
        /// Ctrl-C stopped it.
        interrupted: bool,
    },
}

/// How many runs delivered each event (by `metadata.eventId`), from the journal at `path`: the
/// runs whose lines say `delivered` or `redriven` for it. Copies (`--keep`) and dry runs do not
/// count. No journal yet: no deliveries.
pub(crate) fn deliveries(path: &Path) -> anyhow::Result<HashMap<String, u32>> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Seen {
        record: String,
        run: Option<String>,
        event_id: Option<String>,
        outcome: Option<MessageOutcomeName>,
    }
    #[derive(serde::Deserialize, PartialEq, Eq)]
    #[serde(rename_all = "kebab-case")]
    enum MessageOutcomeName {
        Delivered,
        Redriven,
        #[serde(other)]
        Other,
    }
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("while reading the redrive journal {}", path.display()));
        }
    };
    let mut runs: HashSet<(String, String)> = HashSet::new();
    for line in BufReader::new(file).lines() {
        let line =
            line.with_context(|| format!("while reading the redrive journal {}", path.display()))?;
        // A line cut short by a kill is no delivery: skip what does not parse.
        let Ok(seen) = serde_json::from_str::<Seen>(&line) else {
            continue;
        };
        if seen.record == "message"
            && matches!(
                seen.outcome,
                Some(MessageOutcomeName::Delivered | MessageOutcomeName::Redriven)
            )
            && let (Some(run), Some(event)) = (seen.run, seen.event_id)
        {
            runs.insert((run, event));
        }
    }
    let mut counts = HashMap::new();
    for (_, event) in runs {
        *counts.entry(event).or_insert(0) += 1;
    }
    Ok(counts)
}

/// A record with the run, the time and the user.
#[derive(Debug, Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    record: &'a JournalRecord<'a>,
    run: &'a str,
    time: DateTime<Utc>,
    user: &'a str,
}

/// An open journal.
#[derive(Debug)]
pub(crate) struct Journal {
    file: BufWriter<File>,
    path: PathBuf,
    run: String,
    user: String,
}

impl Journal {
    /// Append to the journal at `path` for run `run`.
    pub(crate) fn open(path: &Path, run: &str) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("while creating {}", dir.display()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("while opening the redrive journal {}", path.display()))?;
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".to_owned());
        Ok(Self {
            file: BufWriter::new(file),
            path: path.to_owned(),
            run: run.to_owned(),
            user,
        })
    }

    /// Where it is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Write what is buffered to the file.
    pub(crate) fn flush(&mut self) -> anyhow::Result<()> {
        self.file
            .flush()
            .with_context(|| format!("while writing the redrive journal {}", self.path.display()))
    }

    /// Append one record (buffered: see [`Self::flush`]).
    pub(crate) fn write(&mut self, record: &JournalRecord<'_>) -> anyhow::Result<()> {
        let line = Line {
            record,
            run: &self.run,
            time: Utc::now(),
            user: &self.user,
        };
        let text = serde_json::to_string(&line).expect("journal records always serialize");
        writeln!(self.file, "{text}")
            .with_context(|| format!("while writing the redrive journal {}", self.path.display()))
    }
}
