//! `redrive --transform EXPR`: a jq expression, run by the jaq crates, that mends a poison
//! event before it is replayed. It is compiled once, before any message is touched, and run on
//! each event; the result must be one JSON value.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data};
use jaq_json::Val;
use serde_json::Value;

/// A compiled `--transform`.
pub(crate) struct Mend {
    source: String,
    filter: jaq_core::Filter<data::JustLut<Val>>,
}

impl std::fmt::Debug for Mend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mend")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Mend {
    /// Compile `source`; the error says what jq would say is wrong with it.
    pub(crate) fn compile(source: &str) -> Result<Self, String> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let modules = loader
            .load(
                &arena,
                File {
                    code: source,
                    path: (),
                },
            )
            .map_err(|errors| {
                let found: Vec<String> =
                    errors.into_iter().map(|(_, e)| format!("{e:?}")).collect();
                format!(
                    "--transform {source:?} is not a jq expression: {}",
                    found.join("; ")
                )
            })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                let found: Vec<String> = errors
                    .into_iter()
                    .flat_map(|(_, es)| {
                        es.into_iter()
                            .map(|(name, kind)| format!("{kind:?} {name}"))
                    })
                    .collect();
                format!(
                    "--transform {source:?} does not compile: {}",
                    found.join("; ")
                )
            })?;
        Ok(Self {
            source: source.to_owned(),
            filter,
        })
    }

    /// Run it on `event`: exactly one output, as JSON.
    pub(crate) fn apply(&self, event: &Value) -> Result<Value, String> {
        let input = jaq_json::read::parse_single(event.to_string().as_bytes())
            .map_err(|e| format!("the event is not JSON jq can read: {e}"))?;
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let mut outputs = self.filter.id.run((ctx, input));
        let first = match outputs.next() {
            None => return Err("--transform gave no value for this event".to_owned()),
            Some(Ok(value)) => value,
            Some(Err(exn)) => {
                return Err(match exn.get_err() {
                    Ok(error) => format!("--transform failed on this event: {error}"),
                    Err(_) => "--transform stopped (halt) on this event".to_owned(),
                });
            }
        };
        if outputs.next().is_some() {
            return Err("--transform gave more than one value for this event".to_owned());
        }
        serde_json::from_str(&first.to_string())
            .map_err(|e| format!("--transform gave something that is not JSON ({e}): {first}"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_assignment_mends_the_event_and_keeps_the_rest() {
        let mend = Mend::compile(r#".detail.eventVersion = "2.0""#).unwrap();
        let event = json!({"id": "e1", "detail": {"eventVersion": "3.0", "order": {"id": "o1"}}});
        assert_eq!(
            mend.apply(&event).unwrap(),
            json!({"id": "e1", "detail": {"eventVersion": "2.0", "order": {"id": "o1"}}})
        );
    }

    #[test]
    fn nonsense_is_refused_before_any_message_and_runtime_failures_are_explained() {
        assert!(
            Mend::compile(".detail |||")
                .unwrap_err()
                .contains("not a jq expression")
        );
        assert!(
            Mend::compile("nosuchfunction(1)")
                .unwrap_err()
                .contains("does not compile")
        );
        let mend = Mend::compile(".detail[]").unwrap();
        assert!(
            mend.apply(&json!({"detail": [1, 2]}))
                .unwrap_err()
                .contains("more than one")
        );
        assert!(
            mend.apply(&json!({"detail": []}))
                .unwrap_err()
                .contains("no value")
        );
        let failing = Mend::compile(r#"error("no")"#).unwrap();
        assert!(
            failing
                .apply(&json!({}))
                .unwrap_err()
                .contains("failed on this event")
        );
    }
}
