//! Where a command acts: the local stack's state file, or AWS.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::UsageError;
use crate::backend::Backend;
use crate::backend::accounts::{Accounts, Member, Plan, Which};
use crate::backend::aws::AwsBackend;
use crate::backend::local::LocalBackend;
use crate::cli::{AwsArgs, Environment, Global};
use crate::config::Config;

/// The backends a command acts through.
pub(crate) enum Connected {
    /// One account.
    One(Box<dyn Backend>),
    /// Several.
    Several(Accounts),
}

/// The resolved environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// The embedded local stack.
    Local {
        /// Its state file.
        state: PathBuf,
    },
    /// AWS.
    Aws {
        /// How to reach it.
        args: Box<AwsArgs>,
        /// The bus.
        bus: String,
        /// The config file (consumers' names, accounts' names and buses).
        config: Box<Config>,
        /// Several accounts, when `--accounts` or `--all-accounts` asks for them.
        accounts: Option<Plan>,
    },
}

impl Target {
    /// `--env` / `ECOMM_ENV`, else AWS if an AWS-only flag was given, else the local stack.
    pub(crate) fn resolve(global: &Global) -> anyhow::Result<Self> {
        let env = match global.env {
            Some(Environment::Local) if global.aws.any() => {
                return Err(UsageError(
                    "--profile, --region and --endpoint-url are for --env aws, not --env local"
                        .to_owned(),
                )
                .into());
            }
            Some(env) => env,
            None if global.aws.any() => Environment::Aws,
            None => Environment::Local,
        };
        match env {
            Environment::Local => Ok(Self::Local {
                state: state_path(global)?,
            }),
            Environment::Aws => {
                let config = Config::load()?;
                let aws = &global.aws;
                let role = aws
                    .account_role
                    .clone()
                    .or_else(|| config.account_role.clone());
                let which = if aws.all_accounts {
                    Some(Which::Organization)
                } else if aws.accounts.is_empty() {
                    None
                } else {
                    Some(Which::Listed(
                        config.accounts(&aws.accounts).map_err(UsageError)?,
                    ))
                };
                let accounts = match (which, role) {
                    (Some(which), Some(role)) => Some(Plan { which, role }),
                    (Some(_), None) => {
                        return Err(UsageError(
                            "--accounts needs --account-role: the role to assume in each (e.g. ecomm-oncall), or account_role in the config file".to_owned(),
                        )
                        .into());
                    }
                    (None, _) if aws.account_role.is_some() => {
                        return Err(UsageError(
                            "--account-role is assumed in each of --accounts: pass --accounts ID,ID or --all-accounts"
                                .to_owned(),
                        )
                        .into());
                    }
                    (None, _) => None,
                };
                let bus = aws.bus.clone().or_else(|| config.bus.clone()).ok_or_else(|| {
                    UsageError(
                        "which event bus? pass --bus NAME, set ECOMM_BUS, or set bus in the config file (e.g. ecomm-prod)"
                            .to_owned(),
                    )
                })?;
                Ok(Self::Aws {
                    args: Box::new(aws.clone()),
                    bus,
                    config: Box::new(config),
                    accounts,
                })
            }
        }
    }

    /// The state file, or an error saying the command is local-only.
    pub(crate) fn local_state(&self, command: &str) -> anyhow::Result<&PathBuf> {
        match self {
            Self::Local { state } => Ok(state),
            Self::Aws { .. } => Err(UsageError(format!(
                "`ecomm {command}` runs on the local stack only; drop --env aws (or ECOMM_ENV=aws)"
            ))
            .into()),
        }
    }

    /// The one line that says where an answer comes from, for local-only commands.
    pub(crate) fn banner(&self) -> String {
        match self {
            Self::Local { state } => format!("local stack: {}", state.display()),
            Self::Aws { bus, .. } => format!("aws: bus {bus}"),
        }
    }

    /// Open the backends: one, or one per account when there are several (`--accounts` on
    /// AWS; on the local stack, its tenant accounts once `ecomm demo --tenants N` made them).
    pub(crate) async fn connect_all(&self) -> anyhow::Result<Connected> {
        match self {
            Self::Aws {
                args,
                bus,
                config,
                accounts: Some(plan),
            } => {
                let members = crate::backend::accounts::connect(args, bus, plan, config).await?;
                Ok(Connected::Several(Accounts {
                    banner: format!(
                        "aws: {} account(s), role {}, bus {bus}",
                        members.len(),
                        plan.role
                    ),
                    members,
                }))
            }
            Self::Local { state } => {
                let central = LocalBackend::open(state)?;
                let tenants = central.tenant_accounts();
                if tenants.is_empty() {
                    return Ok(Connected::One(Box::new(central)));
                }
                let banner = format!(
                    "local stack: {} ({} tenant account(s))",
                    state.display(),
                    tenants.len()
                );
                let mut members = vec![Member {
                    account: central.account(),
                    name: Some(crate::backend::local::CENTRAL_NAME.to_owned()),
                    backend: Ok(Box::new(central)),
                }];
                members.extend(tenants.into_iter().map(|(tenant, backend)| Member {
                    account: tenant.account,
                    name: Some(tenant.id),
                    backend: Ok(Box::new(backend) as Box<dyn Backend>),
                }));
                Ok(Connected::Several(Accounts { banner, members }))
            }
            Self::Aws { .. } => Ok(Connected::One(self.connect().await?)),
        }
    }

    /// Open the backend.
    pub(crate) async fn connect(&self) -> anyhow::Result<Box<dyn Backend>> {
        Ok(match self {
            Self::Local { state } => Box::new(LocalBackend::open(state)?),
            Self::Aws {
                args, bus, config, ..
            } => Box::new(AwsBackend::connect(args, bus, None, &config.names).await?),
        })
    }

    /// Where redrives are journaled: beside the local state file, or in the user data dir.
    pub(crate) fn journal_path(&self) -> anyhow::Result<PathBuf> {
        match self {
            Self::Local { state } => Ok(state
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default()
                .join("redrive-journal.ndjson")),
            Self::Aws { .. } => {
                let dir = dirs::data_dir().context("no user data directory (set HOME)")?;
                Ok(dir.join("ecomm").join("redrive-journal.ndjson"))
            }
        }
    }
}

fn state_path(global: &Global) -> anyhow::Result<PathBuf> {
    if let Some(path) = &global.state {
        return Ok(path.clone());
    }
    let dir =
        dirs::data_dir().context("no user data directory (set HOME, or pass --state PATH)")?;
    Ok(dir.join("ecomm").join("local.sqlite"))
}
