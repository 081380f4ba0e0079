//! The commands across accounts (`--accounts`): `dlq ls` fans out to every account at once,
//! and a command on one consumer runs, unchanged, in the account that owns it.

use futures::StreamExt as _;

use crate::UsageError;
use crate::backend::accounts::split;
use crate::backend::{Backend, BackendError};
use crate::report::dlq::{DlqList, DlqRow};

/// Accounts read at once.
const AT_ONCE: usize = 8;

/// One account as a command sees it: its backend, or why it has none.
pub(crate) struct Account<'a> {
    /// Its id.
    pub(crate) id: &'a str,
    /// Its name in the config file.
    pub(crate) name: Option<&'a str>,
    /// Its backend.
    pub(crate) backend: Result<&'a dyn Backend, &'a BackendError>,
}

/// `dlq ls` in every account, `AT_ONCE` at a time, in the order given. Each consumer is
/// `NAME@ACCOUNT`; an account that cannot be read is one row `*@ACCOUNT` saying why.
pub(crate) async fn ls(accounts: &[Account<'_>]) -> DlqList {
    let lists: Vec<Vec<DlqRow>> = futures::stream::iter(accounts)
        .map(|account| async move {
            let listed = match account.backend {
                Ok(backend) => super::dlq::ls(backend).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match listed {
                Ok(list) => list
                    .rows
                    .into_iter()
                    .map(|row| DlqRow {
                        target: format!("{}@{}", row.target, account.id),
                        account: Some(account.id.to_owned()),
                        account_name: account.name.map(str::to_owned),
                        ..row
                    })
                    .collect(),
                Err(reason) => vec![unreachable(account, reason)],
            }
        })
        .buffered(AT_ONCE)
        .collect()
        .await;
    DlqList {
        rows: lists.into_iter().flatten().collect(),
    }
}

fn unreachable(account: &Account<'_>, reason: String) -> DlqRow {
    let first = reason.lines().next().unwrap_or_default().to_owned();
    DlqRow {
        target: format!("*@{}", account.id),
        account: Some(account.id.to_owned()),
        account_name: account.name.map(str::to_owned),
        unreachable: Some(reason),
        function: None,
        dlq: None,
        visible: None,
        in_flight: None,
        oldest_sent: None,
        delivery_failures_wired: false,
        function_errors_wired: None,
        reader: None,
        findings: vec![format!("account not read: {first}")],
    }
}

/// The account that owns consumer `target` (`NAME@ACCOUNT`, or a `NAME` only one account
/// has), and the consumer's name there.
pub(crate) async fn locate<'a>(
    accounts: &'a [Account<'a>],
    target: &str,
) -> anyhow::Result<(&'a dyn Backend, String)> {
    let (name, account) = split(target);
    if let Some(id) = account {
        let Some(found) = accounts.iter().find(|a| a.id == id || a.name == Some(id)) else {
            return Err(UsageError(format!(
                "account {id} is not one of --accounts ({})",
                ids(accounts.iter().map(|a| a.id))
            ))
            .into());
        };
        return Ok((found.backend.map_err(Clone::clone)?, name.to_owned()));
    }
    // No account named: the one account that has it, else say which to choose from.
    let mut having = Vec::new();
    let mut unread = Vec::new();
    for account in accounts {
        match account.backend {
            Ok(backend) => {
                if backend.consumers().await?.iter().any(|c| c.target == name) {
                    having.push((account.id, account.name, backend));
                }
            }
            Err(_) => unread.push(account.id),
        }
    }
    match having.as_slice() {
        [(_, _, backend)] if unread.is_empty() => Ok((*backend, name.to_owned())),
        [] if unread.is_empty() => Err(UsageError(format!(
            "no consumer {name:?} in any of --accounts; `ecomm dlq ls` lists them"
        ))
        .into()),
        _ => Err(UsageError(format!(
            "name the account of {name:?}: {}{}",
            ids(having.iter().map(|(id, name_of, _)| match name_of {
                Some(account) => format!("{name}@{account} ({id})"),
                None => format!("{name}@{id}"),
            })),
            if unread.is_empty() {
                String::new()
            } else {
                format!(" (accounts not read: {})", ids(unread.iter().copied()))
            }
        ))
        .into()),
    }
}

fn ids<T: AsRef<str>>(ids: impl Iterator<Item = T>) -> String {
    ids.map(|id| id.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}
