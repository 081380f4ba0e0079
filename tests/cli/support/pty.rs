//! `ecomm` in a pseudo-terminal, as a person runs it: keys typed, the screen read back through a
//! terminal emulator (vt100), the exit code waited for.

use std::io::{Read as _, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::process::Command;

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

use super::Ecomm;

/// How long a screen may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(30);

/// A running `ecomm` on a terminal of its own.
pub(crate) struct Pty {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn std::io::Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    /// Every byte the program wrote, for colour checks.
    raw: Arc<Mutex<Vec<u8>>>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Pty {
    /// `ecomm ARGS` on a `cols`×`rows` terminal, with the environment of [`Ecomm::bare`]
    /// and `env` on top.
    pub(crate) fn spawn(args: &[&str], env: &[(&str, &str)], cols: u16, rows: u16) -> Self {
        let mut ecomm = Ecomm::bare().env_remove("NO_COLOR").each(args);
        for (key, value) in env {
            ecomm = ecomm.env(key, value);
        }
        Self::run(&ecomm.process(), cols, rows)
    }

    /// A prepared `ecomm` process (an AWS endpoint's, say) on a `cols`×`rows` terminal.
    pub(crate) fn run(process: &Command, cols: u16, rows: u16) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(process.get_program());
        command.args(process.get_args());
        command.env("TERM", "xterm-256color");
        for (key, value) in process.get_envs() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            }
        }
        let child = pair.slave.spawn_command(command).expect("ecomm starts");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("a reader");
        let writer = pair.master.take_writer().expect("a writer");
        let size = |n: u16| std::num::NonZeroU16::new(n).expect("a terminal is not 0 wide");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(size(rows), size(cols), 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (screen_in, raw_in) = (Arc::clone(&screen), Arc::clone(&raw));
        std::thread::spawn(move || {
            let mut buf = [0_u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                screen_in.lock().expect("screen").process(&buf[..n]);
                raw_in.lock().expect("raw").extend_from_slice(&buf[..n]);
            }
        });
        Self {
            child,
            writer,
            screen,
            raw,
            _master: pair.master,
        }
    }

    /// What the terminal shows now.
    pub(crate) fn contents(&self) -> String {
        self.screen.lock().expect("screen").screen().contents()
    }

    /// Everything written so far, escape sequences included.
    pub(crate) fn raw(&self) -> Vec<u8> {
        self.raw.lock().expect("raw").clone()
    }

    /// Wait until the screen shows `text`; the screen in the panic message if it never does.
    pub(crate) fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let contents = self.contents();
            if contents.contains(text) {
                return contents;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {text:?}:\n{contents}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Type keys (`\r` is Enter, `\x1b[B` is Down).
    pub(crate) fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("keys typed");
        self.writer.flush().expect("keys sent");
    }

    /// Send the program a signal (`HUP`, `KILL`, ...) by its process id, as `kill -s` would.
    pub(crate) fn signal(&self, name: &str) {
        let pid = self.child.process_id().expect("a running ecomm");
        let status = Command::new("kill")
            .args(["-s", name, &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s {name} {pid}: {status}");
    }

    /// Wait for the program to end: its exit code.
    pub(crate) fn exit_code(&mut self) -> u32 {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("a status") {
                return status.exit_code();
            }
            assert!(
                Instant::now() < deadline,
                "ecomm did not end:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
