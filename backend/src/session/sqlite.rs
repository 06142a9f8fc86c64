//! The default session store: a table in the SQLite database, so a restart keeps everyone
//! signed in.

use super::id::SessionKey;
use super::store::{Record, SessionStore};
use crate::db::Db;
use anyhow::Context;
use async_trait::async_trait;

pub struct SqliteStore {
    db: Db,
}

impl SqliteStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn load(&self, key: &SessionKey) -> anyhow::Result<Option<Record>> {
        let row: Option<(String, i64, i64)> =
            sqlx::query_as("SELECT data, created_at, last_seen FROM sessions WHERE key = ?1")
                .bind(&key.0[..])
                .fetch_optional(&self.db.read)
                .await
                .context("Failed to load a session")?;
        Ok(row.map(|(data, created_at, last_seen)| Record {
            data,
            created_at,
            last_seen,
        }))
    }

    async fn save(&self, key: &SessionKey, record: &Record) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO sessions (key, data, created_at, last_seen) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (key) DO UPDATE SET data = excluded.data, last_seen = excluded.last_seen",
        )
        .bind(&key.0[..])
        .bind(&record.data)
        .bind(record.created_at)
        .bind(record.last_seen)
        .execute(&self.db.write)
        .await
        .context("Failed to save a session")?;
        Ok(())
    }

    async fn touch(&self, key: &SessionKey, last_seen: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE sessions SET last_seen = ?2 WHERE key = ?1")
            .bind(&key.0[..])
            .bind(last_seen)
            .execute(&self.db.write)
            .await
            .context("Failed to touch a session")?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE key = ?1")
            .bind(&key.0[..])
            .execute(&self.db.write)
            .await
            .context("Failed to delete a session")?;
        Ok(())
    }

    async fn delete_expired(&self, idle_before: i64, created_before: i64) -> anyhow::Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE last_seen < ?1 OR created_at < ?2")
            .bind(idle_before)
            .bind(created_before)
            .execute(&self.db.write)
            .await
            .context("Failed to delete expired sessions")?;
        Ok(done.rows_affected())
    }

    async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1 FROM sessions LIMIT 1")
            .execute(&self.db.read)
            .await
            .context("The session table is not reachable")?;
        Ok(())
    }
}
