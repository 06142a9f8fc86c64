//! Reaching each configured store without changing anything (no migration, no file
//! created), for `backend check --probe`: Redis answers `PING`, PostgreSQL `SELECT 1`, and
//! the SQLite file's folder exists and can be written.

use std::time::{Duration, Instant};

use secrecy::ExposeSecret as _;

use crate::config::{without_password, Settings};

/// How long one store may take to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// One line per store: what was reached, and how long it took or why it failed.
pub async fn probe(settings: &Settings) -> Vec<(String, Result<Duration, String>)> {
    let mut lines = Vec::new();
    if let Some(url) = &settings.stores.redis_url {
        let started = Instant::now();
        let outcome = timed(async {
            let client = ::redis::Client::open(url.expose_secret()).map_err(|e| e.to_string())?;
            let mut conn = client
                .get_multiplexed_async_connection()
                .await
                .map_err(|e| e.to_string())?;
            ::redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map_err(|e| e.to_string())
        })
        .await;
        lines.push((
            "sessions: Redis (SESSION_STORE) answers PING".to_owned(),
            outcome.map(|_| started.elapsed()),
        ));
    }
    let database_url = settings.database_url();
    if database_url.starts_with("sqlite:") || settings.stores.redis_url.is_none() {
        let sqlite = settings.sqlite_url();
        let path = sqlite
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        let folder = std::path::Path::new(path)
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let started = Instant::now();
        let outcome = match std::fs::metadata(&folder) {
            Ok(meta) if meta.permissions().readonly() => {
                Err(format!("{} is read-only", folder.display()))
            }
            Ok(_) => Ok(started.elapsed()),
            Err(_) if !folder.exists() => Err(format!(
                "{} does not exist yet (start-up creates it)",
                folder.display()
            )),
            Err(e) => Err(e.to_string()),
        };
        lines.push((format!("SQLite file {path}"), outcome));
    }
    if !database_url.starts_with("sqlite:") {
        let started = Instant::now();
        let outcome = timed(async {
            use sqlx::Connection as _;
            let mut conn = sqlx::PgConnection::connect(&database_url)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::query("SELECT 1")
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            let _ = conn.close().await;
            Ok(())
        })
        .await;
        lines.push((
            format!(
                "users: PostgreSQL (DATABASE_URL {}) answers SELECT 1",
                without_password(&database_url)
            ),
            outcome.map(|()| started.elapsed()),
        ));
    }
    lines
}

async fn timed<T>(work: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::time::timeout(PROBE_TIMEOUT, work)
        .await
        .unwrap_or_else(|_| Err(format!("no answer in {} s", PROBE_TIMEOUT.as_secs())))
}
