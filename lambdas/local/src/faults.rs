//! Injected faults: what makes the demo fail in realistic ways.
//!
//! Faults live in the memory of the process that runs the demo, never in the state file, so a
//! later redrive of the failed messages succeeds — except the poison event, which fails again
//! by its nature.

use std::collections::HashSet;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// Why EventBridge could not deliver an event to a target: the `ERROR_CODE` of its target-DLQ
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryError {
    /// Lambda throttled the invoke; retried per the target's retry policy.
    Throttling,
    /// The function's resource policy does not let the rule invoke it; not retried.
    NoPermissions,
    /// The function does not exist; not retried.
    NoResource,
}

impl DeliveryError {
    /// The `ERROR_CODE` attribute EventBridge writes.
    pub fn code(self) -> &'static str {
        match self {
            Self::Throttling => "THROTTLING",
            Self::NoPermissions => "NO_PERMISSIONS",
            Self::NoResource => "NO_RESOURCE",
        }
    }

    /// Whether EventBridge retries it: a missing permission or target goes to the DLQ at once
    /// (EventBridge user guide, "Using dead-letter queues").
    pub fn is_retried(self) -> bool {
        self == Self::Throttling
    }

    /// The `ERROR_MESSAGE` attribute, for a delivery to `target`, a `kind`.
    pub fn message(self, target: &str, kind: TargetNoun) -> String {
        match (self, kind) {
            (Self::Throttling, TargetNoun::Function) => {
                format!("Rate exceeded: Lambda throttled the invocation of {target}")
            }
            (Self::Throttling, TargetNoun::Queue) => {
                format!("Rate exceeded: SQS throttled the send to {target}")
            }
            (Self::Throttling, TargetNoun::Bus) => {
                format!("Rate exceeded: PutEvents on {target} was throttled")
            }
            (Self::NoPermissions, TargetNoun::Function) => format!(
                "EventBridge is not allowed to invoke {target}: the function's resource policy has no statement for the rule"
            ),
            (Self::NoPermissions, TargetNoun::Queue) => format!(
                "EventBridge is not allowed to send to {target}: the queue policy has no statement for the rule"
            ),
            (Self::NoPermissions, TargetNoun::Bus) => format!(
                "EventBridge is not allowed to put events on {target}: the bus's resource policy does not admit this account, or the target's role may not call events:PutEvents on it"
            ),
            (Self::NoResource, TargetNoun::Function) => format!("Function not found: {target}"),
            (Self::NoResource, TargetNoun::Queue) => format!("Queue not found: {target}"),
            (Self::NoResource, TargetNoun::Bus) => format!("Event bus not found: {target}"),
        }
    }
}

/// What kind of target a delivery failed to reach, for its error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetNoun {
    /// A Lambda function.
    Function,
    /// An SQS queue.
    Queue,
    /// Another event bus (a tenant's forward).
    Bus,
}

/// A fault profile as written on the command line, before the demo resolves it to orders.
///
/// `default`, `none`, or a comma-separated list of:
/// `mail-outage=40%..47%` (the mailer fails during that part of the demo's time window),
/// `audit-outage=20%..30%` (the audit table throttles every write during that part),
/// `throttle=analytics:2` (EventBridge cannot deliver 2 orders to analytics: `THROTTLING`),
/// `no-permissions=inventory:1` (the same with `NO_PERMISSIONS`; `forward` as the target breaks
/// the tenants' forward to the central bus, for orders of the tenants' producers),
/// `gateway-timeout=1` (the payment gateway times out for 1 order's refund, every attempt),
/// `poison=1` (1 `OrderCreated` of an unknown major version on the bus).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultSpec {
    /// Fraction of the window, start and end.
    pub mail_outage: Option<(f64, f64)>,
    /// Fraction of the window, start and end.
    pub audit_outage: Option<(f64, f64)>,
    /// `(target, error, how many orders)`.
    pub delivery: Vec<(String, DeliveryError, usize)>,
    /// How many refunds time out.
    pub gateway_timeouts: usize,
    /// How many poison events.
    pub poison: usize,
}

impl FaultSpec {
    /// The default profile: a notification outage window, a throttled delivery to analytics, a
    /// delivery to the audit queue without permission, a refund gateway timeout and one poison
    /// event.
    pub fn default_profile() -> Self {
        Self {
            mail_outage: Some((0.40, 0.47)),
            audit_outage: None,
            delivery: vec![
                ("analytics".to_owned(), DeliveryError::Throttling, 2),
                ("audit".to_owned(), DeliveryError::NoPermissions, 1),
            ],
            gateway_timeouts: 1,
            poison: 1,
        }
    }

    /// The default profile of a demo with `tenants` tenant accounts: with tenants, one order
    /// of each fails its forward to the central bus too (`no-permissions=forward:N`).
    pub fn default_profile_for(tenants: usize) -> Self {
        let mut spec = Self::default_profile();
        if tenants > 0 {
            spec.delivery
                .push((FORWARD.to_owned(), DeliveryError::NoPermissions, tenants));
        }
        spec
    }

    /// Parse the command-line form, for a demo with `tenants` tenant accounts (a `forward`
    /// fault needs one).
    pub fn parse(text: &str, tenants: usize) -> Result<Self, String> {
        let spec = match text.trim() {
            "default" => return Ok(Self::default_profile_for(tenants)),
            "none" | "" => return Ok(Self::default()),
            _ => Self::parse_list(text)?,
        };
        if tenants == 0 && spec.delivery.iter().any(|(target, _, _)| target == FORWARD) {
            return Err(
                "a forward fault breaks the tenants' forward to the central bus: add --tenants N"
                    .to_owned(),
            );
        }
        Ok(spec)
    }

    fn parse_list(text: &str) -> Result<Self, String> {
        let mut spec = Self::default();
        for part in text.split(',').map(str::trim) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected KEY=VALUE"))?;
            match key {
                "mail-outage" => spec.mail_outage = Some(window(part, value)?),
                "audit-outage" => spec.audit_outage = Some(window(part, value)?),
                "throttle" | "no-permissions" => {
                    let (target, count) = value
                        .split_once(':')
                        .ok_or_else(|| format!("{part:?}: expected TARGET:COUNT"))?;
                    let code = if key == "throttle" {
                        DeliveryError::Throttling
                    } else {
                        DeliveryError::NoPermissions
                    };
                    spec.delivery
                        .push((target.to_owned(), code, count_of(part, count)?));
                }
                "gateway-timeout" => spec.gateway_timeouts = count_of(part, value)?,
                "poison" => spec.poison = count_of(part, value)?,
                other => {
                    return Err(format!(
                        "unknown fault {other:?} (known: mail-outage, audit-outage, throttle, no-permissions, gateway-timeout, poison)"
                    ));
                }
            }
        }
        Ok(spec)
    }
}

fn window(part: &str, value: &str) -> Result<(f64, f64), String> {
    let (a, b) = value
        .split_once("..")
        .ok_or_else(|| format!("{part:?}: expected START%..END%"))?;
    let (a, b) = (percent(a)?, percent(b)?);
    if a >= b {
        return Err(format!("{part:?}: the outage must end after it starts"));
    }
    Ok((a, b))
}

fn percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p / 100.0),
        _ => Err(format!(
            "{text:?} is not a percentage of the demo window (0%–100%)"
        )),
    }
}

fn count_of(part: &str, text: &str) -> Result<usize, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{part:?}: {text:?} is not a count"))
}

/// The target name of the tenants' forward in a fault (`no-permissions=forward:2`).
pub const FORWARD: &str = "forward";

/// Faults resolved to times and orders, consulted by the engine and the local adapters.
#[derive(Debug, Default)]
pub struct Faults {
    /// The mailer fails for sends in `[start, end)`.
    pub mail_outage: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The audit trail fails for writes in `[start, end)`.
    pub audit_outage: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// `(target, order id)` → the delivery error, on every attempt.
    pub delivery: Vec<(String, String, DeliveryError)>,
    /// Refunds left to time out; each picks the next order refunded.
    pub gateway_timeouts_left: Mutex<usize>,
    /// Orders whose refund times out on every attempt.
    pub gateway_failing: Mutex<HashSet<String>>,
}

impl Faults {
    /// The delivery error for `target` and the event's order, if one is injected.
    pub fn delivery_error(&self, target: &str, order_id: Option<&str>) -> Option<DeliveryError> {
        let order_id = order_id?;
        self.delivery
            .iter()
            .find(|(t, o, _)| t == target && o == order_id)
            .map(|(_, _, code)| *code)
    }

    /// Whether the mailer is down at `at`.
    pub fn mail_down(&self, at: DateTime<Utc>) -> bool {
        self.mail_outage
            .is_some_and(|(start, end)| start <= at && at < end)
    }

    /// Whether the audit trail is down at `at`.
    pub fn audit_down(&self, at: DateTime<Utc>) -> bool {
        self.audit_outage
            .is_some_and(|(start, end)| start <= at && at < end)
    }

    /// Whether the gateway times out for this order's refund.
    pub fn gateway_times_out(&self, order_id: &str) -> bool {
        let mut failing = self
            .gateway_failing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if failing.contains(order_id) {
            return true;
        }
        let mut left = self
            .gateway_timeouts_left
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *left > 0 {
            *left -= 1;
            failing.insert(order_id.to_owned());
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_form_parses_and_bad_input_is_explained() {
        let spec = FaultSpec::parse(
            "mail-outage=10%..20%, throttle=analytics:3, gateway-timeout=2, poison=0",
            0,
        )
        .unwrap();
        assert_eq!(spec.mail_outage, Some((0.1, 0.2)));
        assert_eq!(
            spec.delivery,
            vec![("analytics".to_owned(), DeliveryError::Throttling, 3)]
        );
        assert_eq!(spec.gateway_timeouts, 2);
        assert_eq!(FaultSpec::parse("none", 0).unwrap(), FaultSpec::default());
        assert_eq!(
            FaultSpec::parse("default", 0).unwrap(),
            FaultSpec::default_profile()
        );
        assert!(
            FaultSpec::parse("mail-outage=50%..10%", 0)
                .unwrap_err()
                .contains("end after")
        );
        assert!(
            FaultSpec::parse("meteor=1", 0)
                .unwrap_err()
                .contains("unknown fault")
        );
        assert!(
            FaultSpec::parse("poison=many", 0)
                .unwrap_err()
                .contains("not a count")
        );
    }

    #[test]
    fn a_forward_fault_needs_tenants_and_the_default_breaks_one_forward_per_tenant() {
        assert!(
            FaultSpec::parse("no-permissions=forward:1", 0)
                .unwrap_err()
                .contains("--tenants")
        );
        let spec = FaultSpec::parse("no-permissions=forward:3", 2).unwrap();
        assert_eq!(
            spec.delivery,
            vec![("forward".to_owned(), DeliveryError::NoPermissions, 3)]
        );
        let default = FaultSpec::parse("default", 2).unwrap();
        assert!(default.delivery.contains(&(
            "forward".to_owned(),
            DeliveryError::NoPermissions,
            2
        )));
        assert_eq!(
            FaultSpec::parse("default", 0).unwrap(),
            FaultSpec::default_profile()
        );
    }
}
