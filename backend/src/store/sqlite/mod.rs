//! The SQLite database of a single instance: sessions (`sessions.rs`), users
//! (`users.rs`) and audit events (`audit.rs`) in one file, with one writer connection
//! and a pool of readers.
//!
//! A session is read on the request's own thread (`Readers`): a point read by primary
//! key takes microseconds, less than handing it to another thread and back.
//!
//! SQLite runs one write transaction at a time. With writes spread over a pool, the
//! losers of each collision sleep in SQLite's busy handler (millisecond back-off), which
//! under concurrent sign-ins cost more than the writes themselves; one writer connection
//! queues them in memory instead. WAL mode lets the readers go on beside it.

mod audit;
mod sessions;
mod users;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Connection as _, SqlitePool};
use tokio::sync::oneshot;

pub use self::audit::SqliteAudit;
pub use self::sessions::SqliteSessions;
pub use self::users::SqliteUsers;

/// The readers and the writer over one database file.
#[derive(Clone)]
pub struct Db {
    /// For `SELECT`s (sqlx, async).
    pub read: SqlitePool,
    /// For the hottest `SELECT`, a session by its key, on the calling thread.
    pub inline: Readers,
    /// The only connection that writes.
    pub write: Writer,
}

/// Read-only connections used on the calling thread, without leaving it: for point reads
/// by primary key, which take a few microseconds in SQLite. Through sqlx each read went to
/// the connection's own thread and back (two wake-ups, two hand-offs), which cost about
/// ten times the read itself and made a deployment without the session cache
/// (`SESSION_CACHE_ENTRIES=0`) serve a tenth of the requests (BENCHMARKS.md). In WAL mode
/// a reader never waits for the writer, so the calling thread does not block on it.
#[derive(Clone)]
pub struct Readers {
    path: Arc<PathBuf>,
    idle: Arc<Mutex<Vec<rusqlite::Connection>>>,
}

/// Idle connections kept for reuse (one per worker thread is enough; more are closed).
const MAX_IDLE_READERS: usize = 16;

impl Readers {
    fn new(path: &Path) -> Self {
        Self {
            path: Arc::new(path.to_owned()),
            idle: Arc::default(),
        }
    }

    /// Runs `read` on an idle connection (opening one when none is idle).
    pub fn read<T>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.open()?,
        };
        let answer = read(&connection);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(connection);
        }
        answer
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        use rusqlite::OpenFlags;
        let connection = rusqlite::Connection::open_with_flags(
            &*self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Only a WAL recovery after a crash makes a reader wait; never for long.
        connection.busy_timeout(Duration::from_secs(1))?;
        connection.set_prepared_statement_cache_capacity(8);
        Ok(connection)
    }
}

/// Work for the writer: runs on its connection and sends its own answer.
type Job = Box<dyn FnOnce(&mut rusqlite::Connection) + Send>;

/// The one connection that writes, owned by a thread of its own that runs jobs in the
/// order they come, calling SQLite directly through rusqlite. Cheap to clone.
///
/// rusqlite and sqlx share one `libsqlite3-sys`, so one SQLite runs in the process: two
/// copies would not see each other's file locks, and the readers could read pages the
/// writer is changing. Cargo guarantees it (a native library may be linked by one package
/// only), so upgrading one of the two without the other fails to resolve.
///
/// Why not sqlx here: sqlx runs each statement on the connection's own thread and hands
/// the answer back to the async task, and a pooled connection is pinged on its way back
/// to the pool. With one writer, each of those thread wake-ups is time in which no other
/// write can run; under concurrent sign-ins the writer spent far longer in hand-offs than
/// in SQLite (BENCHMARKS.md, round two). This thread goes from one queued write to the
/// next without waking anyone but the request that waits for the answer.
///
/// The queue is bounded: past [`MAX_QUEUED`] waiting jobs a write is refused at once
/// (the request answers 503), and past [`MAX_QUEUED_DROPPABLE`] jobs that may be dropped
/// (audit events) are, and counted, so a flood of refused requests can never make a
/// sign-in wait behind its own audit trail.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// Jobs sent and not finished yet.
    queued: Arc<AtomicUsize>,
}

/// Waiting jobs past which a write is refused.
pub const MAX_QUEUED: usize = 4096;
/// Waiting jobs past which a droppable job (an audit event) is dropped.
pub const MAX_QUEUED_DROPPABLE: usize = 256;

/// A write that did not happen.
#[derive(thiserror::Error, Debug)]
pub enum WriteError {
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    #[error("the database writer has stopped")]
    Stopped,
    #[error("the database writer has too much queued")]
    Overloaded,
}

impl Writer {
    /// Opens the writer connection on `path` and starts its thread; the thread ends,
    /// closing the connection, when the last `Writer` is dropped.
    fn open(path: &Path) -> anyhow::Result<Self> {
        let mut connection = rusqlite::Connection::open(path)?;
        // WAL is a property of the file (set when sqlx created it); the rest is per
        // connection, as for the readers.
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.set_prepared_statement_cache_capacity(64);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queued = Arc::new(AtomicUsize::new(0));
        let done = queued.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                for job in queue {
                    // A panicking job loses its own answer (its caller sees `Stopped`),
                    // not the writer.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut connection)));
                    done.fetch_sub(1, Ordering::Relaxed);
                }
            })?;
        Ok(Self { jobs, queued })
    }

    /// Runs `job` on the writer connection and returns its answer. The job must own what
    /// it binds (it runs on another thread); a caller that stops waiting does not stop it.
    pub async fn run<T, F>(&self, job: F) -> Result<T, WriteError>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.queue(MAX_QUEUED, job).await
    }

    /// Like [`Writer::run`] for a job that may be dropped when the writer is busy (an
    /// audit event): refused with [`WriteError::Overloaded`] past
    /// [`MAX_QUEUED_DROPPABLE`] waiting jobs, and counted in the metrics.
    pub async fn run_droppable<T, F>(&self, job: F) -> Result<T, WriteError>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let result = self.queue(MAX_QUEUED_DROPPABLE, job).await;
        if matches!(result, Err(WriteError::Overloaded)) {
            crate::metrics::write_dropped("audit");
        }
        result
    }

    /// Queues `job` unless `limit` jobs are waiting already.
    async fn queue<T, F>(&self, limit: usize, job: F) -> Result<T, WriteError>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let taken = self
            .queued
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < limit).then_some(n + 1)
            });
        if taken.is_err() {
            return Err(WriteError::Overloaded);
        }
        let (answer, answered) = oneshot::channel();
        let sent = self.jobs.send(Box::new(move |connection| {
            let _ = answer.send(job(connection));
        }));
        if sent.is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(WriteError::Stopped);
        }
        Ok(answered.await.map_err(|_| WriteError::Stopped)??)
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
    let mut setup = options
        .connect()
        .await
        .context("Failed to open the database")?;
    sqlx::migrate!("./migrations/sqlite")
        .run(&mut setup)
        .await
        .context("Failed to apply database migrations")?;
    setup.close().await.context("Failed to open the database")?;
    let write = Writer::open(options.get_filename()).context("Failed to open the database")?;
    let inline = Readers::new(options.get_filename());
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
        inline,
        write,
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

/// A database in a directory of its own that is deleted with the returned guard.
#[cfg(test)]
pub(super) async fn temporary() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.sqlite3").display());
    let db = connect(&url).await.unwrap();
    (dir, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_writer_answers_each_job_and_survives_a_failing_one() {
        let (_dir, db) = temporary().await;
        let insert = |n: i64| {
            db.write.run(move |db| {
                db.execute(
                    "INSERT INTO seen_ids (kind, id, expires_at) VALUES ('t', ?1, ?2)",
                    rusqlite::params![n.to_string(), n],
                )
            })
        };
        // Queued at once, answered each on its own.
        let answers = futures_util::future::join_all((0..50).map(insert)).await;
        assert!(answers.iter().all(|a| matches!(a, Ok(1))));
        // A statement error is that job's answer; a panicking job loses only its own.
        let duplicate = insert(7).await;
        assert!(
            matches!(duplicate, Err(WriteError::Sql(_))),
            "{duplicate:?}"
        );
        let panicked = db
            .write
            .run(|_| -> rusqlite::Result<()> { panic!("a job that fails") })
            .await;
        assert!(matches!(panicked, Err(WriteError::Stopped)));
        assert!(matches!(insert(50).await, Ok(1)));
        // What the writer wrote, the readers see.
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM seen_ids WHERE kind = 't'")
            .fetch_one(&db.read)
            .await
            .unwrap();
        assert_eq!(count, 51);
    }

    /// Blocks the writer until the returned sender is dropped or sent to.
    fn block(db: &Db) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let writer = db.write.clone();
        let job = tokio::spawn(async move {
            let _ = writer
                .run(move |_| {
                    let _ = blocked.recv();
                    Ok(())
                })
                .await;
        });
        (release, job)
    }

    #[tokio::test]
    async fn audit_jobs_are_dropped_first_when_the_writer_is_busy() {
        let (_dir, db) = temporary().await;
        let (release, blocking) = block(&db);
        // The blocking job and enough others to fill the droppable share of the queue.
        let waiting: Vec<_> = (0..MAX_QUEUED_DROPPABLE)
            .map(|n| {
                let writer = db.write.clone();
                tokio::spawn(async move {
                    writer
                        .run(move |db| {
                            db.execute(
                                "INSERT INTO seen_ids (kind, id, expires_at) VALUES ('t', ?1, 1)",
                                rusqlite::params![n.to_string()],
                            )
                        })
                        .await
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let dropped = db.write.run_droppable(|_| Ok(())).await;
        assert!(
            matches!(dropped, Err(WriteError::Overloaded)),
            "{dropped:?}"
        );
        // A job that may not be dropped still queues, and everything runs once free.
        let kept = db.write.clone();
        let kept = tokio::spawn(async move { kept.run(|_| Ok(())).await });
        release.send(()).unwrap();
        blocking.await.unwrap();
        for job in waiting {
            assert!(job.await.unwrap().is_ok());
        }
        assert!(kept.await.unwrap().is_ok());
        assert!(db.write.run_droppable(|_| Ok(())).await.is_ok());
    }

    #[tokio::test]
    async fn readiness_does_not_queue_behind_the_writer() {
        use crate::store::Ping as _;
        let (_dir, db) = temporary().await;
        let users = SqliteUsers::new(&db);
        let (release, blocking) = block(&db);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let answered = tokio::time::timeout(std::time::Duration::from_secs(2), users.ping()).await;
        assert!(
            matches!(answered, Ok(Ok(()))),
            "the users table answers while the writer is busy"
        );
        release.send(()).unwrap();
        blocking.await.unwrap();
    }
}
