//! Many accounts at once: the same bus looked at in each account of `--accounts`, through a
//! session of `--account-role` assumed in each. An account whose role cannot be assumed, or
//! whose bus cannot be read, stays in the list with its error: the others still work.
//!
//! A consumer is then named `NAME@ACCOUNT` (`inventory@444455556666`), and every command acts
//! with the session of the account that owns that consumer's DLQ.

use futures::StreamExt as _;

use super::BackendError;
use super::aws::AwsBackend;
use crate::cli::AwsArgs;

/// Accounts connected at once: enough to hide STS's latency, few enough not to be throttled.
const AT_ONCE: usize = 8;

/// One account, connected or not.
#[derive(Debug)]
pub(crate) struct Member {
    /// Its id.
    pub(crate) account: String,
    /// Its backend, or why there is none.
    pub(crate) backend: Result<AwsBackend, BackendError>,
}

/// The role to assume in `account`: `template` with `{account}` replaced, or a role name.
pub(crate) fn role_arn(template: &str, account: &str) -> String {
    if template.contains("{account}") {
        template.replace("{account}", account)
    } else if template.starts_with("arn:") {
        template.to_owned()
    } else {
        format!("arn:aws:iam::{account}:role/{template}")
    }
}

/// Connect to every account of `accounts`, `AT_ONCE` at a time, in the order given.
pub(crate) async fn connect(
    args: &AwsArgs,
    bus: &str,
    accounts: &[String],
    role: &str,
) -> Vec<Member> {
    futures::stream::iter(accounts)
        .map(|account| async move {
            let arn = role_arn(role, account);
            Member {
                account: account.clone(),
                backend: AwsBackend::connect_as(args, bus, Some(&arn)).await,
            }
        })
        .buffered(AT_ONCE)
        .collect()
        .await
}

/// `NAME@ACCOUNT` split in two; a name without `@` has no account.
pub(crate) fn split(target: &str) -> (&str, Option<&str>) {
    match target.rsplit_once('@') {
        Some((name, account)) => (name, Some(account)),
        None => (target, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_is_a_name_an_arn_or_a_template_of_one() {
        assert_eq!(
            role_arn("ecomm-oncall", "444455556666"),
            "arn:aws:iam::444455556666:role/ecomm-oncall"
        );
        assert_eq!(
            role_arn("arn:aws:iam::{account}:role/team/oncall", "111122223333"),
            "arn:aws:iam::111122223333:role/team/oncall"
        );
        assert_eq!(
            role_arn("arn:aws:iam::111122223333:role/one", "444455556666"),
            "arn:aws:iam::111122223333:role/one",
            "an ARN without {{account}} is used as it is"
        );
    }

    #[test]
    fn a_target_names_its_account_after_the_last_at() {
        assert_eq!(
            split("inventory@444455556666"),
            ("inventory", Some("444455556666"))
        );
        assert_eq!(split("inventory"), ("inventory", None));
    }
}
