//! What the bus itself logged of one event's delivery to one target (its `LogConfig` records):
//! shown under a trace's invocations and a DLQ message's row.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// How one delivery attempt ended, per the bus's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AttemptResult {
    /// The target took the event.
    Delivered,
    /// The target, or EventBridge, throttled the attempt.
    Throttled,
    /// It failed; a retry may fix it.
    Failed,
    /// It failed; no retry fixes it.
    Refused,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeliveryAttempt {
    /// From 1.
    pub(crate) attempt: Option<u32>,
    /// When.
    pub(crate) at: DateTime<Utc>,
    /// How it ended.
    pub(crate) result: AttemptResult,
    /// Why it failed, in the DLQ's words where they fit (`THROTTLING`, `NO_PERMISSIONS`, …).
    pub(crate) error: Option<String>,
    /// The called service's message.
    pub(crate) message: Option<String>,
}

/// How the delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum DeliveryEnd {
    /// The target took the event.
    Delivered,
    /// EventBridge gave up and sent the event to the target's DLQ.
    SentToDlq,
    /// EventBridge gave up, and no DLQ took the event: it is lost.
    Failed,
}

/// Everything the bus logged of one event's delivery to one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Delivery {
    /// The rule that matched.
    pub(crate) rule: Option<String>,
    /// Every attempt, in order.
    pub(crate) attempts: Vec<DeliveryAttempt>,
    /// How it ended; none while EventBridge is still retrying (or its record is not in yet).
    pub(crate) ended: Option<DeliveryEnd>,
}

impl Delivery {
    /// Whether anything went wrong: a failed attempt, or an end other than delivered.
    pub(crate) fn troubled(&self) -> bool {
        self.attempts
            .iter()
            .any(|a| a.result != AttemptResult::Delivered)
            || self.ended.is_some_and(|e| e != DeliveryEnd::Delivered)
    }

    /// One line for people: `5 attempts over 61 min: THROTTLING ×4, TIMEOUT, sent to DLQ`.
    pub(crate) fn summary(&self) -> String {
        let mut errors: Vec<(String, usize)> = Vec::new();
        for attempt in &self.attempts {
            let label = match (&attempt.error, attempt.result) {
                (Some(error), _) => error.clone(),
                (None, AttemptResult::Delivered) => "delivered".to_owned(),
                (None, other) => format!("{other:?}").to_lowercase(),
            };
            match errors.last_mut() {
                Some((last, n)) if *last == label => *n += 1,
                _ => errors.push((label, 1)),
            }
        }
        let labels: Vec<String> = errors
            .into_iter()
            .map(|(label, n)| {
                if n > 1 {
                    format!("{label} ×{n}")
                } else {
                    label
                }
            })
            .collect();
        let span = match (self.attempts.first(), self.attempts.last()) {
            (Some(first), Some(last)) if self.attempts.len() > 1 => {
                format!(" over {}", span_text(last.at - first.at))
            }
            _ => String::new(),
        };
        let ended = match self.ended {
            Some(DeliveryEnd::SentToDlq) => ", sent to DLQ",
            Some(DeliveryEnd::Failed) => ", then EventBridge gave up (no DLQ took it)",
            Some(DeliveryEnd::Delivered) | None => "",
        };
        let n = self.attempts.len();
        format!(
            "{n} attempt{}{span}: {}{ended}",
            if n == 1 { "" } else { "s" },
            labels.join(", ")
        )
    }
}

fn span_text(span: chrono::Duration) -> String {
    let seconds = span.num_seconds();
    match seconds {
        s if s < 1 => format!("{} ms", span.num_milliseconds()),
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(minute: i64, result: AttemptResult, error: Option<&str>) -> DeliveryAttempt {
        DeliveryAttempt {
            attempt: None,
            at: DateTime::UNIX_EPOCH + chrono::Duration::minutes(minute),
            result,
            error: error.map(str::to_owned),
            message: None,
        }
    }

    #[test]
    fn a_delivery_reads_as_its_attempts_runs_of_the_same_error_and_how_it_ended() {
        let delivery = Delivery {
            rule: None,
            attempts: vec![
                attempt(0, AttemptResult::Throttled, Some("THROTTLING")),
                attempt(1, AttemptResult::Throttled, Some("THROTTLING")),
                attempt(3, AttemptResult::Throttled, Some("THROTTLING")),
                attempt(20, AttemptResult::Throttled, Some("THROTTLING")),
                attempt(61, AttemptResult::Failed, Some("TIMEOUT")),
            ],
            ended: Some(DeliveryEnd::SentToDlq),
        };
        assert_eq!(
            delivery.summary(),
            "5 attempts over 61 min: THROTTLING ×4, TIMEOUT, sent to DLQ"
        );
        assert!(delivery.troubled());
        let fine = Delivery {
            rule: None,
            attempts: vec![attempt(0, AttemptResult::Delivered, None)],
            ended: Some(DeliveryEnd::Delivered),
        };
        assert_eq!(fine.summary(), "1 attempt: delivered");
        assert!(!fine.troubled());
    }
}
