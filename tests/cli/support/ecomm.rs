//! The `ecomm` binary as a user runs it: one builder for the local stack and for an AWS
//! endpoint, that checks the exit code and reads the answer.
//!
//! ```ignore
//! let report: RedriveReport = Ecomm::local(&state)
//!     .args("redrive --target notification")
//!     .code(3)
//!     .json();
//! ```

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Command;

use serde::de::DeserializeOwned;

/// One run of `ecomm`: where it acts, its arguments, and the exit code expected.
#[derive(Debug)]
pub(crate) struct Ecomm {
    command: Command,
    args: Vec<OsString>,
    code: i32,
    stdin: Option<Vec<u8>>,
}

/// What a run printed, and how it ended.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The command line, for messages.
    pub(crate) line: String,
    /// The exit code.
    pub(crate) code: i32,
    /// Standard output.
    pub(crate) stdout: String,
    /// Standard error.
    pub(crate) stderr: String,
}

impl Ecomm {
    /// `ecomm` with a clean environment: no ECOMM_* or AWS_* variable of the test's leaks in,
    /// no colours, no width (output is a pipe: tables at full length).
    pub(crate) fn bare() -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecomm"));
        for (key, _) in std::env::vars() {
            if key.starts_with("ECOMM_") || key.starts_with("AWS_") {
                command.env_remove(key);
            }
        }
        command.env("NO_COLOR", "1");
        command.env_remove("COLUMNS");
        // No config file of the machine's user: the AWS tests give HOME a directory of their own.
        command.env_remove("XDG_CONFIG_HOME");
        Self {
            command,
            args: Vec::new(),
            code: 0,
            stdin: None,
        }
    }

    /// `ecomm --state STATE`: the local stack of a state file.
    pub(crate) fn local(state: &Path) -> Self {
        Self::bare().arg("--state").arg(state)
    }

    /// A prepared process (an AWS endpoint with its credentials and HOME, say).
    pub(crate) fn from_command(command: Command) -> Self {
        Self {
            command,
            args: Vec::new(),
            code: 0,
            stdin: None,
        }
    }

    /// Arguments, split at spaces: `.args("dlq show inventory --limit 2")`.
    pub(crate) fn args(mut self, line: &str) -> Self {
        self.args
            .extend(line.split_whitespace().map(OsString::from));
        self
    }

    /// One argument, verbatim (a path, a value with spaces).
    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Arguments, each verbatim.
    pub(crate) fn each<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// An environment variable of the run.
    pub(crate) fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Without an environment variable of [`Ecomm::bare`]'s (`NO_COLOR`, say).
    pub(crate) fn env_remove(mut self, key: &str) -> Self {
        self.command.env_remove(key);
        self
    }

    /// A terminal `n` columns wide, as `COLUMNS` tells it.
    pub(crate) fn columns(self, n: usize) -> Self {
        self.env("COLUMNS", n.to_string())
    }

    /// What the run reads on stdin (a pipe, not a terminal); nothing unless said.
    pub(crate) fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.as_bytes().to_vec());
        self
    }

    /// The exit code the run must end with (0 unless said).
    pub(crate) fn code(mut self, code: i32) -> Self {
        self.code = code;
        self
    }

    /// The process, not yet started: for runs a test interrupts or kills.
    pub(crate) fn process(mut self) -> Command {
        self.command.args(&self.args);
        self.command
    }

    /// Run it (stdin closed), check the exit code, and return what it printed.
    pub(crate) fn run(mut self) -> Session {
        let expected = self.code;
        let stdin = self.stdin.take();
        let line = self
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let mut command = self.process();
        let output = match stdin {
            None => command.stdin(std::process::Stdio::null()).output(),
            Some(input) => {
                use std::io::Write as _;
                let mut child = command
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap_or_else(|e| panic!("cannot run ecomm {line}: {e}"));
                // A command that does not read stdin may close it first: that is no error.
                let _ = child.stdin.take().expect("a piped stdin").write_all(&input);
                child.wait_with_output()
            }
        }
        .unwrap_or_else(|e| panic!("cannot run ecomm {line}: {e}"));
        let session = Session {
            line,
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert_eq!(
            session.code, expected,
            "ecomm {} exited {}, not {expected}\n--- stdout\n{}--- stderr\n{}",
            session.line, session.code, session.stdout, session.stderr
        );
        session
    }

    /// Run with `--output json` and read the answer into `T`.
    pub(crate) fn json<T: DeserializeOwned>(self) -> T {
        self.args("--output json").run().json()
    }

    /// Run with `--output ndjson` and read each line into `T`.
    pub(crate) fn ndjson<T: DeserializeOwned>(self) -> Vec<T> {
        self.args("--output ndjson").run().lines()
    }

    /// Run and return stdout.
    pub(crate) fn stdout(self) -> String {
        self.run().stdout
    }

    /// Run and return stderr.
    pub(crate) fn stderr(self) -> String {
        self.run().stderr
    }
}

impl Session {
    /// Stdout as one JSON document.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "ecomm {}: stdout is not the expected JSON ({e}):\n{}\n--- stderr\n{}",
                self.line, self.stdout, self.stderr
            )
        })
    }

    /// Stdout as NDJSON.
    pub(crate) fn lines<T: DeserializeOwned>(&self) -> Vec<T> {
        self.stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!(
                        "ecomm {}: a line is not the expected JSON ({e}):\n{line}",
                        self.line
                    )
                })
            })
            .collect()
    }

    /// Exit code, stdout and stderr together, as a snapshot records them.
    pub(crate) fn transcript(&self) -> String {
        format!(
            "$ ecomm {}\nexit code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.line, self.code, self.stdout, self.stderr
        )
    }
}

/// Filters that make a transcript stable: ARNs, UUIDs, times, state and journal paths. Widths
/// are kept, so that tables stay aligned.
/// Ctrl-C to a running `ecomm`, as a terminal sends it: SIGINT, to its PID.
pub(crate) fn interrupt(child: &std::process::Child) {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("send SIGINT");
    assert!(sent.success(), "SIGINT to {}", child.id());
}

pub(crate) fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    // Named by the test alone, so the files do not depend on the test binary's name.
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(r"--state /\S+", "--state [STATE]");
    settings.add_filter(r"local stack: \S+", "local stack: [STATE]");
    settings.add_filter(r"journal: \S+", "journal: [JOURNAL]");
    settings.add_filter(r"arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d{12}:[^\s,)]+", "[ARN]");
    settings.add_filter(
        r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
        "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    );
    settings.add_filter(
        r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?",
        "[TIME]",
    );
    // How long a handler ran is the machine's, not the system's: a loaded machine takes ms.
    settings.add_filter(r" · \d+ ms", " · [MS]");
    // Truncated message ids in tables.
    settings.add_filter(r"┆ [0-9a-f]{7}… ┆", "┆ xxxxxxx… ┆");
    settings.add_filter(r"│ [0-9a-f]{7}… ┆", "│ xxxxxxx… ┆");
    settings
}

/// Snapshot a session's transcript (exit code, stdout and stderr) under `name`, with the
/// filters of [`snapshot_settings`] and any more given as `(regex, replacement)` pairs.
macro_rules! assert_session_snapshot {
    ($name:expr, $session:expr $(, $filter:expr)* $(,)?) => {{
        let session: &$crate::support::Session = &$session;
        #[allow(unused_mut)]
        let mut settings = $crate::support::snapshot_settings();
        $(
            let (pattern, replacement): (&str, &str) = $filter;
            settings.add_filter(pattern, replacement);
        )*
        settings.bind(|| insta::assert_snapshot!($name, session.transcript()));
    }};
}
pub(crate) use assert_session_snapshot;
