//! The state file: one SQLite database, safe for two processes at once.
//!
//! WAL journal, a busy timeout, and every multi-statement change in a transaction or savepoint,
//! so a CLI command and a running demo can share the file. The engine groups many invocations
//! into one transaction for speed; a crash rolls the whole group back, never half of it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _};

/// A failure of the state file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("state file {path}: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file is from an incompatible version of ecomm.
    #[error(
        "state file {path} has schema version {found}, this ecomm needs {expected}; run `ecomm local reset`"
    )]
    Schema {
        /// The file.
        path: PathBuf,
        /// What it has.
        found: i64,
        /// What we need.
        expected: i64,
    },
}

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS queues(name TEXT PRIMARY KEY, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS messages(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL REFERENCES queues(name) ON DELETE CASCADE,
    message_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    sent_ms INTEGER NOT NULL,
    visible_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_queue ON messages(queue, visible_ms, seq);
CREATE TABLE IF NOT EXISTS logs(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    log_group TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    line TEXT NOT NULL,
    correlation_id TEXT,
    order_id TEXT,
    event_id TEXT
);
CREATE INDEX IF NOT EXISTS logs_by_group_time ON logs(log_group, ts_ms);
CREATE INDEX IF NOT EXISTS logs_by_correlation ON logs(correlation_id);
CREATE INDEX IF NOT EXISTS logs_by_order ON logs(order_id);
CREATE INDEX IF NOT EXISTS logs_by_event ON logs(event_id);
CREATE TABLE IF NOT EXISTS events(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    envelope_id TEXT NOT NULL,
    event_id TEXT,
    time_ms INTEGER NOT NULL,
    source TEXT NOT NULL,
    detail_type TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stock(sku TEXT PRIMARY KEY, available INTEGER NOT NULL CHECK (available >= 0));
CREATE TABLE IF NOT EXISTS reservations(order_id TEXT PRIMARY KEY, items TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency(
    key TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    locked_until_ms INTEGER,
    expires_ms INTEGER NOT NULL,
    outcome TEXT
);
CREATE TABLE IF NOT EXISTS refunds(
    order_id TEXT PRIMARY KEY,
    refund_id TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    event_id TEXT NOT NULL,
    refunded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS analytics(
    day TEXT NOT NULL,
    channel TEXT NOT NULL,
    currency TEXT NOT NULL,
    order_count INTEGER NOT NULL,
    revenue TEXT NOT NULL,
    PRIMARY KEY (day, channel, currency)
);
CREATE TABLE IF NOT EXISTS outbox(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_trail(
    event_id TEXT PRIMARY KEY,
    correlation_id TEXT,
    detail_type TEXT NOT NULL,
    order_id TEXT,
    at TEXT NOT NULL,
    recorded_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS gateway_refunds(
    idempotency_key TEXT PRIMARY KEY,
    refund_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
";

/// The open state file. Cheap to clone; one connection per process, used under a mutex that is
/// never held across an `.await`.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Open (creating if needed) the state file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(err)?;
        set_wal(&conn).map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        // 64 MiB of page cache: a big demo's indexes stay in memory (23 s → 14 s at 30k orders).
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        conn.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;"))
            .map_err(err)?;
        let found: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        match found.and_then(|v| v.parse::<i64>().ok()) {
            None => {
                conn.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?1)",
                    [SCHEMA_VERSION.to_string()],
                )
                .map_err(err)?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(found) => {
                return Err(StoreError::Schema {
                    path: path.to_owned(),
                    found,
                    expected: SCHEMA_VERSION,
                });
            }
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: Arc::new(path.to_owned()),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for one synchronous piece of work.
    pub fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (statements are atomic).
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Run `f` on the connection, mapping errors to this file.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        f(&self.lock()).map_err(|source| self.error(source))
    }

    /// Run `f` atomically: its own write transaction, or a savepoint inside an open one.
    pub fn atomically<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let conn = self.lock();
        // Outside a transaction, take the write lock up front (BEGIN IMMEDIATE): a deferred
        // transaction that reads, then writes, fails at once with "database is locked" when
        // another process wrote in between — the busy timeout does not help there. Inside the
        // engine's transaction, a savepoint nests.
        let (begin, commit, rollback) = if conn.is_autocommit() {
            ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
        } else {
            (
                "SAVEPOINT atomically",
                "RELEASE atomically",
                "ROLLBACK TO atomically; RELEASE atomically",
            )
        };
        let run = || -> rusqlite::Result<T> {
            conn.execute_batch(begin)?;
            match f(&conn) {
                Ok(value) => {
                    conn.execute_batch(commit)?;
                    Ok(value)
                }
                Err(e) => {
                    conn.execute_batch(rollback)?;
                    Err(e)
                }
            }
        };
        run().map_err(|source| self.error(source))
    }

    /// Start a write transaction that groups everything until [`Db::commit`].
    pub fn begin(&self) -> Result<(), StoreError> {
        self.with(|c| c.execute_batch("BEGIN IMMEDIATE"))
    }

    /// Commit the transaction opened by [`Db::begin`].
    pub fn commit(&self) -> Result<(), StoreError> {
        self.with(|c| c.execute_batch("COMMIT"))
    }

    /// Roll back the transaction opened by [`Db::begin`], if one is open.
    pub fn rollback(&self) {
        let conn = self.lock();
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }

    /// Wrap an SQLite error with this file's path.
    pub fn error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.to_path_buf(),
            source,
        }
    }

    /// A value of the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        })
    }

    /// Count this opening of the state file and return the previous count, atomically, so two
    /// processes opening it at once never draw the same id stream.
    pub fn next_run(&self) -> Result<u64, StoreError> {
        self.atomically(|c| {
            let run: Option<String> = c
                .query_row("SELECT value FROM meta WHERE key = 'runs'", [], |r| {
                    r.get(0)
                })
                .optional()?;
            let run = run.and_then(|r| r.parse::<u64>().ok()).unwrap_or(0);
            c.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('runs', ?1)",
                [(run + 1).to_string()],
            )?;
            Ok(run)
        })
    }

    /// Set a value of the `meta` table.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
                [key, value],
            )
            .map(drop)
        })
    }
}

/// Switch to WAL. Two processes creating the file at once race for this switch, and SQLite
/// answers "database is locked" to the loser without waiting on the busy timeout: retry.
fn set_wal(conn: &Connection) -> rusqlite::Result<()> {
    let mut tries = 0;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 300 =>
            {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// Execute a statement through the connection's statement cache: the engine runs the same few
/// statements hundreds of thousands of times, and parsing them was a fifth of its time.
pub fn exec(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// Delete a state file and its WAL companions. Missing files are fine.
pub fn remove_state(path: &Path) -> std::io::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
