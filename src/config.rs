//! The optional config file, `~/.config/ecomm/config.toml` (or `$XDG_CONFIG_HOME/ecomm/…`,
//! or the path in `ECOMM_CONFIG`): what an on-call engineer would otherwise type every time.
//! Nothing in it is required; every value can be given on the command line instead, and the
//! command line wins.
//!
//! ```toml
//! bus = "ecomm-prod"                 # the default --bus
//! account_role = "ecomm-oncall"      # the default --account-role
//!
//! [names]                            # a target id → the name to use for that consumer
//! "Id4f1b2c" = "inventory"
//!
//! [accounts.444455556666]            # one account: a name to use for it, and its own bus
//! name = "brand-a"
//! bus = "brand-a-orders"
//!
//! [account_sets]                     # --accounts prod
//! prod = ["111122223333", "brand-a"]
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::UsageError;

/// The config file's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// The default `--bus`.
    pub(crate) bus: Option<String>,
    /// The default `--account-role`.
    pub(crate) account_role: Option<String>,
    /// Consumers' names, by target id: the name replaces the id in every table and in
    /// `--target`.
    #[serde(default)]
    pub(crate) names: BTreeMap<String, String>,
    /// Accounts, by id.
    #[serde(default)]
    pub(crate) accounts: BTreeMap<String, AccountConfig>,
    /// Named lists of accounts (ids or names), for `--accounts NAME`.
    #[serde(default)]
    pub(crate) account_sets: BTreeMap<String, Vec<String>>,
}

/// What the config file says of one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountConfig {
    /// A name to call it by: `inventory@brand-a`, and in the account column.
    pub(crate) name: Option<String>,
    /// Its bus, when it is not `--bus`.
    pub(crate) bus: Option<String>,
}

impl Config {
    /// Where the file is looked for.
    pub(crate) fn path() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("ECOMM_CONFIG").filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(path));
        }
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| dirs::home_dir().map(|home| home.join(".config")))?;
        Some(base.join("ecomm").join("config.toml"))
    }

    /// The file's contents; none when there is no file. A file that does not parse is a
    /// usage error naming it and the line.
    pub(crate) fn load() -> anyhow::Result<Self> {
        let Some(path) = Self::path() else {
            return Ok(Self::default());
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(UsageError(format!("cannot read {}: {e}", path.display())).into());
            }
        };
        Self::parse(&text).map_err(|e| UsageError(format!("{}: {e}", path.display())).into())
    }

    fn parse(text: &str) -> Result<Self, String> {
        let config: Self = toml::from_str(text).map_err(|e| e.to_string().trim().to_owned())?;
        for id in config.accounts.keys() {
            crate::cli::parse_account(id).map_err(|e| format!("[accounts.{id}]: {e}"))?;
        }
        Ok(config)
    }

    /// The accounts `--accounts` names: ids, account names, or one set of the file.
    pub(crate) fn accounts(&self, given: &[String]) -> Result<Vec<String>, String> {
        if let [set] = given
            && let Some(members) = self.account_sets.get(set)
        {
            return members.iter().map(|m| self.account_id(m)).collect();
        }
        given.iter().map(|g| self.account_id(g)).collect()
    }

    /// An account's id, from its id or its name.
    pub(crate) fn account_id(&self, text: &str) -> Result<String, String> {
        if let Some((id, _)) = self
            .accounts
            .iter()
            .find(|(_, a)| a.name.as_deref() == Some(text))
        {
            return Ok(id.clone());
        }
        crate::cli::parse_account(text).map_err(|e| {
            let mut known: Vec<&str> = self.account_sets.keys().map(String::as_str).collect();
            known.extend(self.accounts.values().filter_map(|a| a.name.as_deref()));
            if known.is_empty() {
                e
            } else {
                format!(
                    "{e}, nor a set or an account named in the config file ({})",
                    known.join(", ")
                )
            }
        })
    }

    /// The name of an account, when the file gives it one.
    pub(crate) fn account_name(&self, id: &str) -> Option<&str> {
        self.accounts.get(id)?.name.as_deref()
    }

    /// The bus of an account: its own, else `bus`.
    pub(crate) fn bus_of<'a>(&'a self, id: &str, bus: &'a str) -> &'a str {
        self.accounts
            .get(id)
            .and_then(|a| a.bus.as_deref())
            .unwrap_or(bus)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
bus = "ecomm-prod"
account_role = "ecomm-oncall"

[names]
"Id4f1b2c" = "inventory"

[accounts.444455556666]
name = "brand-a"
bus = "brand-a-orders"

[account_sets]
prod = ["111122223333", "brand-a"]
"#;

    #[test]
    fn a_set_names_accounts_by_id_or_name_and_an_account_may_have_its_own_bus() {
        let config = Config::parse(FILE).unwrap();
        assert_eq!(config.bus.as_deref(), Some("ecomm-prod"));
        assert_eq!(config.names["Id4f1b2c"], "inventory");
        assert_eq!(
            config.accounts(&["prod".to_owned()]).unwrap(),
            ["111122223333", "444455556666"]
        );
        assert_eq!(
            config
                .accounts(&["brand-a".to_owned(), "777788889999".to_owned()])
                .unwrap(),
            ["444455556666", "777788889999"]
        );
        assert_eq!(
            config.bus_of("444455556666", "ecomm-prod"),
            "brand-a-orders"
        );
        assert_eq!(config.bus_of("111122223333", "ecomm-prod"), "ecomm-prod");
        assert_eq!(config.account_name("444455556666"), Some("brand-a"));
    }

    #[test]
    fn a_name_that_is_neither_an_account_nor_a_set_says_what_there_is() {
        let config = Config::parse(FILE).unwrap();
        let error = config.accounts(&["staging".to_owned()]).unwrap_err();
        assert_eq!(
            error,
            "\"staging\" is not an AWS account id (12 digits), nor a set or an account named in the config file (prod, brand-a)"
        );
    }

    #[test]
    fn a_file_with_an_unknown_key_or_a_bad_account_id_is_refused_with_where() {
        let error = Config::parse("buss = \"x\"\n").unwrap_err();
        assert!(error.contains("unknown field `buss`"), "{error}");
        assert!(error.contains("line 1"), "{error}");
        let error = Config::parse("[accounts.brand-a]\nbus = \"x\"\n").unwrap_err();
        assert!(error.contains("[accounts.brand-a]"), "{error}");
    }
}
