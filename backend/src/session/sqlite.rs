//! The default session store: a table in the SQLite database, so a restart keeps everyone
//! signed in.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row as _;

use super::id::SessionKey;
use super::store::{Record, Removed, SessionStore};
use crate::storage::sqlite::Db;
use crate::storage::{StoreError, StoreResultExt as _};

/// The stored columns, as a literal so that queries can be `'static` (the writer's task
/// takes only queries that own their SQL).
macro_rules! columns {
    () => {
        "key, public_id, user_id, data, version, created_at, last_seen, expires_at"
    };
}

pub struct SqliteStore {
    db: Db,
}

impl SqliteStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn record(row: &SqliteRow) -> Result<Record, sqlx::Error> {
    Ok(Record {
        public_id: row.try_get("public_id")?,
        user_id: row.try_get("user_id")?,
        data: row.try_get("data")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        last_seen: row.try_get("last_seen")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn keyed(row: &SqliteRow) -> Result<(SessionKey, Record), sqlx::Error> {
    let key: Vec<u8> = row.try_get("key")?;
    let key = SessionKey(
        key.try_into()
            .map_err(|_| sqlx::Error::Decode("a session key is not 32 bytes".into()))?,
    );
    Ok((key, record(row)?))
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<Record>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM sessions WHERE key = ?1"
        ))
        .bind(&key.0[..])
        .fetch_optional(&self.db.read)
        .await
        .store("Failed to load a session")?;
        row.as_ref()
            .map(record)
            .transpose()
            .store("Failed to read a session row")
    }

    async fn insert(&self, key: &SessionKey, r: &Record) -> Result<(), StoreError> {
        let insert = sqlx::query(concat!(
            "INSERT INTO sessions (",
            columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ))
        .bind(key.0.to_vec())
        .bind(r.public_id.clone())
        .bind(r.user_id)
        .bind(r.data.clone())
        .bind(r.version)
        .bind(r.created_at)
        .bind(r.last_seen)
        .bind(r.expires_at);
        self.db
            .write
            .execute(insert)
            .await
            .store("Failed to insert a session")?;
        Ok(())
    }

    async fn update(
        &self,
        key: &SessionKey,
        r: &Record,
        expected: i64,
    ) -> Result<bool, StoreError> {
        // An UPDATE, never an upsert: a session deleted meanwhile stays deleted.
        let update = sqlx::query(
            "UPDATE sessions SET user_id = ?2, data = ?3, version = ?4, last_seen = ?5, expires_at = ?6
             WHERE key = ?1 AND version = ?7",
        )
        .bind(key.0.to_vec())
        .bind(r.user_id)
        .bind(r.data.clone())
        .bind(r.version)
        .bind(r.last_seen)
        .bind(r.expires_at)
        .bind(expected);
        let done = self
            .db
            .write
            .execute(update)
            .await
            .store("Failed to update a session")?;
        Ok(done.rows_affected() == 1)
    }

    async fn touch(&self, key: &SessionKey, last_seen: i64) -> Result<(), StoreError> {
        let touch =
            sqlx::query("UPDATE sessions SET last_seen = MAX(last_seen, ?2) WHERE key = ?1")
                .bind(key.0.to_vec())
                .bind(last_seen);
        self.db
            .write
            .execute(touch)
            .await
            .store("Failed to touch a session")?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let delete = sqlx::query("DELETE FROM sessions WHERE key = ?1").bind(key.0.to_vec());
        let done = self
            .db
            .write
            .execute(delete)
            .await
            .store("Failed to delete a session")?;
        Ok(done.rows_affected() == 1)
    }

    async fn replace(
        &self,
        old: &SessionKey,
        new: &SessionKey,
        r: &Record,
    ) -> Result<(), StoreError> {
        // The row is re-keyed in place: one write instead of a delete and an insert (the
        // single writer serialises every write, so each one counts), and atomic. A lease
        // held on the old session does not pass to the new one.
        let rekey = sqlx::query(
            "UPDATE sessions SET key = ?2, public_id = ?3, user_id = ?4, data = ?5, version = ?6,
                 created_at = ?7, last_seen = ?8, expires_at = ?9,
                 lease_owner = NULL, lease_until_ms = NULL
             WHERE key = ?1",
        )
        .bind(old.0.to_vec())
        .bind(new.0.to_vec())
        .bind(r.public_id.clone())
        .bind(r.user_id)
        .bind(r.data.clone())
        .bind(r.version)
        .bind(r.created_at)
        .bind(r.last_seen)
        .bind(r.expires_at);
        let done = self
            .db
            .write
            .execute(rekey)
            .await
            .store("Failed to replace a session")?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            // The old session is gone (swept, or signed out meanwhile): a plain insert.
            self.insert(new, r).await
        }
    }

    async fn list_for_user(&self, user_id: i64) -> Result<Vec<(SessionKey, Record)>, StoreError> {
        // From the writer: a list shown right after a sign-out elsewhere must not lag.
        let list = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM sessions WHERE user_id = ?1"
        ))
        .bind(user_id);
        let rows = self
            .db
            .write
            .fetch_all(list)
            .await
            .store("Failed to list sessions")?;
        rows.iter()
            .map(keyed)
            .collect::<Result<_, _>>()
            .store("Failed to read a session row")
    }

    async fn delete_expired(
        &self,
        now: i64,
        idle_before: i64,
        limit: usize,
    ) -> Result<Vec<Removed>, StoreError> {
        let sweep = sqlx::query(concat!(
            "DELETE FROM sessions WHERE key IN (
                 SELECT key FROM sessions WHERE expires_at <= ?1 OR last_seen < ?2 LIMIT ?3)
             RETURNING ",
            columns!()
        ))
        .bind(now)
        .bind(idle_before)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = self
            .db
            .write
            .fetch_all(sweep)
            .await
            .store("Failed to delete expired sessions")?;
        rows.iter()
            .map(|row| keyed(row).map(|(key, record)| Removed { key, record }))
            .collect::<Result<_, _>>()
            .store("Failed to read a session row")
    }

    async fn try_lease(
        &self,
        key: &SessionKey,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let lease = sqlx::query(
            "UPDATE sessions SET lease_owner = ?2, lease_until_ms = ?4
             WHERE key = ?1 AND (lease_owner IS NULL OR lease_owner = ?2 OR lease_until_ms <= ?3)",
        )
        .bind(key.0.to_vec())
        .bind(owner.to_owned())
        .bind(now_ms)
        .bind(until_ms);
        let done = self
            .db
            .write
            .execute(lease)
            .await
            .store("Failed to take a refresh lease")?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_lease(&self, key: &SessionKey, owner: &str) -> Result<(), StoreError> {
        let release = sqlx::query(
            "UPDATE sessions SET lease_owner = NULL, lease_until_ms = NULL
             WHERE key = ?1 AND lease_owner = ?2",
        )
        .bind(key.0.to_vec())
        .bind(owner.to_owned());
        self.db
            .write
            .execute(release)
            .await
            .store("Failed to release a refresh lease")?;
        Ok(())
    }

    async fn first_sighting(
        &self,
        kind: &str,
        id: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let sighting = sqlx::query(
            "INSERT INTO seen_ids (kind, id, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        )
        .bind(kind.to_owned())
        .bind(id.to_owned())
        .bind(expires_at);
        let done = self
            .db
            .write
            .execute(sighting)
            .await
            .store("Failed to record a sighting")?;
        Ok(done.rows_affected() == 1)
    }

    async fn forget_sightings(&self, now: i64) -> Result<(), StoreError> {
        let forget = sqlx::query("DELETE FROM seen_ids WHERE expires_at < ?1").bind(now);
        self.db
            .write
            .execute(forget)
            .await
            .store("Failed to forget old sightings")?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1 FROM sessions LIMIT 1")
            .execute(&self.db.read)
            .await
            .store("The session table is not reachable")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sqlite_store_keeps_the_store_contract() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.sqlite3").display());
        let db = crate::storage::sqlite::connect(&url).await.unwrap();
        super::super::contract::run(&SqliteStore::new(db.clone())).await;
        super::super::contract::one_of_many_concurrent_updates_wins(std::sync::Arc::new(
            SqliteStore::new(db),
        ))
        .await;
    }
}
