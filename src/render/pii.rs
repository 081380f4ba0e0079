//! Masking customer data (emails, names, addresses) in human output, unless `--show-pii`.

use serde_json::Value;

/// Mask customer emails, names and addresses in a JSON value.
fn mask_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match key.as_str() {
                    "email" => {
                        if let Some(email) = v.as_str() {
                            *v = Value::String(mask_email(email));
                        }
                    }
                    "name" | "shippingAddress" | "line1" | "postalCode" => {
                        *v = Value::String("***".to_owned());
                    }
                    _ => mask_json(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        Value::String(text) => {
            // Bodies wrapped as JSON strings (an invocation record's payload, say).
            if let Ok(mut inner) = serde_json::from_str::<Value>(text)
                && inner.is_object()
            {
                mask_json(&mut inner);
                *text = inner.to_string();
            }
        }
        _ => {}
    }
}

/// `ada.001@example.com` → `a***@example.com`.
fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".to_owned(),
    }
}

/// Mask PII in a raw body: JSON is masked field by field; other text has its email-like
/// words masked.
pub(super) fn mask_body(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(mut value) => {
            mask_json(&mut value);
            value.to_string()
        }
        Err(_) => mask_text(body),
    }
}

/// Mask the email-like words of a text (an error message, an attribute).
pub(super) fn mask_text(text: &str) -> String {
    text.split(' ')
        .map(|w| {
            if w.contains('@') {
                mask_email(w)
            } else {
                w.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A message body as people read it: masked unless `show_pii`, pretty-printed when JSON.
pub(super) fn pretty_body(body: &str, show_pii: bool) -> String {
    let body = if show_pii {
        body.to_owned()
    } else {
        mask_body(body)
    };
    serde_json::from_str::<serde_json::Value>(&body)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pii_is_masked_in_nested_json_and_in_text() {
        let body = r#"{"detail":{"customer":{"userId":"u1","email":"ada.001@example.com","name":"Ada","shippingAddress":{"line1":"1 St"}}}}"#;
        let masked = mask_body(body);
        assert!(!masked.contains("ada.001"), "{masked}");
        assert!(masked.contains("a***@example.com"), "{masked}");
        assert!(!masked.contains("Ada"), "{masked}");
        assert!(masked.contains("\"userId\":\"u1\""), "ids stay: {masked}");
        assert_eq!(
            mask_body("mail ada@example.com failed"),
            "mail a***@example.com failed"
        );
    }
}
