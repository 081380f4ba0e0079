//! Reading a DLQ without consuming it.
//!
//! SQS has no peek: reading is receiving. So a scan receives with a visibility timeout that
//! covers the whole command, keeps going until a long-poll receive comes back empty (the only
//! evidence that a queue is drained), de-duplicates by `MessageId` (standard queues deliver at
//! least once), and at the end makes everything it did not delete visible again — also on
//! Ctrl-C or error. A queue larger than one pass can hold in flight is reported as such.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;

use ecomm_events::DlqRecord;

use crate::backend::{Backend, BackendError, Message, QueueRef};
use crate::cli::{Filters, ScanArgs};

/// SQS stops handing out messages at about 120,000 in flight per queue; stay below it.
pub(crate) const IN_FLIGHT_LIMIT: usize = 110_000;

/// A message read, with its normalised record.
#[derive(Debug, Clone)]
pub(crate) struct Scanned {
    /// The message.
    pub(crate) message: Message,
    /// What it says.
    pub(crate) record: DlqRecord,
}

impl Scanned {
    /// Parse a received message.
    pub(crate) fn new(message: Message) -> Self {
        let record = DlqRecord::parse(&message.body, &message.attributes);
        Self { message, record }
    }
}

/// What a scan saw.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The matching messages, oldest first.
    pub(crate) matching: Vec<Scanned>,
    /// How many distinct messages were read.
    pub(crate) seen: usize,
    /// Why the scan stopped before draining the queue, if it did.
    pub(crate) incomplete: Option<String>,
    /// Ctrl-C stopped it.
    pub(crate) interrupted: bool,
}

/// Messages held invisible by this command, by message id → latest receipt handle.
#[derive(Debug, Default)]
pub(crate) struct Held(std::cell::RefCell<BTreeMap<String, String>>);

impl Held {
    /// Remember a receipt; `false` if the message was already held (a duplicate delivery).
    pub(crate) fn hold(&self, message: &Message) -> bool {
        self.0
            .borrow_mut()
            .insert(message.message_id.clone(), message.receipt_handle.clone())
            .is_none()
    }

    /// Forget a message (deleted).
    pub(crate) fn forget(&self, message_id: &str) {
        self.0.borrow_mut().remove(message_id);
    }

    /// The current receipt of a held message.
    pub(crate) fn receipt(&self, message_id: &str) -> Option<String> {
        self.0.borrow().get(message_id).cloned()
    }

    /// How many are held.
    pub(crate) fn len(&self) -> usize {
        self.0.borrow().len()
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.borrow_mut())
            .into_values()
            .collect()
    }
}

/// Make every held message visible again. Returns how many could not be released (they
/// reappear when their visibility timeout ends).
pub(crate) async fn release(backend: &dyn Backend, queue: &QueueRef, held: &Held) -> usize {
    let receipts = held.take();
    let mut unreleased = 0;
    for batch in receipts.chunks(10) {
        match backend.change_visibility(queue, batch, 0).await {
            Ok(outcomes) => unreleased += outcomes.iter().filter(|o| o.is_err()).count(),
            Err(_) => unreleased += batch.len(),
        }
    }
    unreleased
}

/// The user pressed Ctrl-C.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub(crate) struct Interrupted;

/// Run `work`, stopping early on Ctrl-C.
pub(crate) async fn until_interrupted<T>(
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::select! {
        result = work => result,
        _ = tokio::signal::ctrl_c() => Err(Interrupted.into()),
    }
}

/// Read every message of `queue` (holding them in `held`), keeping those matching `filters`.
pub(crate) async fn read(
    backend: &dyn Backend,
    queue: &QueueRef,
    filters: &Filters,
    args: &ScanArgs,
    held: &Held,
) -> Result<Scan, BackendError> {
    let scan = RefCell::new(Scan::default());
    read_into(backend, queue, filters, args, held, &scan).await?;
    Ok(sorted(scan.into_inner()))
}

/// The same, stopping at Ctrl-C with what was read so far (`interrupted` set).
pub(crate) async fn read_until_interrupted(
    backend: &dyn Backend,
    queue: &QueueRef,
    filters: &Filters,
    args: &ScanArgs,
    held: &Held,
) -> Result<Scan, BackendError> {
    let scan = RefCell::new(Scan::default());
    let interrupted = tokio::select! {
        result = read_into(backend, queue, filters, args, held, &scan) => {
            result?;
            false
        }
        _ = tokio::signal::ctrl_c() => true,
    };
    let mut scan = scan.into_inner();
    scan.interrupted = interrupted;
    Ok(sorted(scan))
}

fn sorted(mut scan: Scan) -> Scan {
    scan.matching.sort_by_key(|a| a.message.sent);
    scan
}

async fn read_into(
    backend: &dyn Backend,
    queue: &QueueRef,
    filters: &Filters,
    args: &ScanArgs,
    held: &Held,
    scan: &RefCell<Scan>,
) -> Result<(), BackendError> {
    loop {
        if filters
            .limit
            .is_some_and(|limit| scan.borrow().matching.len() >= limit)
        {
            return Ok(());
        }
        if held.len() >= IN_FLIGHT_LIMIT {
            scan.borrow_mut().incomplete = Some(format!(
                "stopped after {} messages: SQS holds at most ~120,000 in flight per queue, so one pass cannot see more; \
                 narrow the filters or act on this part first",
                held.len()
            ));
            return Ok(());
        }
        let batch = backend
            .receive(queue, 10, args.visibility_timeout, args.wait)
            .await?;
        if batch.is_empty() {
            return Ok(());
        }
        let mut scan = scan.borrow_mut();
        for message in batch {
            if !held.hold(&message) {
                continue;
            }
            scan.seen += 1;
            let scanned = Scanned::new(message);
            if filters.matches(&scanned.message, &scanned.record)
                && filters.limit.is_none_or(|l| scan.matching.len() < l)
            {
                scan.matching.push(scanned);
            }
        }
    }
}
