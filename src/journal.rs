//! The audit journal of redrives: one NDJSON line per run start, per message outcome and per
//! run end, appended as it happens, so even a killed run leaves its trail.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::Utc;
use serde_json::{Value, json};

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    run: String,
}

impl Journal {
    /// Append to the journal at `path` for run `run`.
    pub fn open(path: &Path, run: &str) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("while creating {}", dir.display()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("while opening the redrive journal {}", path.display()))?;
        Ok(Self {
            file,
            path: path.to_owned(),
            run: run.to_owned(),
        })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record (`run`, `time` and `user` are added).
    pub fn write(&mut self, kind: &str, mut record: Value) -> anyhow::Result<()> {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".to_owned());
        if let Value::Object(map) = &mut record {
            map.insert("record".into(), json!(kind));
            map.insert("run".into(), json!(self.run));
            map.insert("time".into(), json!(Utc::now().to_rfc3339()));
            map.insert("user".into(), json!(user));
        }
        writeln!(self.file, "{record}")
            .with_context(|| format!("while writing the redrive journal {}", self.path.display()))
    }
}
