//! Reading a DLQ without consuming it.
//!
//! SQS has no peek: reading is receiving. So a scan receives with a visibility timeout that
//! covers the whole command, keeps going until a long-poll receive comes back empty (the only
//! evidence that a queue is drained), de-duplicates by `MessageId` (standard queues deliver at
//! least once), and at the end makes everything it did not delete visible again — also on
//! Ctrl-C or error. A queue larger than one pass can hold in flight is reported as such.
//!
//! `--concurrency` receivers read at once. Each short-polls while the queue hands it messages
//! (a short poll asks only some of SQS's servers, so a batch of fewer than 10 says nothing
//! about what is left); after an empty one, one receiver at a time long-polls (see [`Polls`]),
//! and the first empty long poll stops them all, so the proof that the queue drained costs one
//! long poll, not one per receiver. A queue whose counters read 0 visible and 0 in flight is not polled at all.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use ecomm_events::DlqRecord;
use futures::StreamExt as _;

use crate::backend::{Attributes, Backend, BackendError, Message, QueueRef};
use crate::cli::{Filters, ScanArgs};
use crate::interaction::{Interaction, Progress, Unwatched};

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
    /// It stopped once it had read as many messages as the queue reported visible when it
    /// started ([`Reading::stop_at_start_count`]), without the long poll that proves the queue
    /// drained.
    pub(crate) stopped_at_count: bool,
}

/// How far to read, and who watches.
#[derive(Clone, Copy, Default)]
pub(crate) struct Reading<'a> {
    /// Stop once as many distinct messages were read as the queue reported visible at the
    /// start: enough for a reader that only looks, and faster than proving the queue drained.
    pub(crate) stop_at_start_count: bool,
    /// Who sees the progress (none: nobody).
    pub(crate) interaction: Option<&'a dyn Interaction>,
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

    fn receipts(&self) -> Vec<String> {
        self.0.borrow().values().cloned().collect()
    }
}

/// Make every held message visible again, `concurrency` batches at a time. Returns how many
/// could not be released (they reappear when their visibility timeout ends).
pub(crate) async fn release(
    backend: &dyn Backend,
    queue: &QueueRef,
    held: &Held,
    concurrency: u16,
) -> usize {
    set_visibility(backend, queue, &held.take(), 0, concurrency).await
}

/// Set the visibility timeout of `receipts` to `seconds`, `concurrency` batches at a time;
/// how many entries failed.
async fn set_visibility(
    backend: &dyn Backend,
    queue: &QueueRef,
    receipts: &[String],
    seconds: u32,
    concurrency: u16,
) -> usize {
    futures::stream::iter(receipts.chunks(10))
        .map(|batch| async move {
            match backend.change_visibility(queue, batch, seconds).await {
                Ok(outcomes) => outcomes.iter().filter(|o| o.is_err()).count(),
                Err(_) => batch.len(),
            }
        })
        .buffer_unordered(usize::from(concurrency.max(1)))
        .fold(0, |failed, n| async move { failed + n })
        .await
}

/// Messages read and kept hidden for a view that stays open: [`Holding::renew`] keeps them
/// hidden while it is, [`Holding::release`] gives them back when it closes. Should the
/// process die in between, they reappear on their own once `visibility` seconds have passed
/// since the last renewal.
#[derive(Debug)]
pub(crate) struct Holding {
    /// Where they are.
    pub(crate) queue: QueueRef,
    /// Which, by their latest receipt.
    pub(crate) held: Held,
    /// How long each renewal hides them for.
    pub(crate) visibility: u32,
    /// Batches at once.
    pub(crate) concurrency: u16,
}

impl Holding {
    /// Hide them `visibility` seconds more; how many could not be (they reappear when their
    /// current timeout ends).
    pub(crate) async fn renew(&self, backend: &dyn Backend) -> usize {
        set_visibility(
            backend,
            &self.queue,
            &self.held.receipts(),
            self.visibility,
            self.concurrency,
        )
        .await
    }

    /// Make them visible now; how many could not be (they reappear when their timeout ends).
    pub(crate) async fn release(&self, backend: &dyn Backend) -> usize {
        release(backend, &self.queue, &self.held, self.concurrency).await
    }

    /// How many are held.
    pub(crate) fn len(&self) -> usize {
        self.held.len()
    }
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
        // Ctrl-C first: its handler is installed when first polled, and work that prints
        // before its first await (the local stack's) must not run without it.
        biased;
        _ = tokio::signal::ctrl_c() => Err(Interrupted.into()),
        result = work => result,
    }
}

/// How long the calls in flight at Ctrl-C get to land, for receives that long-poll `wait`
/// seconds: a receive is never dropped while SQS may still hand it messages. Dropped, its
/// messages would stay hidden for the visibility timeout; and a long poll whose caller is gone
/// can still take the messages the command releases after it, hiding them again.
pub(crate) fn landing(wait: u8) -> Duration {
    Duration::from_secs(u64::from(wait) + 2)
}

/// Run `work` until it ends or Ctrl-C. On Ctrl-C, `stop` is set (so that `work` starts nothing
/// new) and `work` gets `landing` to take in the answers of the calls in flight; then it is
/// dropped, and the answer is [`Interrupted`].
pub(crate) async fn until_interrupted_landing<T>(
    stop: &Cell<bool>,
    landing: Duration,
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let mut work = std::pin::pin!(work);
    tokio::select! {
        biased;
        _ = tokio::signal::ctrl_c() => {}
        result = &mut work => return result,
    }
    stop.set(true);
    let _ = tokio::time::timeout(landing, work).await;
    Err(Interrupted.into())
}

/// Run `work` while `progress` says, whenever it changes, what the calls meet when they are
/// backing off (see [`Backend::weather`]); `normal` is shown again once the weather clears.
pub(crate) async fn with_weather<T>(
    backend: &dyn Backend,
    progress: &dyn Progress,
    normal: &dyn Fn() -> String,
    work: impl Future<Output = T>,
) -> T {
    let watch = async {
        let mut shown: Option<String> = None;
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let now = backend.weather();
            if now != shown {
                progress.status(now.clone().unwrap_or_else(normal));
                shown = now;
            }
        }
    };
    tokio::select! {
        result = work => result,
        () = watch => unreachable!("the watch never ends"),
    }
}

/// Read every message of `queue` (holding them in `held`), keeping those matching `filters`.
pub(crate) async fn read(
    backend: &dyn Backend,
    queue: &QueueRef,
    filters: &Filters,
    args: &ScanArgs,
    held: &Held,
    reading: Reading<'_>,
) -> Result<Scan, BackendError> {
    let scan = RefCell::new(Scan::default());
    let stop = Cell::new(false);
    read_watched(backend, queue, filters, args, held, reading, &scan, &stop).await?;
    Ok(sorted(scan.into_inner()))
}

/// The same, stopping at Ctrl-C with what was read so far (`interrupted` set).
pub(crate) async fn read_until_interrupted(
    backend: &dyn Backend,
    queue: &QueueRef,
    filters: &Filters,
    args: &ScanArgs,
    held: &Held,
    reading: Reading<'_>,
) -> Result<Scan, BackendError> {
    let scan = RefCell::new(Scan::default());
    let stop = Cell::new(false);
    let read = async {
        read_watched(backend, queue, filters, args, held, reading, &scan, &stop)
            .await
            .map_err(anyhow::Error::from)
    };
    let interrupted = match until_interrupted_landing(&stop, landing(args.wait), read).await {
        Ok(()) => false,
        Err(e) if e.is::<Interrupted>() => true,
        Err(e) => {
            return Err(e
                .downcast::<BackendError>()
                .unwrap_or_else(|e| BackendError::Other(format!("{e:#}"))));
        }
    };
    let mut scan = scan.into_inner();
    scan.interrupted = interrupted;
    Ok(sorted(scan))
}

fn sorted(mut scan: Scan) -> Scan {
    scan.matching.sort_by_key(|a| a.message.sent);
    scan
}

#[allow(
    clippy::too_many_arguments,
    reason = "the scan's inputs, its output and its stop flag"
)]
async fn read_watched(
    backend: &dyn Backend,
    queue: &QueueRef,
    filters: &Filters,
    args: &ScanArgs,
    held: &Held,
    reading: Reading<'_>,
    scan: &RefCell<Scan>,
    stop: &Cell<bool>,
) -> Result<(), BackendError> {
    let stats = match backend.queue_stats(queue).await {
        Ok(stats) => stats,
        Err(e @ BackendError::GaveUp { .. }) => {
            scan.borrow_mut().incomplete = Some(e.to_string());
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if stats.visible == 0 && stats.in_flight == 0 {
        return Ok(());
    }
    let progress = reading.interaction.map_or_else(
        || Box::new(Unwatched) as Box<dyn Progress>,
        |i| i.progress(stats.visible, &format!("reading {}", queue.name)),
    );
    let enough = reading.stop_at_start_count.then_some(stats.visible);
    let readers = Readers {
        backend,
        queue,
        filters,
        args,
        held,
        enough,
        scan,
        progress: progress.as_ref(),
        done: stop,
        polls: Polls::default(),
    };
    let normal = || format!("reading {}", queue.name);
    let result = with_weather(
        backend,
        progress.as_ref(),
        &normal,
        futures::future::try_join_all((0..args.concurrency.max(1)).map(|_| readers.receiver())),
    )
    .await;
    progress.finish();
    result.map(drop)
}

/// Which receiver may long-poll. Receivers short-poll while the queue hands them messages; once
/// a receiver gets none, it needs the long poll that proves the queue drained, and only one
/// receiver at a time sends it while the others wait for its answer. So the proof costs one
/// `--wait`, and at Ctrl-C at most one long poll is left pending: SQS may hand the messages this
/// command releases to a pending long poll whose caller is gone, hiding them again.
#[derive(Debug, Default)]
pub(crate) struct Polls {
    proving: Cell<bool>,
    answered: tokio::sync::Notify,
}

impl Polls {
    /// The wait of a receiver's next receive: 0 after a batch with messages (`fed`); else
    /// `wait` for one receiver at a time, while the others wait for its answer and then
    /// short-poll again. `None` once `stop` is set (the queue was proven drained, or the command
    /// stops).
    pub(crate) async fn next(&self, fed: bool, wait: u8, stop: &Cell<bool>) -> Option<u8> {
        if fed {
            return (!stop.get()).then_some(0);
        }
        loop {
            if stop.get() {
                return None;
            }
            if !self.proving.get() {
                self.proving.set(true);
                return Some(wait);
            }
            // Registered before the check below, so that an answer in between is not missed.
            let answered = self.answered.notified();
            if self.proving.get() {
                answered.await;
                if !stop.get() {
                    return Some(0);
                }
            }
        }
    }

    /// The long poll came back: empty, it proves the queue drained and sets `stop`.
    pub(crate) fn answered(&self, empty: bool, stop: &Cell<bool>) {
        self.proving.set(false);
        if empty {
            stop.set(true);
        }
        self.answered.notify_waiters();
    }
}

/// The receivers of one scan, and what they share.
struct Readers<'a> {
    backend: &'a dyn Backend,
    queue: &'a QueueRef,
    filters: &'a Filters,
    args: &'a ScanArgs,
    held: &'a Held,
    /// Stop once this many distinct messages were read.
    enough: Option<u64>,
    scan: &'a RefCell<Scan>,
    progress: &'a dyn Progress,
    /// Set by the receiver that proved the queue drained (or hit a limit), or on Ctrl-C: the
    /// others start no new receive.
    done: &'a Cell<bool>,
    /// Who long-polls.
    polls: Polls,
}

impl Readers<'_> {
    fn should_stop(&self) -> bool {
        if self.done.get() {
            return true;
        }
        let mut scan = self.scan.borrow_mut();
        if self
            .filters
            .limit
            .is_some_and(|limit| scan.matching.len() >= limit)
        {
            return true;
        }
        if self.enough.is_some_and(|enough| scan.seen as u64 >= enough) {
            scan.stopped_at_count = true;
            return true;
        }
        if self.held.len() >= IN_FLIGHT_LIMIT {
            scan.incomplete = Some(format!(
                "stopped after {} messages: SQS holds at most ~120,000 in flight per queue, so one pass cannot see more; \
                 narrow the filters or act on this part first",
                self.held.len()
            ));
            return true;
        }
        false
    }

    async fn receiver(&self) -> Result<(), BackendError> {
        let mut fed = true;
        loop {
            if self.should_stop() {
                self.done.set(true);
                return Ok(());
            }
            let Some(wait) = self.polls.next(fed, self.args.wait, self.done).await else {
                return Ok(());
            };
            let batch = match self
                .backend
                .receive(
                    self.queue,
                    10,
                    self.args.visibility_timeout,
                    wait,
                    Attributes::All,
                )
                .await
            {
                Ok(batch) => batch,
                Err(e @ BackendError::GaveUp { .. }) => {
                    self.scan.borrow_mut().incomplete = Some(e.to_string());
                    self.done.set(true);
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            if wait > 0 {
                self.polls.answered(batch.is_empty(), self.done);
            }
            fed = !batch.is_empty();
            let mut scan = self.scan.borrow_mut();
            for message in batch {
                if !self.held.hold(&message) {
                    continue;
                }
                scan.seen += 1;
                self.progress.advance(1);
                let scanned = Scanned::new(message);
                if self.filters.matches(&scanned.message, &scanned.record)
                    && self.filters.limit.is_none_or(|l| scan.matching.len() < l)
                {
                    scan.matching.push(scanned);
                }
            }
        }
    }
}
