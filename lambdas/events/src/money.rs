//! Money on the wire.
//!
//! Amounts are `rust_decimal::Decimal` in code, never `f64`. On the wire they are JSON numbers,
//! as in the original event design (`"totalAmount": 599.99`). Reading accepts a number or a
//! string and goes through the shortest decimal representation, so `599.99` is exactly
//! `599.99`; writing prints the decimal's digits as a JSON number.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serializer};

/// Serialize a decimal amount as a JSON number.
pub fn serialize<S: Serializer>(amount: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    // Whole amounts print as integers (`10`, not `10.0`), as a person would write them.
    if amount.fract().is_zero()
        && let Ok(whole) = i64::try_from(amount.trunc())
    {
        return serializer.serialize_i64(whole);
    }
    rust_decimal::serde::float::serialize(amount, serializer)
}

/// Deserialize a decimal amount from a JSON number or string.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    <Decimal as Deserialize>::deserialize(deserializer).map(|d| d.normalize())
}

/// The amount in the currency's minor units (cents for USD, yen for JPY), as payment gateways
/// take it; `None` for an unknown currency or an amount finer than its minor unit.
pub fn to_minor_units(amount: Decimal, currency: &str) -> Option<i64> {
    let exponent = iso_currency::Currency::from_code(currency)?
        .exponent()
        .unwrap_or(0);
    let scaled = amount * Decimal::from(10_i64.pow(u32::from(exponent)));
    if !scaled.fract().is_zero() {
        return None;
    }
    i64::try_from(scaled.trunc()).ok()
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Serialize};
    use std::str::FromStr;

    #[derive(Serialize, Deserialize)]
    struct Price {
        #[serde(with = "super")]
        amount: Decimal,
    }

    #[test]
    fn json_numbers_are_read_exactly() {
        let p: Price = serde_json::from_str(r#"{"amount": 599.99}"#).unwrap();
        assert_eq!(p.amount, Decimal::from_str("599.99").unwrap());
        let p: Price = serde_json::from_str(r#"{"amount": "0.1"}"#).unwrap();
        assert_eq!(
            p.amount * Decimal::from(3),
            Decimal::from_str("0.3").unwrap()
        );
    }

    #[test]
    fn minor_units_follow_the_currency() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(super::to_minor_units(d("599.99"), "USD"), Some(59_999));
        assert_eq!(super::to_minor_units(d("1200"), "JPY"), Some(1200));
        assert_eq!(super::to_minor_units(d("1.5"), "JPY"), None);
        assert_eq!(super::to_minor_units(d("1"), "XXQ"), None);
    }

    #[test]
    fn amounts_are_written_as_json_numbers() {
        let p = Price {
            amount: Decimal::from_str("199.99").unwrap(),
        };
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"amount":199.99}"#);
        let p = Price {
            amount: Decimal::from_str("10.00").unwrap(),
        };
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"amount":10}"#);
    }
}
