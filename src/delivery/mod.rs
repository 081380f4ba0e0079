//! What a redrive delivers, and where: the route a `--via` takes to the consumer, and the
//! payload each kind of DLQ record must give on that route.
//!
//! The records do not hold the same thing:
//! - a target-DLQ message (EventBridge could not deliver) holds the original event, not yet
//!   transformed: a direct delivery applies the target's input transformation (`ecomm_consumers::input`) to
//!   it, and the bus gets the event itself;
//! - a Lambda on-failure record (or legacy DLQ message) holds what the function received,
//!   already transformed: the function gets it as is, and the bus may get it only when the
//!   target does not transform its input (otherwise it would publish a transformed payload as
//!   if it were an event);
//! - a message in no known format, named with `--message-id`, is delivered as its body.
//!
//! `--transform` ([`mend`]) mends the event before any of this.

pub(crate) mod mend;

use ecomm_events::{DlqKind, DlqRecord, EventEnvelope};
use serde::Serialize;
use serde_json::Value;

use crate::backend::Consumer;
use crate::backend::targets::TargetKind;
use crate::cli::Via;

use ecomm_consumers::input::{CompiledInput, RuleContext};

use self::mend::Mend;

/// How a redrive reaches the consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// Asynchronous `Invoke` of the consumer's function.
    Invoke {
        /// The function, with the target's alias or version when it names one.
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
            (
                Via::Target | Via::Invoke,
                TargetKind::Lambda {
                    function,
                    qualifier,
                },
            ) => Ok(Self::Invoke {
                function: TargetKind::invoke_name(function, qualifier.as_deref()),
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
    /// The target's input transformation, parsed once for the run.
    pub(crate) input: &'a CompiledInput,
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
                    self.input
                        .apply(&event, &rule)
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
    use std::collections::BTreeMap;

    use ecomm_events::dlq::{InvocationRecord, TargetFailure};
    use ecomm_events::{DlqMessage, MessageAttributes};
    use serde_json::json;

    use super::*;
    use crate::backend::QueueRef;
    use crate::backend::targets::TargetInput;

    fn consumer(kind: TargetKind, input: TargetInput) -> Consumer {
        Consumer {
            target: "audit".to_owned(),
            rule: "ecomm-audit".to_owned(),
            rule_arn: "arn:aws:events:eu-west-1:111122223333:rule/ecomm/ecomm-audit".to_owned(),
            target_arn: String::new(),
            kind,
            input,
            function: None,
            delivery_dlq: None,
            function_dlq: None,
            failure_bucket: None,
            dlq: None,
            reader: None,
            findings: Vec::new(),
        }
    }

    fn queue() -> TargetKind {
        TargetKind::Sqs {
            queue: QueueRef {
                name: "audit".to_owned(),
                arn: String::new(),
                url: String::new(),
                records: None,
            },
            message_group_id: None,
        }
    }

    fn lambda() -> TargetKind {
        TargetKind::Lambda {
            function: "ecomm-audit".to_owned(),
            qualifier: Some("live".to_owned()),
        }
    }

    fn order_id_only() -> TargetInput {
        TargetInput::Transformer {
            paths: BTreeMap::from([("order".to_owned(), "$.detail.orderId".to_owned())]),
            template: r#"{"order": <order>, "rule": <aws.events.rule-name>}"#.to_owned(),
        }
    }

    fn event() -> Value {
        json!({"id": "e", "source": "ecomm.orders", "detail-type": "OrderCreated", "detail": {"orderId": "o-1"}})
    }

    fn record(message: &DlqMessage) -> DlqRecord {
        DlqRecord::parse(&message.body, &message.attributes)
    }

    fn target_failure() -> DlqMessage {
        DlqMessage::eventbridge_target(
            &event(),
            &TargetFailure {
                rule_arn: None,
                target_arn: None,
                error_code: Some("THROTTLING".to_owned()),
                error_message: None,
                exhausted_retry_condition: None,
                retry_attempts: None,
            },
        )
    }

    fn on_failure(payload: Value) -> DlqMessage {
        DlqMessage::lambda_destination(&InvocationRecord::failed(
            "2026-01-22T11:48:17.652Z".to_owned(),
            "req".to_owned(),
            "arn:aws:lambda:eu-west-1:111122223333:function:ecomm-audit:live".to_owned(),
            "RetriesExhausted",
            3,
            payload,
            "Mail",
            "down",
        ))
    }

    fn prepare(consumer: &Consumer, via: Via, message: &DlqMessage) -> Result<Prepared, Refusal> {
        let route = Route::of(consumer, via).expect("a route");
        let input = consumer.input.compile().expect("the test's paths parse");
        let shaping = Shaping {
            consumer,
            route: &route,
            input: &input,
            mend: None,
            force: false,
        };
        let record = record(message);
        let event = record.event.clone();
        shaping.prepare(&record, event, &message.body)
    }

    #[test]
    fn each_record_gives_what_its_route_must_deliver() {
        let transforming = consumer(queue(), order_id_only());
        // A target-DLQ message holds the event: a direct target gets it transformed ...
        assert_eq!(
            prepare(&transforming, Via::Target, &target_failure())
                .unwrap()
                .payload,
            Payload::Text(r#"{"order":"o-1","rule":"ecomm-audit"}"#.to_owned())
        );
        // ... and the bus gets the event itself.
        assert_eq!(
            prepare(&transforming, Via::Bus, &target_failure())
                .unwrap()
                .payload,
            Payload::Envelope(event())
        );
        // An on-failure record holds what the function got: the function gets it as is, and
        // the bus refuses it when the target transforms.
        let function = consumer(lambda(), order_id_only());
        let got = json!({"order": "o-1"});
        assert_eq!(
            prepare(&function, Via::Target, &on_failure(got.clone()))
                .unwrap()
                .payload,
            Payload::Text(got.to_string())
        );
        assert!(matches!(
            prepare(&function, Via::Bus, &on_failure(got)),
            Err(Refusal::Refused(reason)) if reason.contains("InputTransformer")
        ));
        let plain = consumer(lambda(), TargetInput::Event);
        assert_eq!(
            prepare(&plain, Via::Bus, &on_failure(event()))
                .unwrap()
                .payload,
            Payload::Envelope(event())
        );
        // A named body in no known format is delivered as it is, or fails when not JSON.
        let raw = DlqMessage {
            body: "by hand".to_owned(),
            attributes: MessageAttributes::new(),
        };
        assert!(matches!(
            prepare(&plain, Via::Target, &raw),
            Err(Refusal::Unreadable(_))
        ));
    }

    #[test]
    fn routes_follow_the_target_and_unreachable_types_are_refused_up_front() {
        assert_eq!(
            Route::of(&consumer(lambda(), TargetInput::Event), Via::Invoke),
            Ok(Route::Invoke {
                function: "ecomm-audit:live".to_owned()
            })
        );
        assert!(
            Route::of(&consumer(queue(), TargetInput::Event), Via::Invoke)
                .unwrap_err()
                .contains("--via target")
        );
        let stream = consumer(
            TargetKind::Other {
                service: "kinesis".to_owned(),
            },
            TargetInput::Event,
        );
        let refused = Route::of(&stream, Via::Target).unwrap_err();
        assert!(
            refused.contains("kinesis") && refused.contains("--via bus"),
            "{refused}"
        );
        assert_eq!(Route::of(&stream, Via::Bus), Ok(Route::Bus));
    }

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
