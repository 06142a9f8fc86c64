//! PostgreSQL for users (`users.rs`) and audit events (`audit.rs`), when `DATABASE_URL`
//! names it: one pool, migrations from `migrations/postgres` applied at start-up.

mod audit;
mod users;

use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

pub use self::audit::PgAudit;
pub use self::users::PgUsers;

/// Connects (failing at once with a line naming DATABASE_URL when the server cannot be
/// reached) and applies the migrations.
pub async fn connect(url: &str) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url
        .parse()
        .context("DATABASE_URL is not a valid postgres:// URL")?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
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
    Ok(pool)
}
