//! Validation of an order request before the producer publishes it.
//!
//! The request is walked as raw JSON so that every problem — a wrong type as much as a wrong
//! value — is reported at once, each with the path of the field it concerns, e.g.
//! `items[1].quantity`.

use std::collections::HashSet;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::events::{Address, Channel, Customer, LineItem, Payment, PaymentMethod, PaymentStatus};

/// The most lines one order may have: inventory reserves them in one DynamoDB transaction
/// (100 items at most, one of which is the reservation marker).
pub const MAX_ITEMS: usize = 50;
/// The most of one SKU one line may order.
pub const MAX_QUANTITY: u64 = 10_000;

/// One problem with one field of an order request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `items[0].price`.
    pub field: String,
    /// Stable machine code: `required`, `invalid_type`, `invalid_value`, `out_of_range`,
    /// `mismatch`, `duplicate`, `invalid_json`.
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

/// An order request that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOrder {
    /// Client-chosen order id, if any.
    pub order_id: Option<String>,
    /// Who ordered.
    pub customer: Customer,
    /// The lines.
    pub items: Vec<LineItem>,
    /// ISO 4217 code.
    pub currency: String,
    /// Equal to Σ quantity × price.
    pub total_amount: Decimal,
    /// Sales channel.
    pub channel: Channel,
    /// Payment.
    pub payment: Payment,
}

struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn fail(&mut self, field: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            code,
            message: message.into(),
        });
    }

    fn required<'v>(&mut self, obj: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
        let key = path.rsplit('.').next().unwrap_or(path);
        match obj.get(key) {
            None | Some(Value::Null) => {
                self.fail(path, "required", "is required");
                None
            }
            Some(v) => Some(v),
        }
    }

    fn string(&mut self, value: &Value, path: &str, max_len: usize) -> Option<String> {
        match value {
            Value::String(s) if s.trim().is_empty() => {
                self.fail(path, "invalid_value", "must not be empty");
                None
            }
            Value::String(s) if s.chars().count() > max_len => {
                self.fail(
                    path,
                    "out_of_range",
                    format!("must be at most {max_len} characters"),
                );
                None
            }
            Value::String(s) => Some(s.clone()),
            _ => {
                self.fail(path, "invalid_type", "must be a string");
                None
            }
        }
    }

    fn required_string(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        max: usize,
    ) -> Option<String> {
        self.required(obj, path)
            .and_then(|v| self.string(v, path, max))
    }

    fn optional_string(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        max: usize,
    ) -> Option<String> {
        let key = path.rsplit('.').next().unwrap_or(path);
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => self.string(v, path, max),
        }
    }

    fn object<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v Map<String, Value>> {
        let obj = value.as_object();
        if obj.is_none() {
            self.fail(path, "invalid_type", "must be an object");
        }
        obj
    }

    fn decimal(&mut self, value: &Value, path: &str) -> Option<Decimal> {
        let text = match value {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => {
                self.fail(path, "invalid_type", "must be a number");
                return None;
            }
        };
        match Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)) {
            Ok(d) if d.is_sign_negative() && !d.is_zero() => {
                self.fail(path, "out_of_range", "must not be negative");
                None
            }
            Ok(d) => Some(d.normalize()),
            Err(_) => {
                self.fail(path, "invalid_type", "must be a decimal number");
                None
            }
        }
    }

    fn one_of(&mut self, value: Option<String>, path: &str, allowed: &[&str]) -> Option<String> {
        let value = value?;
        if allowed.contains(&value.as_str()) {
            Some(value)
        } else {
            self.fail(
                path,
                "invalid_value",
                format!("must be one of {}", allowed.join(", ")),
            );
            None
        }
    }
}

fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

fn is_id(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Validate an order request body (JSON bytes), returning every problem found.
pub fn validate_order_request(body: &[u8]) -> Result<ValidOrder, Vec<FieldError>> {
    let mut c = Checker { errors: Vec::new() };
    let root: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            c.fail("", "invalid_json", format!("body is not valid JSON: {e}"));
            return Err(c.errors);
        }
    };
    let Some(root) = c.object(&root, "") else {
        return Err(c.errors);
    };

    let order_id = c.optional_string(root, "orderId", 64);
    if let Some(id) = &order_id
        && !is_id(id)
    {
        c.fail(
            "orderId",
            "invalid_value",
            "may contain only letters, digits, '-' and '_'",
        );
    }

    let customer = validate_customer(&mut c, root);

    let is_refund_eligible = match root.get("isRefundEligible") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            c.fail("isRefundEligible", "invalid_type", "must be true or false");
            true
        }
    };

    let currency = c.required_string(root, "currency", 3).and_then(|code| {
        if let Some(currency) = iso_currency::Currency::from_code(&code) {
            Some((code, currency.exponent().unwrap_or(0)))
        } else {
            c.fail(
                "currency",
                "invalid_value",
                format!("{code:?} is not an ISO 4217 currency code"),
            );
            None
        }
    });

    let items = validate_items(&mut c, root, currency.as_ref().map(|(_, exp)| *exp));

    let total_amount = c
        .required(root, "totalAmount")
        .and_then(|v| c.decimal(v, "totalAmount"));
    if let (Some(total), Some(items)) = (total_amount, &items) {
        let expected: Decimal = items
            .iter()
            .map(|i| i.price * Decimal::from(i.quantity))
            .sum::<Decimal>()
            .normalize();
        if total != expected {
            c.fail(
                "totalAmount",
                "mismatch",
                format!("is {total} but the items add up to {expected}"),
            );
        }
    }

    let channel = c.required_string(root, "channel", 32);
    let channel = c.one_of(channel, "channel", &Channel::KNOWN).map(Channel);

    let payment = validate_payment(&mut c, root);

    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    // Every `None` below has pushed an error, so this is reached only with all fields present.
    let (
        Some(mut customer),
        Some(items),
        Some((currency, _)),
        Some(total_amount),
        Some(channel),
        Some(payment),
    ) = (customer, items, currency, total_amount, channel, payment)
    else {
        unreachable!("a missing field always records an error")
    };
    customer.is_refund_eligible = Some(is_refund_eligible);
    Ok(ValidOrder {
        order_id,
        customer,
        items,
        currency,
        total_amount,
        channel,
        payment,
    })
}

fn validate_customer(c: &mut Checker, root: &Map<String, Value>) -> Option<Customer> {
    let customer = c
        .required(root, "customer")
        .and_then(|v| c.object(v, "customer"));

    customer.and_then(|obj| {
        let user_id = c.required_string(obj, "customer.userId", 128);
        let email = c.optional_string(obj, "customer.email", 254);
        if let Some(email) = &email
            && !is_plausible_email(email)
        {
            c.fail("customer.email", "invalid_value", "is not an email address");
        }
        let name = c.optional_string(obj, "customer.name", 200);
        let shipping_address = match obj.get("shippingAddress") {
            None | Some(Value::Null) => None,
            Some(v) => match serde_json::from_value::<Address>(v.clone()) {
                Ok(a) => Some(a),
                Err(e) => {
                    c.fail("customer.shippingAddress", "invalid_value", e.to_string());
                    None
                }
            },
        };
        Some(Customer {
            user_id: user_id?,
            email,
            name,
            shipping_address,
            is_refund_eligible: None,
        })
    })
}

fn validate_payment(c: &mut Checker, root: &Map<String, Value>) -> Option<Payment> {
    let payment = c
        .required(root, "payment")
        .and_then(|v| c.object(v, "payment"));

    payment.and_then(|obj| {
        let method = c.required_string(obj, "payment.method", 32);
        let method = c.one_of(method, "payment.method", &PaymentMethod::NAMES);
        let status = c.required_string(obj, "payment.status", 32);
        let status = c.one_of(status, "payment.status", &PaymentStatus::NAMES);
        Some(Payment {
            method: serde_json::from_value(Value::String(method?)).ok()?,
            status: serde_json::from_value(Value::String(status?)).ok()?,
        })
    })
}

fn validate_items(
    c: &mut Checker,
    root: &Map<String, Value>,
    exponent: Option<u16>,
) -> Option<Vec<LineItem>> {
    let items = c.required(root, "items")?;
    let Some(items) = items.as_array() else {
        c.fail("items", "invalid_type", "must be an array");
        return None;
    };
    if items.is_empty() {
        c.fail("items", "invalid_value", "must contain at least one item");
        return None;
    }
    if items.len() > MAX_ITEMS {
        c.fail(
            "items",
            "out_of_range",
            format!("must contain at most {MAX_ITEMS} items"),
        );
        return None;
    }
    let mut seen = HashSet::new();
    let mut lines = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("items[{i}]");
        let Some(obj) = c.object(item, &path) else {
            continue;
        };
        let sku = c.required_string(obj, &format!("{path}.sku"), 64);
        if let Some(sku) = &sku
            && !seen.insert(sku.clone())
        {
            c.fail(
                format!("{path}.sku"),
                "duplicate",
                format!("{sku:?} appears on more than one line"),
            );
        }
        let qpath = format!("{path}.quantity");
        let quantity = c.required(obj, &qpath).and_then(|v| match v.as_u64() {
            Some(q) if (1..=MAX_QUANTITY).contains(&q) => u32::try_from(q).ok(),
            Some(_) => {
                c.fail(
                    &qpath,
                    "out_of_range",
                    format!("must be between 1 and {MAX_QUANTITY}"),
                );
                None
            }
            None if v.as_i64().is_some() => {
                c.fail(
                    &qpath,
                    "out_of_range",
                    format!("must be between 1 and {MAX_QUANTITY}"),
                );
                None
            }
            None => {
                c.fail(&qpath, "invalid_type", "must be a whole number");
                None
            }
        });
        let ppath = format!("{path}.price");
        let price = c.required(obj, &ppath).and_then(|v| c.decimal(v, &ppath));
        if let (Some(price), Some(exp)) = (price, exponent)
            && price.scale() > u32::from(exp)
        {
            c.fail(
                &ppath,
                "invalid_value",
                format!("has more than {exp} decimal places for its currency"),
            );
        }
        if let (Some(sku), Some(quantity), Some(price)) = (sku, quantity, price) {
            lines.push(LineItem {
                sku,
                quantity,
                price,
            });
        }
    }
    (lines.len() == items.len()).then_some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "orderId": "ord-123",
            "customer": {"userId": "usr-42", "email": "ada@example.com"},
            "items": [{"sku": "sku-abc", "quantity": 2, "price": 199.99},
                      {"sku": "sku-def", "quantity": 1, "price": 200.01}],
            "currency": "USD",
            "totalAmount": 599.99,
            "channel": "WEB",
            "payment": {"method": "CARD", "status": "PAID"}
        })
    }

    fn errors(body: &Value) -> Vec<(String, &'static str)> {
        validate_order_request(body.to_string().as_bytes())
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn a_valid_order_passes_with_exact_amounts() {
        let order = validate_order_request(valid().to_string().as_bytes()).unwrap();
        assert_eq!(order.total_amount, Decimal::from_str("599.99").unwrap());
        assert_eq!(order.items[0].price, Decimal::from_str("199.99").unwrap());
        assert_eq!(order.customer.is_refund_eligible, Some(true));
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut body = valid();
        body["items"][0]["quantity"] = json!(0);
        body["items"][1]["price"] = json!(-1);
        body["currency"] = json!("XYZ");
        body["payment"]["status"] = json!("MAYBE");
        body["customer"]["email"] = json!("not-an-email");
        let errs = errors(&body);
        assert!(
            errs.contains(&("items[0].quantity".into(), "out_of_range")),
            "{errs:?}"
        );
        assert!(
            errs.contains(&("items[1].price".into(), "out_of_range")),
            "{errs:?}"
        );
        assert!(
            errs.contains(&("currency".into(), "invalid_value")),
            "{errs:?}"
        );
        assert!(
            errs.contains(&("payment.status".into(), "invalid_value")),
            "{errs:?}"
        );
        assert!(
            errs.contains(&("customer.email".into(), "invalid_value")),
            "{errs:?}"
        );
    }

    #[test]
    fn empty_items_are_rejected() {
        let mut body = valid();
        body["items"] = json!([]);
        assert!(errors(&body).contains(&("items".into(), "invalid_value")));
    }

    #[test]
    fn a_total_that_does_not_add_up_is_a_mismatch() {
        let mut body = valid();
        body["totalAmount"] = json!(600);
        assert_eq!(errors(&body), vec![("totalAmount".into(), "mismatch")]);
    }

    #[test]
    fn prices_finer_than_the_currency_allows_are_rejected() {
        let mut body = valid();
        body["currency"] = json!("JPY");
        body["items"] = json!([{"sku": "a", "quantity": 1, "price": 10.5}]);
        body["totalAmount"] = json!(10.5);
        assert!(errors(&body).contains(&("items[0].price".into(), "invalid_value")));
    }

    #[test]
    fn wrong_types_and_missing_fields_are_field_errors() {
        let body = json!({"items": [{"sku": 7, "quantity": "two"}], "payment": "cash"});
        let errs = errors(&body);
        for expected in [
            ("customer", "required"),
            ("currency", "required"),
            ("totalAmount", "required"),
            ("channel", "required"),
            ("payment", "invalid_type"),
            ("items[0].sku", "invalid_type"),
            ("items[0].quantity", "invalid_type"),
            ("items[0].price", "required"),
        ] {
            assert!(
                errs.contains(&(expected.0.to_owned(), expected.1)),
                "{expected:?} in {errs:?}"
            );
        }
    }

    #[test]
    fn duplicate_skus_and_bad_json_are_rejected() {
        let mut body = valid();
        body["items"][1]["sku"] = json!("sku-abc");
        assert!(errors(&body).contains(&("items[1].sku".into(), "duplicate")));
        let errs = validate_order_request(b"{not json").unwrap_err();
        assert_eq!(errs[0].code, "invalid_json");
    }
}
