//! `tracing` events as the contract's `LogRecord` lines.
//!
//! Handlers log with ordinary `tracing` macros; span fields (the invocation's correlation id,
//! event id, ...) are merged into every event inside the span, the event's own fields win.
//! Known field names map onto `LogRecord` fields; empty values count as absent.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::sync::Arc;

use ecomm_events::{LogLevel, LogRecord, Outcome};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

use crate::ports::{Clock, SystemClock};

/// Where finished log records go.
pub trait LogSink: Send + Sync + 'static {
    /// Write one record.
    fn write(&self, record: &LogRecord);
}

/// One JSON line per record on stdout, which Lambda ships to CloudWatch Logs.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdoutSink;

impl LogSink for StdoutSink {
    fn write(&self, record: &LogRecord) {
        let mut out = std::io::stdout().lock();
        // A closed stdout cannot be reported anywhere else; the invocation goes on.
        let _ = writeln!(out, "{}", record.to_json_line());
    }
}

/// The layer that turns events into records.
pub struct LogRecordLayer<K> {
    service: String,
    sink: K,
    clock: Arc<dyn Clock>,
    max_level: Level,
}

impl<K: LogSink> LogRecordLayer<K> {
    /// Records for `service` (a `service` field on a span or event overrides it), to `sink`.
    pub fn new(service: &str, sink: K) -> Self {
        Self {
            service: service.to_owned(),
            sink,
            clock: Arc::new(SystemClock),
            max_level: Level::INFO,
        }
    }

    /// Stamp records with this clock instead of the wall clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Keep events up to this verbosity (default `INFO`).
    #[must_use]
    pub fn with_max_level(mut self, level: Level) -> Self {
        self.max_level = level;
        self
    }
}

/// Install the stdout layer as the global subscriber, as a Lambda's `main` does. `LOG_LEVEL=debug`
/// raises the verbosity.
pub fn init(service: &str) {
    let level = match std::env::var("LOG_LEVEL")
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Ok("debug" | "trace") => Level::DEBUG,
        _ => Level::INFO,
    };
    let layer = LogRecordLayer::new(service, StdoutSink).with_max_level(level);
    let subscriber = tracing_subscriber::registry().with(layer);
    // Only fails if a subscriber is already installed, which then keeps logging.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

#[derive(Default, Clone)]
struct Fields(BTreeMap<&'static str, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), value.to_owned());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name(), value.to_string());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name(), value.to_string());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name(), value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
}

fn level(level: Level) -> LogLevel {
    match level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        _ => LogLevel::Debug,
    }
}

fn outcome(text: &str) -> Option<Outcome> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

impl<S, K> Layer<S> for LogRecordLayer<K>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    K: LogSink,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if *event.metadata().level() > self.max_level {
            return;
        }
        let mut merged = BTreeMap::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<Fields>() {
                    merged.extend(fields.0.clone());
                }
            }
        }
        let mut own = Fields::default();
        event.record(&mut own);
        merged.extend(own.0);
        merged.retain(|_, v| !v.is_empty());

        let mut take = |name: &str| merged.remove(name);
        let service = take("service").unwrap_or_else(|| self.service.clone());
        let message = take("message").unwrap_or_default();
        let mut record = LogRecord::new(
            self.clock.now(),
            level(*event.metadata().level()),
            &service,
            &message,
        );
        record.correlation_id = take("correlation_id");
        record.order_id = take("order_id");
        record.event_id = take("event_id");
        record.bus_event_id = take("bus_event_id");
        record.causation_id = take("causation_id");
        record.detail_type = take("detail_type");
        record.outcome = take("outcome").as_deref().and_then(outcome);
        record.attempt = take("attempt").and_then(|a| a.parse().ok());
        record.duration_ms = take("duration_ms").and_then(|d| d.parse().ok());
        record.error = take("error");
        self.sink.write(&record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<LogRecord>>>);

    impl LogSink for Captured {
        fn write(&self, record: &LogRecord) {
            self.0.lock().unwrap().push(record.clone());
        }
    }

    #[test]
    fn span_fields_reach_every_event_and_event_fields_win() {
        let captured = Captured::default();
        let subscriber =
            tracing_subscriber::registry().with(LogRecordLayer::new("inventory", captured.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                "invocation",
                correlation_id = "c-1",
                event_id = "e-1",
                causation_id = ""
            );
            let _guard = span.enter();
            tracing::info!("invocation started");
            tracing::info!(
                outcome = "published",
                event_id = "e-2",
                causation_id = "e-1",
                "published InventoryReserved"
            );
            tracing::error!(
                outcome = "failed",
                duration_ms = 12_u64,
                error = "boom",
                "invocation failed"
            );
            tracing::debug!("not kept at INFO");
        });
        let records = captured.0.lock().unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].service, "inventory");
        assert_eq!(records[0].correlation_id.as_deref(), Some("c-1"));
        assert_eq!(records[0].event_id.as_deref(), Some("e-1"));
        assert_eq!(records[0].causation_id, None, "empty values are absent");
        assert_eq!(records[0].outcome, None);
        assert_eq!(records[1].event_id.as_deref(), Some("e-2"));
        assert_eq!(records[1].causation_id.as_deref(), Some("e-1"));
        assert_eq!(records[1].outcome, Some(Outcome::Published));
        assert_eq!(records[2].level, LogLevel::Error);
        assert_eq!(records[2].duration_ms, Some(12));
        assert_eq!(records[2].error.as_deref(), Some("boom"));
        assert_eq!(records[2].message, "invocation failed");
    }
}
