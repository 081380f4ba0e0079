//! Shared helpers of the CLI tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `ecomm` binary with a clean environment (no ECOMM_* or AWS_* leaking in).
pub fn ecomm() -> Command {
    let mut cmd = Command::cargo_bin("ecomm").unwrap();
    for (key, _) in std::env::vars() {
        if key.starts_with("ECOMM_") || key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// `ecomm --state <dir>/local.sqlite ...`.
pub fn ecomm_on(state: &Path) -> Command {
    let mut cmd = ecomm();
    cmd.arg("--state").arg(state);
    cmd
}

/// A state file in a fresh temporary directory (kept alive by the returned guard).
pub fn temp_state() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.sqlite");
    (dir, path)
}
