//! The commands across accounts (`--accounts`): `dlq ls` fans out to every account at once,
//! and a command on one consumer runs, unchanged, in the account that owns it.

use futures::StreamExt as _;

use crate::UsageError;
use crate::backend::accounts::split;
use crate::backend::{Backend, BackendError, Consumer};
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

/// Each account's consumers, where they were discovered (by index of the accounts), for a
/// view that refreshes their counters only.
pub(crate) type Discovered = Vec<Option<Vec<Consumer>>>;

/// `dlq ls` in every account, `AT_ONCE` at a time, in the order given. Each consumer is
/// `NAME@ACCOUNT`; an account that cannot be read is one row `*@ACCOUNT` saying why.
pub(crate) async fn ls(accounts: &[Account<'_>]) -> DlqList {
    survey(accounts, None).await.0
}

/// The same, discovering only the accounts `known` has no consumers for (all without it), and
/// what was discovered, to pass as `known` next time.
pub(crate) async fn survey(
    accounts: &[Account<'_>],
    known: Option<&Discovered>,
) -> (DlqList, Discovered) {
    let lists: Vec<(Vec<DlqRow>, Option<Vec<Consumer>>)> =
        futures::stream::iter(accounts.iter().enumerate())
            .map(|(i, account)| async move {
                let known = known.and_then(|k| k.get(i).cloned().flatten());
                match read(account, known).await {
                    Ok((list, consumers)) => (
                        list.rows
                            .into_iter()
                            .map(|row| DlqRow {
                                target: format!("{}@{}", row.target, account.id),
                                account: Some(account.id.to_owned()),
                                account_name: account.name.map(str::to_owned),
                                ..row
                            })
                            .collect(),
                        Some(consumers),
                    ),
                    Err(reason) => (vec![unreachable(account, reason)], None),
                }
            })
            .buffered(AT_ONCE)
            .collect()
            .await;
    let (rows, discovered): (Vec<_>, Discovered) = lists.into_iter().unzip();
    (
        DlqList {
            rows: rows.into_iter().flatten().collect(),
        },
        discovered,
    )
}

/// One account's rows, its consumers discovered unless `known`.
async fn read(
    account: &Account<'_>,
    known: Option<Vec<Consumer>>,
) -> Result<(DlqList, Vec<Consumer>), String> {
    let backend = account.backend.map_err(ToString::to_string)?;
    let consumers = match known {
        Some(consumers) => consumers,
        None => backend.consumers().await.map_err(|e| e.to_string())?,
    };
    let list = super::dlq::counters(backend, &consumers)
        .await
        .map_err(|e| e.to_string())?;
    Ok((list, consumers))
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
        failure_bucket: None,
        failure_objects: None,
        oldest_object: None,
        findings: vec![format!("account not read: {first}")],
    }
}

/// The account that owns consumer `target` (`NAME@ACCOUNT`, or a `NAME` only one account
/// has): its index, its backend, and the consumer's name there.
pub(crate) async fn locate<'a>(
    accounts: &'a [Account<'a>],
    target: &str,
) -> anyhow::Result<(usize, &'a dyn Backend, String)> {
    let (name, account) = split(target);
    if let Some(id) = account {
        let Some(index) = accounts
            .iter()
            .position(|a| a.id == id || a.name == Some(id))
        else {
            return Err(UsageError(format!(
                "account {id} is not one of --accounts ({})",
                ids(accounts.iter().map(|a| a.id))
            ))
            .into());
        };
        let backend = accounts[index].backend.map_err(Clone::clone)?;
        return Ok((index, backend, name.to_owned()));
    }
    // No account named: the one account that has it, else say which to choose from.
    let mut having = Vec::new();
    let mut unread = Vec::new();
    for (index, account) in accounts.iter().enumerate() {
        match account.backend {
            Ok(backend) => {
                if backend.consumers().await?.iter().any(|c| c.target == name) {
                    having.push((account.id, account.name, index, backend));
                }
            }
            Err(_) => unread.push(account.id),
        }
    }
    match having.as_slice() {
        [(_, _, index, backend)] if unread.is_empty() => Ok((*index, *backend, name.to_owned())),
        [] if unread.is_empty() => Err(UsageError(format!(
            "no consumer {name:?} in any of --accounts; `ecomm dlq ls` lists them"
        ))
        .into()),
        _ => Err(UsageError(format!(
            "name the account of {name:?}: {}{}",
            ids(having.iter().map(|(id, name_of, _, _)| match name_of {
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
