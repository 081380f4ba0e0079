//! What a redrive delivers, and where: the route a `--via` takes to the consumer, and the
//! payload each kind of DLQ record must give on that route.
//!
//! The records do not hold the same thing:
//! - a target-DLQ message (EventBridge could not deliver) holds the original event, not yet
//!   transformed: a direct delivery applies the target's input transformation ([`input`]) to
//!   it, and the bus gets the event itself;
//! - a Lambda on-failure record (or legacy DLQ message) holds what the function received,
//!   already transformed: the function gets it as is, and the bus may get it only when the
//!   target does not transform its input (otherwise it would publish a transformed payload as
//!   if it were an event);
//! - a message in no known format, named with `--message-id`, is delivered as its body.
//!
//! `--transform` ([`mend`]) mends the event before any of this.

pub(crate) mod input;
pub(crate) mod mend;

use ecomm_events::{DlqKind, DlqRecord, EventEnvelope};
use serde::Serialize;
use serde_json::Value;

use crate::backend::Consumer;
use crate::backend::targets::TargetKind;
use crate::cli::Via;

use self::input::RuleContext;
use self::mend::Mend;

/// How a redrive reaches the consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// Asynchronous `Invoke` of the consumer's function.
    Invoke {
        /// The function.
        function: String,
    },
    /// Straight to a target that is not a function (queue, topic, state machine, bus).
    Direct(TargetKind),
    /// `PutEvents` to the bus: every matching rule sees the event again.
    Bus,
}

impl Route {
    /// The route `via` takes to `consumer`; refused, before any message is touched, when the
    /// target is of a type no route reaches.
    pub(crate) fn of(consumer: &Consumer, via: Via) -> Result<Self, String> {
        match (via, &consumer.kind) {
            (Via::Bus, _) => Ok(Self::Bus),
            (Via::Target | Via::Invoke, TargetKind::Lambda { function }) => Ok(Self::Invoke {
                function: function.clone(),
            }),
            (Via::Invoke, kind) => Err(format!(
                "--via invoke is for Lambda targets, and target {} is an {}: use --via target (the default), which delivers to it directly",
                consumer.target,
                kind.describe()
            )),
            (Via::Target, kind @ TargetKind::Other { .. }) => Err(format!(
                "target {} is a {}: ecomm cannot deliver to it directly; use --via bus to put the events on the bus again (every matching rule sees them)",
                consumer.target,
                kind.describe()
            )),
            (Via::Target, kind) => Ok(Self::Direct(kind.clone())),
        }
    }
}

/// What one message becomes on its route.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Payload {
    /// The text a function or a direct target receives.
    Text(String),
    /// The event envelope to put on the bus.
    Envelope(Value),
}

/// A payload, with the mended event when `--transform` changed it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prepared {
    /// What is delivered.
    pub(crate) payload: Payload,
    /// The event after `--transform`, for the journal and the dry run.
    pub(crate) mended: Option<Value>,
}

/// Why a message is not delivered (it stays in the DLQ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The message holds nothing that can be delivered (a named body that is not JSON): its
    /// delivery fails.
    Unreadable(String),
    /// It could be delivered, but must not be on this route, or `--transform` made it no event.
    Refused(String),
}

/// Everything that shapes the payloads of a run.
#[derive(Debug)]
pub(crate) struct Shaping<'a> {
    /// The consumer.
    pub(crate) consumer: &'a Consumer,
    /// Its route.
    pub(crate) route: &'a Route,
    /// `--transform`.
    pub(crate) mend: Option<&'a Mend>,
    /// `--force`: deliver a mended event even when the contract does not accept it.
    pub(crate) force: bool,
}

impl Shaping<'_> {
    /// The payload for one record; `event` is the record's event (moved out of it).
    pub(crate) fn prepare(
        &self,
        record: &DlqRecord,
        event: Option<Value>,
        body: &str,
    ) -> Result<Prepared, Refusal> {
        let kind = record.kind();
        let event = match (event, kind) {
            (Some(event), _) => event,
            (None, DlqKind::Unknown) => serde_json::from_str(body)
                .map_err(|e| Refusal::Unreadable(format!("the body is not JSON: {e}")))?,
            (None, _) => {
                return Err(Refusal::Unreadable(
                    "the body holds no readable event".to_owned(),
                ));
            }
        };
        let (event, mended) = match self.mend {
            Some(mend) => {
                let mended = mend.apply(&event).map_err(Refusal::Refused)?;
                if !self.force
                    && let Err(e) =
                        EventEnvelope::from_value(mended.clone()).and_then(|e| e.decode())
                {
                    return Err(Refusal::Refused(format!(
                        "--transform gave an event the contract does not accept ({e}); fix the expression, or --force to deliver it anyway"
                    )));
                }
                (mended.clone(), Some(mended))
            }
            None => (event, None),
        };
        let transforms = self.consumer.input.transforms();
        let payload = match (kind, self.route) {
            (DlqKind::EventbridgeTarget | DlqKind::Unknown, Route::Bus) => Payload::Envelope(event),
            (DlqKind::EventbridgeTarget, Route::Invoke { .. } | Route::Direct(_)) => {
                let rule_arn = match &record.source {
                    ecomm_events::DlqSource::EventbridgeTarget(failure) => failure.rule_arn.clone(),
                    _ => None,
                };
                let rule = RuleContext {
                    name: &self.consumer.rule,
                    arn: rule_arn.as_deref().unwrap_or(&self.consumer.rule_arn),
                };
                Payload::Text(
                    input::apply(&self.consumer.input, &event, &rule)
                        .map_err(|e| Refusal::Refused(e.to_string()))?,
                )
            }
            (DlqKind::LambdaDestination | DlqKind::LambdaDlq, Route::Invoke { .. }) => {
                Payload::Text(event.to_string())
            }
            (DlqKind::LambdaDestination | DlqKind::LambdaDlq, Route::Bus) if transforms => {
                return Err(Refusal::Refused(format!(
                    "this on-failure record holds what the function received, already transformed by the target's {}, not the event: putting it on the bus would publish it as an event; use --via target",
                    self.consumer.input.setting()
                )));
            }
            (DlqKind::LambdaDestination | DlqKind::LambdaDlq, Route::Bus) => {
                Payload::Envelope(event)
            }
            (DlqKind::LambdaDestination | DlqKind::LambdaDlq, Route::Direct(kind)) => {
                return Err(Refusal::Refused(format!(
                    "a function's on-failure record cannot go to the {}: it holds what the function received",
                    kind.describe()
                )));
            }
            (DlqKind::Unknown, _) => Payload::Text(event.to_string()),
        };
        Ok(Prepared { payload, mended })
    }
}

/// One difference between an event and its mended form, for `--dry-run --transform`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Change {
    /// Where, as a JSON pointer (`/detail/eventVersion`).
    pub(crate) path: String,
    /// The value before (absent when added).
    pub(crate) before: Option<Value>,
    /// The value after (absent when removed).
    pub(crate) after: Option<Value>,
}

/// The leaf-level differences from `before` to `after`, in document order.
pub(crate) fn diff(before: &Value, after: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    walk("", Some(before), Some(after), &mut changes);
    changes
}

fn walk(path: &str, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<Change>) {
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (key, value) in a {
                walk(
                    &format!("{path}/{}", escape(key)),
                    Some(value),
                    b.get(key),
                    out,
                );
            }
            for (key, value) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                walk(&format!("{path}/{}", escape(key)), None, Some(value), out);
            }
        }
        (a, b) if a != b => out.push(Change {
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            },
            before: a.cloned(),
            after: b.cloned(),
        }),
        _ => {}
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_diff_names_each_changed_added_and_removed_leaf() {
        let before = json!({"detail": {"eventVersion": "3.0", "gone": 1, "same": [1]}});
        let after = json!({"detail": {"eventVersion": "2.0", "same": [1], "new": true}});
        assert_eq!(
            diff(&before, &after),
            vec![
                Change {
                    path: "/detail/eventVersion".to_owned(),
                    before: Some(json!("3.0")),
                    after: Some(json!("2.0")),
                },
                Change {
                    path: "/detail/gone".to_owned(),
                    before: Some(json!(1)),
                    after: None,
                },
                Change {
                    path: "/detail/new".to_owned(),
                    before: None,
                    after: Some(json!(true)),
                },
            ]
        );
    }
}
