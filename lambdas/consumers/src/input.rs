//! EventBridge's input transformation, applied as EventBridge applies it: the local stack
//! delivers with it, and a direct redelivery by the CLI sends the target what EventBridge would
//! have sent: the event, the constant
//! `Input`, the part at `InputPath`, or the `InputTemplate` filled from `InputPathsMap`.
//!
//! The rules followed (EventBridge user guide, "Amazon EventBridge input transformation", and
//! its "Common issues" list):
//! - Paths use JSON dot notation (`$.detail.instance-id`), array indices and wildcards. They
//!   are evaluated by `serde_json_path` (RFC 9535); member names the RFC's shorthand does not
//!   allow, such as those with dashes, are passed to it in bracket notation.
//! - A placeholder in a value position (outside quotes) becomes the value as JSON: strings get
//!   their quotes, objects and arrays stay JSON.
//! - A placeholder inside a quoted string gets the value's text, not escaped; an object or an
//!   array there loses its internal quotes, so that the string stays valid.
//! - A template that is a JSON object or array must give valid JSON, which is sent minified.
//!   Any other template is sent as the text it gives (a quoted string template keeps its
//!   quotes).
//! - A variable whose path matches nothing in the event is not created: inside a string it
//!   gives nothing, in a value position `null`. An `InputPath` that matches nothing is refused.
//! - The predefined variables: `aws.events.rule-arn`, `aws.events.rule-name`,
//!   `aws.events.event` (the event without its detail), `aws.events.event.json` (the whole
//!   event) and `aws.events.event.ingestion-time` (the event's `time`: the DLQ keeps no other).
//!   A placeholder naming nothing defined is left as written.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_json_path::JsonPath;

use serde::Serialize;

/// What EventBridge sends a target instead of the event, as set on the target.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum TargetInput {
    /// The matched event, unchanged.
    #[default]
    Event,
    /// `Input`: this constant text instead of the event.
    Constant {
        /// The text.
        input: String,
    },
    /// `InputPath`: the part of the event at this JSONPath.
    Path {
        /// The JSONPath.
        path: String,
    },
    /// `InputTransformer`: the template filled with the values at the paths.
    Transformer {
        /// `InputPathsMap`: variable name to JSONPath.
        paths: BTreeMap<String, String>,
        /// `InputTemplate`.
        template: String,
    },
}

impl TargetInput {
    /// Whether the target receives something other than the event itself.
    pub fn transforms(&self) -> bool {
        *self != Self::Event
    }

    /// The setting's name on the target, e.g. `InputTransformer`.
    pub fn setting(&self) -> &'static str {
        match self {
            Self::Event => "none",
            Self::Constant { .. } => "Input",
            Self::Path { .. } => "InputPath",
            Self::Transformer { .. } => "InputTransformer",
        }
    }
}

/// The rule the event matched, for the predefined variables.
#[derive(Debug, Clone, Default)]
pub struct RuleContext<'a> {
    /// `aws.events.rule-name`.
    pub name: &'a str,
    /// `aws.events.rule-arn`.
    pub arn: &'a str,
}

/// Why the target's input cannot be made for this event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A path of the target is not JSONPath.
    #[error("the target's path {path:?} is not a JSONPath EventBridge accepts: {reason}")]
    BadPath {
        /// The path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// `InputPath` selects nothing in this event.
    #[error("the target's InputPath {0:?} selects nothing in this event")]
    NothingAtPath(String),
    /// A JSON template gave something that is not JSON.
    #[error(
        "the target's InputTemplate does not give valid JSON for this event ({reason}): {text}"
    )]
    NotJson {
        /// What the parser said.
        reason: String,
        /// The filled template.
        text: String,
    },
}

/// What the target receives for `event`, as text: [`TargetInput::compile`] and
/// [`CompiledInput::apply`] in one step, for a single event.
pub fn apply(
    input: &TargetInput,
    event: &Value,
    rule: &RuleContext<'_>,
) -> Result<String, InputError> {
    input.compile()?.apply(event, rule)
}

impl TargetInput {
    /// The input with its paths parsed once, to apply to many events.
    pub fn compile(&self) -> Result<CompiledInput, InputError> {
        let paths = match self {
            Self::Event | Self::Constant { .. } => Vec::new(),
            Self::Path { path } => vec![(String::new(), parse(path)?)],
            Self::Transformer { paths, .. } => paths
                .iter()
                .map(|(name, path)| Ok((name.clone(), parse(path)?)))
                .collect::<Result<_, InputError>>()?,
        };
        Ok(CompiledInput {
            input: self.clone(),
            paths,
        })
    }
}

/// A target's input with its JSONPaths parsed (the default: the event as it is).
#[derive(Debug, Clone, Default)]
pub struct CompiledInput {
    input: TargetInput,
    /// The variables' paths (the one path of an `InputPath`, unnamed).
    paths: Vec<(String, JsonPath)>,
}

impl CompiledInput {
    /// What the target receives for `event`, as text.
    pub fn apply(&self, event: &Value, rule: &RuleContext<'_>) -> Result<String, InputError> {
        match &self.input {
            TargetInput::Event => Ok(event.to_string()),
            TargetInput::Constant { input } => Ok(input.clone()),
            TargetInput::Path { path } => self
                .paths
                .first()
                .and_then(|(_, parsed)| select(parsed, event))
                .map(|v| v.to_string())
                .ok_or_else(|| InputError::NothingAtPath(path.clone())),
            TargetInput::Transformer { template, .. } => {
                let values: BTreeMap<&str, Option<Value>> = self
                    .paths
                    .iter()
                    .map(|(name, parsed)| (name.as_str(), select(parsed, event)))
                    .collect();
                let lookup = |name: &str| -> Option<Option<Value>> {
                    values
                        .get(name)
                        .cloned()
                        .or_else(|| predefined(name, event, rule).map(Some))
                };
                let text = fill(template, &lookup);
                if is_json_template(template) {
                    serde_json::from_str::<Value>(&text)
                        .map(|v| v.to_string())
                        .map_err(|e| InputError::NotJson {
                            reason: e.to_string(),
                            text,
                        })
                } else {
                    Ok(text)
                }
            }
        }
    }
}

fn is_json_template(template: &str) -> bool {
    matches!(template.trim_start().chars().next(), Some('{' | '['))
}

/// The value of a predefined variable, made only when the template names it (the event's
/// copies are not free).
fn predefined(name: &str, event: &Value, rule: &RuleContext<'_>) -> Option<Value> {
    Some(match name {
        "aws.events.rule-arn" => Value::from(rule.arn),
        "aws.events.rule-name" => Value::from(rule.name),
        "aws.events.event" => {
            let mut without_detail = event.clone();
            if let Some(map) = without_detail.as_object_mut() {
                map.remove("detail");
            }
            without_detail
        }
        "aws.events.event.json" => event.clone(),
        "aws.events.event.ingestion-time" => event.get("time").cloned().unwrap_or(Value::Null),
        _ => return None,
    })
}

/// An EventBridge path, parsed.
fn parse(path: &str) -> Result<JsonPath, InputError> {
    let bad = |reason: String| InputError::BadPath {
        path: path.to_owned(),
        reason,
    };
    JsonPath::parse(&bracketed(path).map_err(bad)?).map_err(|e| bad(e.to_string()))
}

/// The value at a path: one node as itself, several as an array, none as `None`.
fn select(path: &JsonPath, event: &Value) -> Option<Value> {
    let nodes = path.query(event).all();
    match nodes.as_slice() {
        [] => None,
        [one] => Some((*one).clone()),
        many => Some(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
    }
}

/// `$.detail.instance-id` as `$['detail']['instance-id']`: EventBridge's dot notation allows
/// member names (dashes, leading digits) that RFC 9535's shorthand does not. Brackets, indices
/// and wildcards pass through.
fn bracketed(path: &str) -> Result<String, String> {
    let rest = path
        .trim()
        .strip_prefix('$')
        .ok_or_else(|| "it must start with $".to_owned())?;
    let mut out = String::from("$");
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut name = String::new();
                while let Some(&next) = chars.peek() {
                    if next == '.' || next == '[' {
                        break;
                    }
                    name.push(next);
                    chars.next();
                }
                match name.as_str() {
                    "" => return Err("an empty member name".to_owned()),
                    "*" => out.push_str("[*]"),
                    _ => {
                        out.push_str("['");
                        out.push_str(&name.replace('\\', "\\\\").replace('\'', "\\'"));
                        out.push_str("']");
                    }
                }
            }
            '[' => {
                out.push('[');
                for next in chars.by_ref() {
                    out.push(next);
                    if next == ']' {
                        break;
                    }
                }
            }
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    Ok(out)
}

/// Fill the placeholders of `template`. `lookup` answers `None` for a name nothing defines,
/// `Some(None)` for a variable whose path matched nothing.
fn fill(template: &str, lookup: &dyn Fn(&str) -> Option<Option<Value>>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest.find('>')
            && let Some(value) = lookup(&rest[1..end])
        {
            out.push_str(&render(value.as_ref(), in_string));
            rest = &rest[end + 1..];
            continue;
        }
        if in_string && escaped {
            escaped = false;
        } else if in_string && c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_string = !in_string;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn render(value: Option<&Value>, in_string: bool) -> String {
    match (value, in_string) {
        (None, true) => String::new(),
        (None, false) => "null".to_owned(),
        (Some(Value::String(s)), true) => s.clone(),
        (Some(v @ (Value::Object(_) | Value::Array(_))), true) => v.to_string().replace('"', ""),
        (Some(v), _) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The user guide's example event.
    fn ec2_event() -> Value {
        json!({
            "version": "0",
            "id": "7bf73129-1428-4cd3-a780-95db273d1602",
            "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2",
            "account": "123456789012",
            "time": "2015-11-11T21:29:54Z",
            "region": "us-east-1",
            "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
            "detail": {"instance-id": "i-0123456789", "state": "RUNNING"}
        })
    }

    /// The user guide's Input Path.
    fn transformer(template: &str) -> TargetInput {
        TargetInput::Transformer {
            paths: BTreeMap::from([
                ("timestamp".to_owned(), "$.time".to_owned()),
                ("instance".to_owned(), "$.detail.instance-id".to_owned()),
                ("state".to_owned(), "$.detail.state".to_owned()),
            ]),
            template: template.to_owned(),
        }
    }

    const RULE: RuleContext<'static> = RuleContext {
        name: "example",
        arn: "arn:aws:events:us-east-2:123456789012:rule/example",
    };

    fn transform(template: &str) -> String {
        apply(&transformer(template), &ec2_event(), &RULE).unwrap()
    }

    fn transform_json(template: &str) -> Value {
        serde_json::from_str(&transform(template)).unwrap()
    }

    #[test]
    fn the_user_guides_string_templates_give_its_outputs() {
        assert_eq!(
            transform(r#""instance <instance> is in <state>""#),
            r#""instance i-0123456789 is in RUNNING""#
        );
        assert_eq!(
            transform(r#""instance \"<instance>\" is in <state>""#),
            r#""instance \"i-0123456789\" is in RUNNING""#
        );
        assert_eq!(
            transform(r#""<aws.events.rule-name> triggered""#),
            r#""example triggered""#
        );
    }

    #[test]
    fn the_user_guides_json_templates_give_its_outputs_minified() {
        assert_eq!(
            transform("{\n  \"instance\" : <instance>,\n  \"state\": <state>\n}"),
            r#"{"instance":"i-0123456789","state":"RUNNING"}"#
        );
        assert_eq!(
            transform_json(
                r#"{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \"<instance>\" is in <state>"}"#
            ),
            json!({
                "instance": "i-0123456789",
                "state": "RUNNING",
                "instanceStatus": "instance \"i-0123456789\" is in RUNNING"
            })
        );
        assert_eq!(
            transform_json(
                r#"{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}"#
            ),
            json!({"instance": "i-0123456789", "state": [9, "RUNNING", true], "Transformed": "Yes"})
        );
    }

    #[test]
    fn reserved_variables_give_the_rule_and_the_original_event() {
        let out = transform_json(
            r#"{"instance": <instance>, "ruleArn": <aws.events.rule-arn>, "ruleName": <aws.events.rule-name>, "originalEvent": <aws.events.event.json>, "envelope": <aws.events.event>}"#,
        );
        assert_eq!(out["ruleArn"], RULE.arn);
        assert_eq!(out["ruleName"], "example");
        assert_eq!(out["originalEvent"], ec2_event());
        assert_eq!(out["envelope"]["id"], ec2_event()["id"]);
        assert!(out["envelope"].get("detail").is_none());
    }

    #[test]
    fn objects_inside_a_string_lose_their_quotes_and_numbers_keep_their_text() {
        let input = TargetInput::Transformer {
            paths: BTreeMap::from([
                ("detail".to_owned(), "$.detail".to_owned()),
                ("count".to_owned(), "$.detail.count".to_owned()),
            ]),
            template: r#"{"text": "Detail is <detail>", "n": <count>, "s": "<count>"}"#.to_owned(),
        };
        let event = json!({"detail": {"state": "RUNNING", "count": 3}});
        let out: Value = serde_json::from_str(&apply(&input, &event, &RULE).unwrap()).unwrap();
        assert_eq!(
            out,
            json!({"text": "Detail is {count:3,state:RUNNING}", "n": 3, "s": "3"})
        );
    }

    #[test]
    fn a_path_matching_nothing_gives_null_or_nothing_and_unknown_placeholders_stay() {
        let input = TargetInput::Transformer {
            paths: BTreeMap::from([("gone".to_owned(), "$.detail.missing".to_owned())]),
            template: r#"{"a": <gone>, "b": "x<gone>y", "c": "<not-a-variable>"}"#.to_owned(),
        };
        let out: Value =
            serde_json::from_str(&apply(&input, &ec2_event(), &RULE).unwrap()).unwrap();
        assert_eq!(out, json!({"a": null, "b": "xy", "c": "<not-a-variable>"}));
    }

    #[test]
    fn a_json_template_that_gives_invalid_json_is_refused_with_the_text() {
        let input = TargetInput::Transformer {
            paths: BTreeMap::from([("state".to_owned(), "$.detail.state".to_owned())]),
            template: r#"{"state": <state>,}"#.to_owned(),
        };
        let err = apply(&input, &ec2_event(), &RULE).unwrap_err();
        assert!(
            matches!(&err, InputError::NotJson { text, .. } if text == r#"{"state": "RUNNING",}"#),
            "{err}"
        );
    }

    #[test]
    fn input_path_and_constant_input_and_arrays_and_wildcards() {
        let event = json!({"detail": {"items": [{"sku": "A"}, {"sku": "B"}]}});
        let path = |p: &str| apply(&TargetInput::Path { path: p.to_owned() }, &event, &RULE);
        assert_eq!(path("$.detail.items[1].sku").unwrap(), r#""B""#);
        assert_eq!(path("$.detail.items[*].sku").unwrap(), r#"["A","B"]"#);
        assert_eq!(path("$.detail").unwrap(), event["detail"].to_string());
        assert_eq!(
            path("$.detail.nothing").unwrap_err(),
            InputError::NothingAtPath("$.detail.nothing".to_owned())
        );
        assert!(matches!(
            path("detail").unwrap_err(),
            InputError::BadPath { .. }
        ));
        assert_eq!(
            apply(
                &TargetInput::Constant {
                    input: r#"{"ping":1}"#.to_owned()
                },
                &event,
                &RULE
            )
            .unwrap(),
            r#"{"ping":1}"#
        );
        assert_eq!(
            apply(&TargetInput::Event, &event, &RULE).unwrap(),
            event.to_string()
        );
    }
}
