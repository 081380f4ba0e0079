//! Patience with AWS: a [`Backend`] over another that keeps going through the weather AWS
//! makes at scale.
//!
//! - A call that fails transiently (throttling, a 5xx, an answer lost on the way) is sent again
//!   after a backoff with full jitter, growing from [`Patience::first_backoff`] to
//!   [`Patience::max_backoff`].
//! - Throttling halves how many calls may be in flight at once; every success widens it again
//!   by one call per window (AIMD), back to unbounded.
//! - The entries of a batch call that failed retryably (SQS's `SenderFault: false`, a
//!   `PutEvents` entry failed with `InternalFailure` or `ThrottlingException`) are sent again,
//!   alone, up to [`Patience::entry_attempts`] times; an entry counts as failed only after that.
//!   Entries that cannot succeed fail at once, with their code.
//! - A call gives up only when no call at all has succeeded for [`Patience::give_up_after`]:
//!   it then answers [`BackendError::GaveUp`]. Every call after it is tried once and answers
//!   the same if that fails, so that a command ends once, with what it did, and still releases
//!   what it holds where AWS lets it.
//!
//! The commands see none of this but [`Backend::weather`], which a progress bar shows.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::targets::TargetKind;
use super::{
    Attributes, Backend, BackendError, Consumer, DirectEntry, EntryError, EntryOutcome, LogRequest,
    LogSearch, Message, QueueRef, QueueStats,
};

/// How patient to be.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Patience {
    /// Give up when no call has succeeded for this long.
    pub(crate) give_up_after: Duration,
    /// How many times one entry of a batch is sent, at most.
    pub(crate) entry_attempts: u32,
    /// The first backoff (then doubled, with full jitter).
    pub(crate) first_backoff: Duration,
    /// The longest backoff.
    pub(crate) max_backoff: Duration,
}

impl Patience {
    /// The defaults, giving up after `give_up_after`.
    pub(crate) fn new(give_up_after: Duration) -> Self {
        Self {
            give_up_after,
            entry_attempts: 8,
            first_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(10),
        }
    }

    /// The backoff before try `attempt + 1`: uniform in [0, min(max, first · 2^attempt)].
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .first_backoff
            .saturating_mul(1 << attempt.min(16))
            .min(self.max_backoff);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=millis))
    }
}

/// Above this many calls at once the window is unbounded again.
const OPEN_WINDOW: f64 = 256.0;

/// The shared pace of every call: the AIMD window, and when a call last succeeded.
#[derive(Debug)]
struct Pace {
    /// How many calls may be in flight; infinite until the first throttle.
    window: Cell<f64>,
    in_flight: Cell<usize>,
    widened: Notify,
    last_success: Cell<Instant>,
    last_cut: Cell<Option<Instant>>,
    /// Calls sleeping before their next try.
    backing_off: Cell<usize>,
    /// The last transient failure, for the progress bar.
    trouble: RefCell<Option<String>>,
    /// Set once the patience ran out: every later call gives up at once.
    gave_up: RefCell<Option<BackendError>>,
}

/// A call's place in the window; dropping it frees the place.
struct Slot<'p>(&'p Pace);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.in_flight.set(self.0.in_flight.get() - 1);
        self.0.widened.notify_waiters();
    }
}

impl Pace {
    fn new() -> Self {
        Self {
            window: Cell::new(f64::INFINITY),
            in_flight: Cell::new(0),
            widened: Notify::new(),
            last_success: Cell::new(Instant::now()),
            last_cut: Cell::new(None),
            backing_off: Cell::new(0),
            trouble: RefCell::new(None),
            gave_up: RefCell::new(None),
        }
    }

    #[allow(
        clippy::cast_precision_loss,
        reason = "counts of calls in flight, far below 2^52"
    )]
    async fn slot(&self) -> Slot<'_> {
        loop {
            // Created before the check, so that a release in between is not missed.
            let widened = self.widened.notified();
            if (self.in_flight.get() as f64) < self.window.get().max(1.0) {
                self.in_flight.set(self.in_flight.get() + 1);
                return Slot(self);
            }
            widened.await;
        }
    }

    fn succeeded(&self) {
        self.last_success.set(Instant::now());
        let window = self.window.get();
        if window.is_finite() {
            let wider = window + 1.0 / window;
            self.window.set(if wider >= OPEN_WINDOW {
                f64::INFINITY
            } else {
                wider
            });
            self.widened.notify_waiters();
        }
        if self.backing_off.get() == 0 {
            self.trouble.borrow_mut().take();
        }
    }

    /// AWS asked to slow down: halve the window, once per burst of throttles.
    #[allow(
        clippy::cast_precision_loss,
        reason = "counts of calls in flight, far below 2^52"
    )]
    fn throttled(&self) {
        let now = Instant::now();
        if self
            .last_cut
            .get()
            .is_some_and(|cut| now - cut < Duration::from_millis(500))
        {
            return;
        }
        self.last_cut.set(Some(now));
        let current = self.window.get().min(self.in_flight.get() as f64 + 1.0);
        self.window.set((current / 2.0).max(1.0));
    }

    fn stalled_for(&self) -> Duration {
        Instant::now() - self.last_success.get()
    }
}

/// A [`Backend`] that retries what AWS says to retry; see the module docs.
pub(crate) struct Patient<'a> {
    inner: &'a dyn Backend,
    patience: Patience,
    pace: Pace,
    lost_receives: Cell<usize>,
}

impl<'a> Patient<'a> {
    /// Patience over `inner`.
    pub(crate) fn new(inner: &'a dyn Backend, patience: Patience) -> Self {
        Self {
            inner,
            patience,
            pace: Pace::new(),
            lost_receives: Cell::new(0),
        }
    }

    /// Record a transient failure; the error to end with when patience ran out.
    fn weathered(&self, error: &str, throttled: bool) -> Option<BackendError> {
        if throttled {
            self.pace.throttled();
        }
        *self.pace.trouble.borrow_mut() = Some(error.to_owned());
        let waited = self.pace.stalled_for();
        if waited < self.patience.give_up_after {
            return None;
        }
        let gave_up = BackendError::GaveUp {
            waited,
            last: error.to_owned(),
        };
        *self.pace.gave_up.borrow_mut() = Some(gave_up.clone());
        Some(gave_up)
    }

    async fn back_off(&self, attempt: u32) {
        self.pace.backing_off.set(self.pace.backing_off.get() + 1);
        let left = self
            .patience
            .give_up_after
            .saturating_sub(self.pace.stalled_for());
        // Wake in time to give up on schedule rather than a backoff late.
        let pause = self
            .patience
            .backoff(attempt)
            .min(left + Duration::from_millis(1));
        tokio::time::sleep(pause).await;
        self.pace.backing_off.set(self.pace.backing_off.get() - 1);
    }

    /// One call, sent again while it fails transiently.
    async fn call<T>(
        &self,
        send: impl AsyncFn() -> Result<T, BackendError>,
    ) -> Result<T, BackendError> {
        self.call_judged(send, |_| true).await
    }

    /// The same, where `progressed` says whether an answer moved anything forward (a batch
    /// whose every entry was throttled did not).
    async fn call_judged<T>(
        &self,
        send: impl AsyncFn() -> Result<T, BackendError>,
        progressed: impl Fn(&T) -> bool,
    ) -> Result<T, BackendError> {
        let mut attempt = 0;
        loop {
            // Once patience ran out, each call is still tried once (the release of what a
            // command holds must get its chance), but no longer waited out.
            let gave_up = self.pace.gave_up.borrow().clone();
            let result = {
                let _slot = self.pace.slot().await;
                send().await
            };
            match result {
                Ok(answer) => {
                    if progressed(&answer) {
                        self.pace.succeeded();
                    }
                    return Ok(answer);
                }
                Err(error) if error.is_transient() => {
                    if let Some(gave_up) = gave_up {
                        return Err(gave_up);
                    }
                    if let Some(gave_up) = self.weathered(&error.to_string(), error.is_throttling())
                    {
                        return Err(gave_up);
                    }
                    self.back_off(attempt).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// A batch call: the whole call retried as [`Self::call`], then its retryable entries
    /// alone, until each has an outcome that sending again cannot change. Throttled entries
    /// are sent again until patience runs out; other retryable ones up to
    /// [`Patience::entry_attempts`] times.
    async fn batch<T: Clone>(
        &self,
        items: &[T],
        send: impl AsyncFn(&[T]) -> Result<Vec<EntryOutcome>, BackendError>,
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        let any_ok = |answers: &Vec<EntryOutcome>| answers.iter().any(Result::is_ok);
        let mut outcomes: Vec<Option<EntryOutcome>> = vec![None; items.len()];
        let mut pending: Vec<usize> = (0..items.len()).collect();
        let mut attempt: u32 = 1;
        loop {
            let answer = if pending.len() == items.len() {
                self.call_judged(async || send(items).await, any_ok).await
            } else {
                let again: Vec<T> = pending.iter().map(|&i| items[i].clone()).collect();
                self.call_judged(async || send(&again).await, any_ok).await
            };
            let answers = match answer {
                Ok(answers) => answers,
                // Nothing was sent yet: the caller decides.
                Err(error) if attempt == 1 => return Err(error),
                // Some entries have their outcome already: keep them, fail the rest.
                Err(error) => {
                    for i in pending {
                        outcomes[i] = Some(Err(EntryError::permanent(error.to_string())));
                    }
                    break;
                }
            };
            let mut again = Vec::new();
            let mut throttled = None;
            for (i, outcome) in pending.iter().copied().zip(answers) {
                match outcome {
                    Err(error)
                        if error.throttled
                            || (error.retryable && attempt < self.patience.entry_attempts) =>
                    {
                        if error.throttled {
                            throttled = Some(error.message.clone());
                        }
                        outcomes[i] = Some(Err(error));
                        again.push(i);
                    }
                    outcome => outcomes[i] = Some(outcome),
                }
            }
            if again.is_empty() {
                break;
            }
            if let Some(message) = throttled
                && let Some(gave_up) = self.weathered(&message, true)
            {
                for i in again {
                    outcomes[i] = Some(Err(EntryError::permanent(gave_up.to_string())));
                }
                break;
            }
            self.back_off(attempt - 1).await;
            pending = again;
            attempt += 1;
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(EntryError::permanent("never sent"))))
            .collect())
    }
}

#[async_trait(?Send)]
impl Backend for Patient<'_> {
    fn banner(&self) -> String {
        self.inner.banner()
    }

    async fn consumers(&self) -> Result<Vec<Consumer>, BackendError> {
        self.call(async || self.inner.consumers().await).await
    }

    async fn queue_stats(&self, queue: &QueueRef) -> Result<QueueStats, BackendError> {
        self.call(async || self.inner.queue_stats(queue).await)
            .await
    }

    async fn oldest_sent(&self, queue: &QueueRef) -> Option<DateTime<Utc>> {
        self.inner.oldest_sent(queue).await
    }

    async fn receive(
        &self,
        queue: &QueueRef,
        max: u8,
        visibility_s: u32,
        wait_s: u8,
        attributes: Attributes,
    ) -> Result<Vec<Message>, BackendError> {
        self.call(async || {
            let answer = self
                .inner
                .receive(queue, max, visibility_s, wait_s, attributes)
                .await;
            // Throttling is refused before anything happens; a 5xx or a lost answer may not be.
            if matches!(answer, Err(BackendError::Unavailable(_))) {
                self.lost_receives.set(self.lost_receives.get() + 1);
            }
            answer
        })
        .await
    }

    async fn delete(
        &self,
        queue: &QueueRef,
        receipts: &[String],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        self.batch(receipts, async |r: &[String]| {
            self.inner.delete(queue, r).await
        })
        .await
    }

    async fn change_visibility(
        &self,
        queue: &QueueRef,
        receipts: &[String],
        seconds: u32,
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        self.batch(receipts, async |r: &[String]| {
            self.inner.change_visibility(queue, r, seconds).await
        })
        .await
    }

    async fn purge(&self, queue: &QueueRef) -> Result<(), BackendError> {
        self.call(async || self.inner.purge(queue).await).await
    }

    async fn invoke_async(&self, function: &str, payload: &str) -> Result<(), BackendError> {
        self.call(async || self.inner.invoke_async(function, payload).await)
            .await
    }

    async fn send_to_target(
        &self,
        target: &TargetKind,
        entries: &[DirectEntry],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        self.batch(entries, async |e: &[DirectEntry]| {
            self.inner.send_to_target(target, e).await
        })
        .await
    }

    async fn put_events(
        &self,
        envelopes: &[&serde_json::Value],
    ) -> Result<Vec<EntryOutcome>, BackendError> {
        self.batch(envelopes, async |e: &[&serde_json::Value]| {
            self.inner.put_events(e).await
        })
        .await
    }

    fn log_groups(&self, consumers: &[Consumer]) -> Vec<String> {
        self.inner.log_groups(consumers)
    }

    fn bus_log_groups(&self) -> Vec<String> {
        self.inner.bus_log_groups()
    }

    async fn live_tail(
        &self,
        groups: &[String],
        term: &str,
    ) -> Result<Box<dyn super::LiveTail + '_>, BackendError> {
        self.inner.live_tail(groups, term).await
    }

    async fn search_logs(&self, request: &LogRequest<'_>) -> Result<LogSearch, BackendError> {
        self.call(async || self.inner.search_logs(request).await)
            .await
    }

    async fn settle(&self) -> Result<(), BackendError> {
        self.inner.settle().await
    }

    fn lost_receives(&self) -> usize {
        self.lost_receives.get()
    }

    fn weather(&self) -> Option<String> {
        let trouble = self.pace.trouble.borrow();
        let trouble = trouble.as_deref()?;
        let first_line = trouble.lines().next().unwrap_or(trouble);
        let window = self.pace.window.get();
        let pace = if window.is_finite() {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a window of 1 to 256 calls"
            )]
            let calls = window.floor() as usize;
            format!(", {calls} call(s) at a time")
        } else {
            String::new()
        };
        Some(format!("backing off{pace}: {first_line}"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// What the fake answers to one call.
    #[derive(Debug, Clone)]
    enum Answer {
        /// The whole call fails with this error.
        Fail(BackendError),
        /// The call succeeds; these entries (by position in the call) fail, the rest succeed.
        Entries(Vec<(usize, EntryError)>),
    }

    /// A backend that answers on a script, and records what each call sent.
    #[derive(Default)]
    struct Scripted {
        script: RefCell<VecDeque<Answer>>,
        /// Once the script is over, throttle every call (else succeed).
        then_throttle: bool,
        /// What each batch call sent.
        sent: RefCell<Vec<Vec<String>>>,
        in_flight: Cell<usize>,
        most_in_flight: Cell<usize>,
    }

    fn throttled() -> BackendError {
        BackendError::Throttled("ThrottlingException: Rate exceeded".to_owned())
    }

    fn entry(message: &str, retryable: bool, throttled: bool) -> EntryError {
        EntryError {
            message: message.to_owned(),
            retryable,
            throttled,
        }
    }

    impl Scripted {
        fn with(script: impl IntoIterator<Item = Answer>) -> Self {
            Self {
                script: RefCell::new(script.into_iter().collect()),
                ..Self::default()
            }
        }

        fn next(&self) -> Answer {
            self.script.borrow_mut().pop_front().unwrap_or_else(|| {
                if self.then_throttle {
                    Answer::Fail(throttled())
                } else {
                    Answer::Entries(Vec::new())
                }
            })
        }

        async fn answer(&self, items: &[String]) -> Result<Vec<EntryOutcome>, BackendError> {
            self.sent.borrow_mut().push(items.to_vec());
            self.in_flight.set(self.in_flight.get() + 1);
            self.most_in_flight
                .set(self.most_in_flight.get().max(self.in_flight.get()));
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.in_flight.set(self.in_flight.get() - 1);
            match self.next() {
                Answer::Fail(error) => Err(error),
                Answer::Entries(failed) => Ok((0..items.len())
                    .map(|i| {
                        failed
                            .iter()
                            .find(|(at, _)| *at == i)
                            .map_or(Ok(()), |(_, e)| Err(e.clone()))
                    })
                    .collect()),
            }
        }
    }

    fn queue() -> QueueRef {
        QueueRef {
            name: "q".to_owned(),
            arn: "arn:aws:sqs:us-east-1:123456789012:q".to_owned(),
            url: "q".to_owned(),
            records: None,
        }
    }

    #[async_trait(?Send)]
    impl Backend for Scripted {
        fn banner(&self) -> String {
            "scripted".to_owned()
        }
        async fn consumers(&self) -> Result<Vec<Consumer>, BackendError> {
            unreachable!("these tests do not discover")
        }
        async fn queue_stats(&self, _queue: &QueueRef) -> Result<QueueStats, BackendError> {
            self.answer(&[]).await.map(|_| QueueStats {
                visible: 1,
                in_flight: 0,
                oldest_sent: None,
                records: None,
            })
        }
        async fn receive(
            &self,
            _queue: &QueueRef,
            _max: u8,
            _visibility_s: u32,
            _wait_s: u8,
            _attributes: Attributes,
        ) -> Result<Vec<Message>, BackendError> {
            self.answer(&[]).await.map(|_| Vec::new())
        }
        async fn delete(
            &self,
            _queue: &QueueRef,
            receipts: &[String],
        ) -> Result<Vec<EntryOutcome>, BackendError> {
            self.answer(receipts).await
        }
        async fn change_visibility(
            &self,
            _queue: &QueueRef,
            receipts: &[String],
            _seconds: u32,
        ) -> Result<Vec<EntryOutcome>, BackendError> {
            self.answer(receipts).await
        }
        async fn purge(&self, _queue: &QueueRef) -> Result<(), BackendError> {
            unreachable!("these tests do not purge")
        }
        async fn invoke_async(&self, _function: &str, _payload: &str) -> Result<(), BackendError> {
            self.answer(&[]).await.map(drop)
        }
        async fn send_to_target(
            &self,
            _target: &TargetKind,
            entries: &[DirectEntry],
        ) -> Result<Vec<EntryOutcome>, BackendError> {
            let ids: Vec<String> = entries.iter().map(|e| e.event_id.clone()).collect();
            self.answer(&ids).await
        }

        async fn put_events(
            &self,
            envelopes: &[&serde_json::Value],
        ) -> Result<Vec<EntryOutcome>, BackendError> {
            let ids: Vec<String> = envelopes.iter().map(|e| e["id"].to_string()).collect();
            self.answer(&ids).await
        }
        async fn search_logs(&self, _request: &LogRequest<'_>) -> Result<LogSearch, BackendError> {
            unreachable!("these tests do not search logs")
        }
    }

    fn receipts(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("r{i}")).collect()
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn throttling_and_server_errors_are_waited_out_and_the_call_succeeds() {
        let fake = Scripted::with([
            Answer::Fail(throttled()),
            Answer::Fail(BackendError::Unavailable("InternalError: 500".to_owned())),
            Answer::Fail(throttled()),
        ]);
        let patient = Patient::new(&fake, Patience::new(Duration::from_mins(1)));
        let queue = queue();
        let call = patient.queue_stats(&queue);
        futures::pin_mut!(call);
        // While it backs off, the weather says so (for the progress bar).
        tokio::select! {
            _ = &mut call => panic!("three failures take longer than 30 ms"),
            () = tokio::time::sleep(Duration::from_millis(30)) => {}
        }
        let weather = patient.weather().expect("backing off");
        assert!(
            weather.starts_with("backing off, 1 call(s) at a time: throttled by AWS"),
            "{weather}"
        );
        let stats = call.await.unwrap();
        assert_eq!(stats.visible, 1);
        assert_eq!(
            fake.sent.borrow().len(),
            4,
            "three failures, then the answer"
        );
        assert_eq!(
            patient.weather(),
            None,
            "fair weather once a call succeeded"
        );
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn errors_that_a_retry_cannot_fix_fail_at_once() {
        let fake = Scripted::with([Answer::Fail(BackendError::AccessDenied(
            "AccessDenied".to_owned(),
        ))]);
        let patient = Patient::new(&fake, Patience::new(Duration::from_mins(1)));
        let error = patient.queue_stats(&queue()).await.unwrap_err();
        assert!(matches!(error, BackendError::AccessDenied(_)), "{error}");
        assert_eq!(fake.sent.borrow().len(), 1);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn retryable_entries_are_sent_again_alone_and_permanent_ones_fail_with_their_code() {
        let fake = Scripted::with([
            Answer::Entries(vec![
                (1, entry("InternalError: try again", true, false)),
                (2, entry("ReceiptHandleIsInvalid: gone", false, false)),
                (3, entry("ThrottlingException: slow down", true, true)),
            ]),
            // The second send holds r1 and r3; r3 is throttled again.
            Answer::Entries(vec![(
                1,
                entry("ThrottlingException: slow down", true, true),
            )]),
        ]);
        let patient = Patient::new(&fake, Patience::new(Duration::from_mins(1)));
        let outcomes = patient.delete(&queue(), &receipts(4)).await.unwrap();
        assert_eq!(
            *fake.sent.borrow(),
            [
                receipts(4),
                vec!["r1".into(), "r3".into()],
                vec!["r3".into()]
            ]
        );
        assert!(outcomes[0].is_ok() && outcomes[1].is_ok() && outcomes[3].is_ok());
        assert_eq!(
            outcomes[2].as_ref().unwrap_err().message,
            "ReceiptHandleIsInvalid: gone"
        );
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn an_entry_that_keeps_failing_on_the_services_side_fails_after_the_bounded_attempts() {
        let failing = || Answer::Entries(vec![(0, entry("InternalFailure: boom", true, false))]);
        let fake = Scripted::with(std::iter::repeat_with(failing).take(20));
        let patience = Patience::new(Duration::from_mins(10));
        let patient = Patient::new(&fake, patience);
        let outcomes = patient
            .put_events(&[&serde_json::json!({"id": "e0"})])
            .await
            .unwrap();
        assert_eq!(
            fake.sent.borrow().len(),
            patience.entry_attempts as usize,
            "sent exactly entry_attempts times"
        );
        let error = outcomes[0].as_ref().unwrap_err();
        assert_eq!(error.message, "InternalFailure: boom");
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_whole_call_that_fails_after_some_entries_succeeded_keeps_their_outcomes() {
        let fake = Scripted::with([
            Answer::Entries(vec![(1, entry("InternalError: again", true, false))]),
            Answer::Fail(BackendError::Other("QueueDoesNotExist".to_owned())),
        ]);
        let patient = Patient::new(&fake, Patience::new(Duration::from_mins(1)));
        let outcomes = patient.delete(&queue(), &receipts(2)).await.unwrap();
        assert!(outcomes[0].is_ok(), "r0 was deleted by the first call");
        assert_eq!(
            outcomes[1].as_ref().unwrap_err().message,
            "QueueDoesNotExist"
        );
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn without_progress_for_give_up_after_every_call_gives_up_and_says_why() {
        let fake = Scripted {
            then_throttle: true,
            ..Scripted::default()
        };
        let patient = Patient::new(&fake, Patience::new(Duration::from_secs(30)));
        let started = Instant::now();
        let error = patient.queue_stats(&queue()).await.unwrap_err();
        let waited = Instant::now() - started;
        assert!(
            (Duration::from_secs(30)..Duration::from_secs(31)).contains(&waited),
            "gave up on schedule: {waited:?}"
        );
        let BackendError::GaveUp { last, .. } = &error else {
            panic!("{error}")
        };
        assert_eq!(last, &throttled().to_string());
        assert!(
            error
                .to_string()
                .starts_with("gave up after 30s without progress: throttled by AWS"),
            "{error}"
        );
        let sent = fake.sent.borrow().len();
        let later = patient
            .receive(&queue(), 10, 30, 0, Attributes::All)
            .await
            .unwrap_err();
        assert!(matches!(later, BackendError::GaveUp { .. }), "{later}");
        assert_eq!(
            fake.sent.borrow().len(),
            sent + 1,
            "a later call is tried once, not waited out"
        );
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn entries_throttled_until_patience_runs_out_fail_with_the_reason() {
        let throttled_entry = || {
            Answer::Entries(vec![(
                0,
                entry("ThrottlingException: slow down", true, true),
            )])
        };
        let fake = Scripted::with(std::iter::repeat_with(throttled_entry).take(10_000));
        let patient = Patient::new(&fake, Patience::new(Duration::from_secs(20)));
        let outcomes = patient.delete(&queue(), &receipts(1)).await.unwrap();
        let error = outcomes[0].as_ref().unwrap_err();
        assert!(error.message.starts_with("gave up after 20s"), "{error}");
        assert!(
            fake.sent.borrow().len() > patient.patience.entry_attempts as usize,
            "throttled entries are not bounded by the attempt count"
        );
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn throttling_narrows_how_many_calls_run_at_once_and_success_widens_it_again() {
        let fake = Scripted::with(std::iter::repeat_with(|| Answer::Fail(throttled())).take(16));
        let patient = Patient::new(&fake, Patience::new(Duration::from_mins(10)));
        let calls = (0..16).map(|_| patient.invoke_async("f", "{}"));
        let answers = futures::future::join_all(calls).await;
        assert!(answers.iter().all(Result::is_ok));
        assert_eq!(fake.most_in_flight.get(), 16, "all at once in fair weather");
        let window = patient.pace.window.get();
        assert!(window < 16.0, "throttling narrowed the window: {window}");

        // Under the narrowed window, calls queue rather than pile onto the service.
        fake.most_in_flight.set(0);
        let calls = (0..16).map(|_| patient.invoke_async("f", "{}"));
        futures::future::join_all(calls).await;
        assert!(
            f64::from(u32::try_from(fake.most_in_flight.get()).unwrap()) <= window.ceil() + 1.0,
            "at most the window at once: {} > {window}",
            fake.most_in_flight.get()
        );
        assert!(patient.pace.window.get() > window, "successes widen it");
    }
}
