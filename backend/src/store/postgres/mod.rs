//! PostgreSQL for users (`users.rs`) and audit events (`audit.rs`), when `DATABASE_URL`
//! names it: a pool made at start-up and a small one per HTTP worker (`per_thread`),
//! migrations from `migrations/postgres` applied at start-up.

mod audit;
mod users;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

pub use self::audit::PgAudit;
pub use self::users::PgUsers;

use crate::per_thread::PerThread;

/// The start-up pool's connections (the background tasks, code off the workers).
const SHARED_CONNECTIONS: u32 = 8;
/// Each HTTP worker's own pool: a worker runs one request at a time between awaits, so
/// a few connections keep its queries from queueing.
const WORKER_CONNECTIONS: u32 = 4;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// PostgreSQL pools: the worker's own on an HTTP worker, otherwise the start-up one.
pub type Pools = Arc<PerThread<PgPool>>;

/// Runs `query` on a connection of `pools`, again on another one while the connection
/// it got turns out to have been closed by the server (it restarted since that
/// connection was last used). A worker's pool does not ping a connection before handing
/// it out, which cost a round trip per query; this is what the ping was for.
async fn retried<T, F, Fut>(pools: &Pools, query: F) -> Result<T, sqlx::Error>
where
    F: Fn(PgPool) -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let pool = pools.get();
    // Each failed attempt takes one closed connection out of the pool; one more attempt
    // than the pool holds reaches a new one.
    let mut attempts = WORKER_CONNECTIONS.max(SHARED_CONNECTIONS);
    loop {
        match query(pool.clone()).await {
            Err(e) if attempts > 0 && closed_by_server(&e) => attempts -= 1,
            outcome => return outcome,
        }
    }
}

/// The connection was gone before the query reached the server: its socket was closed,
/// or the server said it was shutting the connection down (SQLSTATE class 08, 57P).
fn closed_by_server(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// Connects (failing at once with a line naming DATABASE_URL when the server cannot be
/// reached) and applies the migrations.
pub async fn connect(url: &str) -> anyhow::Result<Pools> {
    let options: PgConnectOptions = url
        .parse()
        .context("DATABASE_URL is not a valid postgres:// URL")?;
    let pool = PgPoolOptions::new()
        .max_connections(SHARED_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.clone())
        .await
        .with_context(|| {
            format!(
                "DATABASE_URL: the PostgreSQL server at {} is unreachable",
                super::redis::redacted(url)
            )
        })?;
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .context("Failed to apply the PostgreSQL migrations (DATABASE_URL)")?;
    // A worker's pool connects at its first query, from that worker.
    Ok(Arc::new(PerThread::new(pool, move || {
        PgPoolOptions::new()
            .max_connections(WORKER_CONNECTIONS)
            .test_before_acquire(false)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options.clone())
    })))
}
