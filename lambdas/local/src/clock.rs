//! Simulated time and seeded ids: the local stack replays minutes of retries in milliseconds,
//! stamping everything with the times it would have had, and a seed makes a run repeatable.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use ecomm_ports::{Clock, IdGenerator};
use rand::SeedableRng as _;
use rand_chacha::ChaCha8Rng;

/// A clock the engine moves forward as it processes scheduled work.
#[derive(Debug)]
pub struct SimClock(Mutex<DateTime<Utc>>);

impl SimClock {
    /// Stopped at `at`.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    /// Move to `at` (never backwards: work scheduled in the past runs "now").
    pub fn advance_to(&self, at: DateTime<Utc>) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if at > *now {
            *now = at;
        }
    }
}

impl Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// UUIDs (v4 layout) from a seeded generator.
#[derive(Debug)]
pub struct SeededIds(Mutex<ChaCha8Rng>);

impl SeededIds {
    /// The sequence of `seed`.
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(ChaCha8Rng::seed_from_u64(seed)))
    }

    /// Run `f` with the generator (for the demo's own random choices).
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut ChaCha8Rng) -> T) -> T {
        f(&mut self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl IdGenerator for SeededIds {
    fn uuid(&self) -> String {
        let bytes: [u8; 16] = self.with_rng(rand::RngExt::random);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}

/// Epoch milliseconds.
pub fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// From epoch milliseconds.
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
