//! JSON Schemas of the contract, published under `docs/events/`.

use schemars::JsonSchema;

use crate::events::{
    Detail, InventoryOutOfStock, InventoryReserved, OrderCreated, RefundCompleted, RefundFailed,
};
use crate::log::LogRecord;

fn pretty<T: JsonSchema>(title: &str, description: &str) -> String {
    let mut schema = schemars::schema_for!(T);
    schema.insert("title".into(), title.into());
    schema.insert("description".into(), description.into());
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas always serialize");
    text.push('\n');
    text
}

fn detail<T: Detail + JsonSchema>() -> (String, String) {
    let majors: Vec<String> = T::SUPPORTED_MAJORS
        .iter()
        .map(|m| format!("{m}.x"))
        .collect();
    let description = format!(
        "detail of a `{}` event from `{}`; writers produce {}, readers accept {}",
        T::DETAIL_TYPE,
        T::SOURCE,
        T::CURRENT_VERSION,
        majors.join(", ")
    );
    (
        format!("{}.schema.json", T::DETAIL_TYPE),
        pretty::<T>(T::DETAIL_TYPE, &description),
    )
}

/// Every schema file: `(file name, contents)`.
pub fn all() -> Vec<(String, String)> {
    vec![
        detail::<OrderCreated>(),
        detail::<InventoryReserved>(),
        detail::<InventoryOutOfStock>(),
        detail::<RefundCompleted>(),
        detail::<RefundFailed>(),
        (
            "LogRecord.schema.json".to_owned(),
            pretty::<LogRecord>("LogRecord", "one structured log line of an ecomm function"),
        ),
    ]
}
