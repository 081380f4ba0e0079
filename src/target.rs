//! Where a command acts: the local stack's state file, or AWS.

use std::path::PathBuf;

use anyhow::{Context as _, bail};

use crate::cli::{Environment, Global};

/// The resolved environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The embedded local stack.
    Local {
        /// Its state file.
        state: PathBuf,
    },
    /// AWS.
    Aws,
}

impl Target {
    /// `--env` / `ECOMM_ENV`, defaulting to the local stack.
    pub fn resolve(global: &Global) -> anyhow::Result<Self> {
        match global.env.unwrap_or(Environment::Local) {
            Environment::Local => Ok(Self::Local {
                state: state_path(global)?,
            }),
            Environment::Aws => Ok(Self::Aws),
        }
    }

    /// The state file, or an error saying the command is local-only.
    pub fn local_state(&self, command: &str) -> anyhow::Result<&PathBuf> {
        match self {
            Self::Local { state } => Ok(state),
            Self::Aws => bail!(
                "`ecomm {command}` runs on the local stack only; drop --env aws (or ECOMM_ENV=aws)"
            ),
        }
    }

    /// The one line that says where an answer comes from.
    pub fn banner(&self) -> String {
        match self {
            Self::Local { state } => format!("local stack: {}", state.display()),
            Self::Aws => "aws".to_owned(),
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
