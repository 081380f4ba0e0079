//! Which DLQ messages a command acts on.

use chrono::{DateTime, Duration, Utc};
use ecomm_events::{DlqKind, DlqRecord};

use crate::backend::Message;
use crate::cli::Filters;

/// Parse `--since`/`--until`: a duration ago (`90s`, `30m`, `2h`, `7d`) or an RFC 3339 time.
pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let ago = duration(text).map_err(|e| match e {
        DurationError::NotANumber => {
            format!("{text:?} is neither a duration (30m, 2h, 7d) nor an RFC 3339 time")
        }
        DurationError::NoUnit => format!(
            "{text:?} has no unit: write {text}s, {text}m, {text}h or {text}d (seconds, minutes, hours, days ago), or an RFC 3339 time"
        ),
        DurationError::UnknownUnit(unit) => {
            format!("{text:?}: unknown unit {unit:?} (use s, m, h or d)")
        }
    })?;
    Ok(Utc::now() - ago)
}

/// Parse a span such as `--give-up-after`: `90s`, `5m`, `1h`, above zero.
pub(crate) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let span = duration(text).map_err(|e| match e {
        DurationError::NotANumber => format!("{text:?} is not a duration (90s, 5m, 1h)"),
        DurationError::NoUnit => {
            format!("{text:?} has no unit: write {text}s, {text}m or {text}h")
        }
        DurationError::UnknownUnit(unit) => {
            format!("{text:?}: unknown unit {unit:?} (use s, m, h or d)")
        }
    })?;
    match span.to_std() {
        Ok(span) if !span.is_zero() => Ok(span),
        _ => Err(format!("{text:?}: the duration must be above zero")),
    }
}

enum DurationError {
    NotANumber,
    NoUnit,
    UnknownUnit(String),
}

fn duration(text: &str) -> Result<Duration, DurationError> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let amount: i64 = number.parse().map_err(|_| DurationError::NotANumber)?;
    match unit {
        "" => Err(DurationError::NoUnit),
        "s" => Ok(Duration::seconds(amount)),
        "m" => Ok(Duration::minutes(amount)),
        "h" => Ok(Duration::hours(amount)),
        "d" => Ok(Duration::days(amount)),
        _ => Err(DurationError::UnknownUnit(unit.to_owned())),
    }
}

/// Parse `--rate`: deliveries per second, a finite number above zero.
pub(crate) fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        Ok(_) => Err(format!(
            "{text:?}: the rate must be above 0 deliveries per second (omit --rate for no limit)"
        )),
        Err(_) => Err(format!("{text:?} is not a number of deliveries per second")),
    }
}

impl Filters {
    /// Whether any filter narrows the selection (besides `--limit`).
    pub(crate) fn narrows(&self) -> bool {
        self.correlation_id.is_some()
            || self.order_id.is_some()
            || self.error_code.is_some()
            || self.detail_type.is_some()
            || self.since.is_some()
            || self.until.is_some()
            || !self.message_id.is_empty()
    }

    /// Whether `--message-id` names this message.
    pub(crate) fn names(&self, message: &Message) -> bool {
        self.message_id.contains(&message.message_id)
    }

    /// Whether a message matches every filter given.
    pub(crate) fn matches(&self, message: &Message, record: &DlqRecord) -> bool {
        let eq = |wanted: &Option<String>, found: Option<&str>| {
            wanted.as_deref().is_none_or(|w| Some(w) == found)
        };
        let summary = &record.summary;
        eq(&self.correlation_id, summary.correlation_id.as_deref())
            && eq(&self.order_id, summary.order_id.as_deref())
            && eq(&self.detail_type, summary.detail_type.as_deref())
            && self.error_code.as_deref().is_none_or(|w| {
                record
                    .error_code()
                    .is_some_and(|c| c.eq_ignore_ascii_case(w))
            })
            && self
                .since
                .is_none_or(|since| message.sent.is_some_and(|sent| sent >= since))
            && self
                .until
                .is_none_or(|until| message.sent.is_some_and(|sent| sent < until))
            && (self.message_id.is_empty() || self.names(message))
    }
}

/// Whether a record can be replayed: it carries an original event. A message in no known
/// format only when the user named it.
pub(crate) fn replayable(
    filters: &Filters,
    message: &Message,
    record: &DlqRecord,
) -> Result<(), &'static str> {
    if record.kind() == DlqKind::Unknown && !filters.names(message) {
        return Err(
            "not in a known DLQ format; name it with --message-id to replay its body as is",
        );
    }
    if record.event.is_none() && record.kind() != DlqKind::Unknown {
        return Err("the body holds no readable event");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times_parse_and_nonsense_is_explained() {
        let two_hours = parse_time("2h").unwrap();
        assert!(
            (Utc::now() - two_hours - Duration::hours(2))
                .num_seconds()
                .abs()
                < 5
        );
        assert_eq!(
            parse_time("2026-11-25T10:00:00Z").unwrap().to_rfc3339(),
            "2026-11-25T10:00:00+00:00"
        );
        assert!(
            parse_time("yesterday")
                .unwrap_err()
                .contains("neither a duration")
        );
        assert!(parse_time("5w").unwrap_err().contains("unknown unit"));
        let bare = parse_time("2").unwrap_err();
        assert!(
            bare.contains("has no unit") && bare.contains("2h"),
            "{bare}"
        );
    }
}
