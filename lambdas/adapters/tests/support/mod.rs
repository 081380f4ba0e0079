//! What every adapter test needs: the moto endpoint, one SDK config pointing at it, and
//! uniquely named resources so that tests run in parallel against one moto server.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

/// The variable `scripts/test` sets to the moto server it started.
const ENDPOINT_VAR: &str = "ECOMM_TEST_AWS_ENDPOINT";

/// The AWS endpoint of the tests. Without it the tests fail: they must never pass by not
/// running.
pub(crate) fn endpoint() -> String {
    match std::env::var(ENDPOINT_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{ENDPOINT_VAR} is not set. The adapter tests run against moto on loopback: run \
             ./scripts/test (it installs and starts moto), or start `moto_server -H 127.0.0.1 \
             -p PORT` yourself and set {ENDPOINT_VAR}=http://127.0.0.1:PORT"
        ),
    }
}

/// The SDK config of the tests: moto's endpoint, static test credentials, `us-east-1`.
pub(crate) async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region("us-east-1")
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await
}

/// A resource name no other test uses, e.g. `stock-3f2a…`.
pub(crate) fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Create an on-demand table keyed by string attributes: a partition key and, optionally, a
/// sort key.
pub(crate) async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    partition_key: &str,
    sort_key: Option<&str>,
) {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for (attribute, key_type) in
        std::iter::once((partition_key, KeyType::Hash)).chain(sort_key.map(|k| (k, KeyType::Range)))
    {
        request = request
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attribute)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute definition is complete"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(attribute)
                    .key_type(key_type)
                    .build()
                    .expect("key schema element is complete"),
            );
    }
    request.send().await.unwrap_or_else(|e| {
        panic!(
            "create table {name}: {}",
            aws_sdk_dynamodb::error::DisplayErrorContext(e)
        )
    });
}
