//! The SQLite database shared by the user table and the default session store: one
//! writer connection and a pool of readers.
//!
//! SQLite runs one write transaction at a time. With writes spread over a pool, the
//! losers of each collision sleep in SQLite's busy handler (millisecond back-off), which
//! under concurrent sign-ins cost more than the writes themselves; one writer connection
//! queues them in memory instead. WAL mode lets the readers go on beside it.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions as _, SqlitePool};
use tokio::sync::{Mutex, MutexGuard};

/// The readers and the writer over one database file.
#[derive(Clone)]
pub struct Db {
    /// For `SELECT`s.
    pub read: SqlitePool,
    /// The only connection that writes.
    pub write: Writer,
}

/// The one connection that writes, taken in turn (first come, first served).
///
/// Not a pool of one: sqlx hands a pooled connection back through a spawned task that
/// first pings it, one more round trip to the connection's thread per query, and no
/// other write can start until it is done. Measured on the write path of a sign-in, that
/// doubled the time each write held the only writer (BENCHMARKS.md, round two).
#[derive(Clone)]
pub struct Writer(Arc<Mutex<SqliteConnection>>);

impl Writer {
    /// Waits for the writer; run one statement (or one transaction) on it and let go.
    pub async fn lock(&self) -> MutexGuard<'_, SqliteConnection> {
        self.0.lock().await
    }
}

/// Opens (creating if needed) the database and applies the migrations in `migrations/`.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| "DATABASE_URL is not a valid sqlite URL")?;
    create_private_file(options.get_filename())?;
    let options = options
        .create_if_missing(true)
        // NORMAL sync in WAL mode is durable across process crashes, which is what a
        // session table needs.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5));
    let mut write = options
        .connect()
        .await
        .context("Failed to open the database")?;
    sqlx::migrate!("./migrations/sqlite")
        .run(&mut write)
        .await
        .context("Failed to apply database migrations")?;
    // No ping before each use: the connections are in-process and cannot go away, and a
    // ping is one more round trip to the connection's thread per query (which doubled
    // the cost of a session read).
    let read = SqlitePoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .connect_with(options.read_only(true))
        .await
        .context("Failed to open the database for reading")?;
    Ok(Db {
        read,
        write: Writer(Arc::new(Mutex::new(write))),
    })
}

/// Creates the database file readable by its owner only, before SQLite opens it. SQLite
/// gives the `-wal` and `-shm` files it makes later the permissions of the database file,
/// so all three end up private whatever the process umask is. An existing file keeps its
/// permissions (start-up warns about a DATA_DIR open to others).
fn create_private_file(path: &Path) -> anyhow::Result<()> {
    if path.as_os_str().is_empty() || path == Path::new(":memory:") || path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => {
            Err(e).with_context(|| format!("Failed to create the database {}", path.display()))
        }
    }
}
