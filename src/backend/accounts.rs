//! Many accounts at once: the same bus looked at in each account of `--accounts`, through a
//! session of `--account-role` assumed in each. An account whose role cannot be assumed, or
//! whose bus cannot be read, stays in the list with its error: the others still work.
//!
//! A consumer is then named `NAME@ACCOUNT` (`inventory@444455556666`), and every command acts
//! with the session of the account that owns that consumer's DLQ.

use futures::StreamExt as _;

use super::aws::AwsBackend;
use super::{Backend, BackendError};
use crate::cli::AwsArgs;
use crate::config::Config;

/// Accounts connected at once: enough to hide STS's latency, few enough not to be throttled.
const AT_ONCE: usize = 8;

/// One account, connected or not.
pub(crate) struct Member {
    /// Its id.
    pub(crate) account: String,
    /// What the config file (or the local stack) calls it.
    pub(crate) name: Option<String>,
    /// Its backend, or why there is none.
    pub(crate) backend: Result<Box<dyn Backend>, BackendError>,
}

/// Several accounts to act in: every account of `--accounts` on AWS, or the local stack's
/// central account and its tenants'.
pub(crate) struct Accounts {
    /// Where the answer comes from.
    pub(crate) banner: String,
    /// The accounts, in order.
    pub(crate) members: Vec<Member>,
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

/// Which accounts, and the role to assume in each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Which accounts.
    pub(crate) which: Which,
    /// The role: a name, an ARN, or an ARN template with `{account}`.
    pub(crate) role: String,
}

/// Where the accounts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Which {
    /// `--accounts` (ids, after the config file's names and sets).
    Listed(Vec<String>),
    /// `--all-accounts`: the organization's active accounts.
    Organization,
}

/// Connect to every account of `plan`, `AT_ONCE` at a time, in the order given (the
/// organization's: by id). Each uses its own bus when the config file gives it one.
pub(crate) async fn connect(
    args: &AwsArgs,
    bus: &str,
    plan: &Plan,
    config: &Config,
) -> Result<Vec<Member>, BackendError> {
    let accounts = match &plan.which {
        Which::Listed(ids) => ids.clone(),
        Which::Organization => organization(args).await?,
    };
    Ok(futures::stream::iter(accounts)
        .map(|account| async move {
            let arn = role_arn(&plan.role, &account);
            let bus = config.bus_of(&account, bus);
            Member {
                backend: AwsBackend::connect(args, bus, Some(&arn), &config.names)
                    .await
                    .map(|b| Box::new(b) as Box<dyn Backend>),
                name: config.account_name(&account).map(str::to_owned),
                account,
            }
        })
        .buffered(AT_ONCE)
        .collect()
        .await)
}

/// The organization's active accounts, by id (`organizations:ListAccounts`, which only the
/// management account and a delegated administrator may call).
async fn organization(args: &AwsArgs) -> Result<Vec<String>, BackendError> {
    let sdk = AwsBackend::sdk_config(args).await;
    let client = aws_sdk_organizations::Client::new(&sdk);
    let mut pages = client.list_accounts().into_paginator().send();
    let mut ids = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            BackendError::Other(format!(
                "cannot list the organization's accounts (organizations:ListAccounts): {}\n  fix: run from the management account or a delegated administrator, or name the accounts with --accounts",
                aws_sdk_organizations::error::DisplayErrorContext(e)
            ))
        })?;
        ids.extend(
            page.accounts()
                .iter()
                .filter(|a| {
                    a.state() == Some(&aws_sdk_organizations::types::AccountState::Active)
                        || (a.state().is_none()
                            && a.status()
                                == Some(&aws_sdk_organizations::types::AccountStatus::Active))
                })
                .filter_map(|a| a.id().map(str::to_owned)),
        );
    }
    ids.sort();
    Ok(ids)
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
