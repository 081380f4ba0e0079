//! The moto server `scripts/test` starts on loopback: its endpoint, the SDK config of the
//! checks, unique names, moto's own configuration API, and the IAM role and Lambda functions
//! that its `CreateFunction` needs.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use aws_sdk_sqs::config::Credentials;
use tokio::sync::OnceCell;

/// The variable `scripts/test` sets to the moto server it started.
const ENDPOINT_VAR: &str = "ECOMM_TEST_AWS_ENDPOINT";

/// The moto endpoint. Without it the tests fail: they must never pass by not running.
pub(crate) fn endpoint() -> String {
    match std::env::var(ENDPOINT_VAR) {
        Ok(url) if !url.trim().is_empty() => url.trim_end_matches('/').to_owned(),
        _ => panic!(
            "{ENDPOINT_VAR} is not set. The `--env aws` CLI tests run against moto on loopback: \
             run ./scripts/test --quick -p ecomm --test cli (it installs and starts moto), or \
             start `moto_server -H 127.0.0.1 -p PORT` yourself and set \
             {ENDPOINT_VAR}=http://127.0.0.1:PORT"
        ),
    }
}

/// A name no other test uses, short enough for every AWS name limit.
pub(crate) fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .subsec_nanos();
    format!(
        "{prefix}-{:x}{nanos:x}{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The SDK config of the checks: moto, static test credentials, `us-east-1`.
pub(crate) async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region("us-east-1")
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await
}

/// Make moto's `Invoke` echo its payload instead of needing Docker (a server-wide switch of
/// moto's own API).
pub(crate) async fn lambda_without_docker(endpoint: &str) {
    let response = reqwest::Client::new()
        .post(format!("{endpoint}/moto-api/config"))
        .json(&serde_json::json!({"lambda": {"use_docker": false}}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("moto at {endpoint} does not answer: {e}"));
    let status = response.status();
    assert!(
        status.is_success(),
        "moto-api/config: {status} {}",
        response.text().await.unwrap_or_default()
    );
}

/// An execution role for the test functions (moto's `CreateFunction` wants one that exists),
/// created once per test process.
pub(crate) async fn execution_role(endpoint: &str) -> String {
    static ROLE: OnceCell<String> = OnceCell::const_new();
    ROLE.get_or_init(|| async { create_role(&sdk_config(endpoint).await, "ecomm-cli-test").await })
        .await
        .clone()
}

/// Create an IAM role named after `prefix` in the account of `config`: its ARN.
pub(crate) async fn create_role(config: &SdkConfig, prefix: &str) -> String {
    let iam = aws_sdk_iam::Client::new(config);
    let trust = r#"{"Version":"2012-10-17","Statement":[]}"#;
    iam.create_role()
        .role_name(unique(prefix))
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "iam:CreateRole: {}",
                aws_sdk_iam::error::DisplayErrorContext(e)
            )
        })
        .role
        .expect("CreateRole returns the role")
        .arn
}

/// The SDK config of the checks in another account: a session of a role in `account`, as
/// moto hands out for any role ARN (its multi-account support).
pub(crate) async fn sdk_config_in(endpoint: &str, account: &str) -> SdkConfig {
    let sts = aws_sdk_sts::Client::new(&sdk_config(endpoint).await);
    let session = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/ecomm-test-setup"))
        .role_session_name("ecomm-test-setup")
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "sts:AssumeRole: {}",
                aws_sdk_sts::error::DisplayErrorContext(e)
            )
        })
        .credentials
        .expect("AssumeRole returns credentials");
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region("us-east-1")
        .credentials_provider(Credentials::new(
            session.access_key_id,
            session.secret_access_key,
            Some(session.session_token),
            None,
            "assumed",
        ))
        .load()
        .await
}

/// The smallest valid zip archive (empty): what `CreateFunction` gets as code.
const EMPTY_ZIP: [u8; 22] = [
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// Create a test function (custom runtime, empty code) and return its ARN.
pub(crate) async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    role: &str,
) -> String {
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .role(role)
        .handler("bootstrap")
        .code(
            FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(EMPTY_ZIP))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "create function {name}: {}",
                aws_sdk_lambda::error::DisplayErrorContext(e)
            )
        })
        .function_arn
        .expect("a function ARN")
}
