//! The SQLite database shared by the user table and the default session store: one
//! writer connection and a pool of readers.
//!
//! SQLite runs one write transaction at a time. With writes spread over a pool, the
//! losers of each collision sleep in SQLite's busy handler (millisecond back-off), which
//! under concurrent sign-ins cost more than the writes themselves; one writer connection
//! queues them in memory instead. WAL mode lets the readers go on beside it.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use futures_util::future::BoxFuture;
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions,
    SqliteQueryResult, SqliteRow, SqliteSynchronous,
};
use sqlx::{ConnectOptions as _, Connection as _, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

/// The readers and the writer over one database file.
#[derive(Clone)]
pub struct Db {
    /// For `SELECT`s.
    pub read: SqlitePool,
    /// The only connection that writes.
    pub write: Writer,
}

/// Work for the writer: runs on its connection and sends its own answer.
type Job = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, ()> + Send>;

/// The one connection that writes, owned by a task of its own that runs jobs in the order
/// they come. Cheap to clone.
///
/// Not a pool of one, nor a connection behind a lock: either way the request that holds
/// the connection must be scheduled again on its (busy) worker thread before the next
/// write can start, and sqlx's pool also pings a connection each time it goes back. Under
/// concurrent sign-ins the only writer then sat idle most of the time it was "held"
/// (BENCHMARKS.md, round two). The writer's task does nothing else, so it starts the next
/// job as soon as the last one is done.
#[derive(Clone)]
pub struct Writer(mpsc::UnboundedSender<Job>);

impl Writer {
    /// Starts the writer's task on the current runtime; it ends, closing the connection,
    /// when the last `Writer` is dropped.
    fn spawn(mut connection: SqliteConnection) -> Self {
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            while let Some(job) = queue.recv().await {
                job(&mut connection).await;
            }
            let _ = connection.close().await;
        });
        Self(jobs)
    }

    /// Runs `job` on the writer connection and returns its answer. The job must own what
    /// it binds (it runs on another task); a caller that stops waiting does not stop it.
    pub async fn run<T, F>(&self, job: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>
            + Send
            + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            Box::pin(async move {
                let _ = answer.send(job(connection).await);
            })
        });
        self.0.send(job).map_err(|_| sqlx::Error::PoolClosed)?;
        answered.await.map_err(|_| sqlx::Error::PoolClosed)?
    }

    /// Executes `query` (which owns its SQL and its values) on the writer.
    pub async fn execute(&self, query: OwnedQuery) -> Result<SqliteQueryResult, sqlx::Error> {
        self.run(move |db| Box::pin(query.execute(db))).await
    }

    /// Runs `query` on the writer and returns every row.
    pub async fn fetch_all(&self, query: OwnedQuery) -> Result<Vec<SqliteRow>, sqlx::Error> {
        self.run(move |db| Box::pin(query.fetch_all(db))).await
    }
}

/// A query the writer's task can take: `'static` SQL and owned values (`Vec<u8>`,
/// `String`, numbers).
pub type OwnedQuery = Query<'static, Sqlite, SqliteArguments<'static>>;

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
        write: Writer::spawn(write),
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
