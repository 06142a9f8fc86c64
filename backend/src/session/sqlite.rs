//! The default session store: a table in the SQLite database, so a restart keeps everyone
//! signed in.

use async_trait::async_trait;
use rusqlite::params;
use sqlx::sqlite::SqliteRow;
use sqlx::Row as _;

use super::id::SessionKey;
use super::store::{Record, Removed, SessionStore};
use crate::storage::sqlite::Db;
use crate::storage::{StoreError, StoreResultExt as _};

/// The stored columns, in the order [`keyed`] reads them.
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

    /// Runs `job` on the writer connection; `what` names the failure.
    async fn write<T: Send + 'static>(
        &self,
        what: &'static str,
        job: impl FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.db.write.run(job).await.store(what)
    }
}

/// A row read by a reader (sqlx).
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

/// A row of [`columns!`] read by the writer (rusqlite).
fn keyed(row: &rusqlite::Row<'_>) -> rusqlite::Result<(SessionKey, Record)> {
    let key: Vec<u8> = row.get(0)?;
    let key = key.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Blob,
            "a session key is not 32 bytes".into(),
        )
    })?;
    Ok((
        SessionKey(key),
        Record {
            public_id: row.get(1)?,
            user_id: row.get(2)?,
            data: row.get(3)?,
            version: row.get(4)?,
            created_at: row.get(5)?,
            last_seen: row.get(6)?,
            expires_at: row.get(7)?,
        },
    ))
}

/// Stores a new session row (on the writer).
fn insert_row(db: &rusqlite::Connection, key: &SessionKey, r: &Record) -> rusqlite::Result<usize> {
    db.prepare_cached(concat!(
        "INSERT INTO sessions (",
        columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?
    .execute(params![
        &key.0[..],
        r.public_id,
        r.user_id,
        r.data,
        r.version,
        r.created_at,
        r.last_seen,
        r.expires_at
    ])
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
        let (key, r) = (*key, r.clone());
        self.write("Failed to insert a session", move |db| {
            insert_row(db, &key, &r)
        })
        .await?;
        Ok(())
    }

    async fn update(
        &self,
        key: &SessionKey,
        r: &Record,
        expected: i64,
    ) -> Result<bool, StoreError> {
        let (key, r) = (*key, r.clone());
        // An UPDATE, never an upsert: a session deleted meanwhile stays deleted.
        let changed = self
            .write("Failed to update a session", move |db| {
                db.prepare_cached(
                    "UPDATE sessions SET user_id = ?2, data = ?3, version = ?4, last_seen = ?5, expires_at = ?6
                     WHERE key = ?1 AND version = ?7",
                )?
                .execute(params![
                    &key.0[..],
                    r.user_id,
                    r.data,
                    r.version,
                    r.last_seen,
                    r.expires_at,
                    expected
                ])
            })
            .await?;
        Ok(changed == 1)
    }

    async fn touch(&self, key: &SessionKey, last_seen: i64) -> Result<(), StoreError> {
        let key = *key;
        self.write("Failed to touch a session", move |db| {
            db.prepare_cached("UPDATE sessions SET last_seen = MAX(last_seen, ?2) WHERE key = ?1")?
                .execute(params![&key.0[..], last_seen])
        })
        .await?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let key = *key;
        let changed = self
            .write("Failed to delete a session", move |db| {
                db.prepare_cached("DELETE FROM sessions WHERE key = ?1")?
                    .execute(params![&key.0[..]])
            })
            .await?;
        Ok(changed == 1)
    }

    async fn replace(
        &self,
        old: &SessionKey,
        new: &SessionKey,
        r: &Record,
    ) -> Result<(), StoreError> {
        let (old, new, r) = (*old, *new, r.clone());
        // The row is re-keyed in place: one write instead of a delete and an insert (the
        // single writer serialises every write, so each one counts), and atomic. When the
        // old session is gone already (swept, or signed out meanwhile) it is a plain
        // insert. A lease held on the old session does not pass to the new one.
        self.write("Failed to replace a session", move |db| {
            let changed = db
                .prepare_cached(
                    "UPDATE sessions SET key = ?2, public_id = ?3, user_id = ?4, data = ?5,
                         version = ?6, created_at = ?7, last_seen = ?8, expires_at = ?9,
                         lease_owner = NULL, lease_until_ms = NULL
                     WHERE key = ?1",
                )?
                .execute(params![
                    &old.0[..],
                    &new.0[..],
                    r.public_id,
                    r.user_id,
                    r.data,
                    r.version,
                    r.created_at,
                    r.last_seen,
                    r.expires_at
                ])?;
            if changed == 0 {
                insert_row(db, &new, &r)?;
            }
            Ok(())
        })
        .await
    }

    async fn list_for_user(&self, user_id: i64) -> Result<Vec<(SessionKey, Record)>, StoreError> {
        // From the writer: a list shown right after a sign-out elsewhere must not lag.
        self.write("Failed to list sessions", move |db| {
            db.prepare_cached(concat!(
                "SELECT ",
                columns!(),
                " FROM sessions WHERE user_id = ?1"
            ))?
            .query_map(params![user_id], keyed)?
            .collect()
        })
        .await
    }

    async fn delete_expired(
        &self,
        now: i64,
        idle_before: i64,
        limit: usize,
    ) -> Result<Vec<Removed>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.write("Failed to delete expired sessions", move |db| {
            db.prepare_cached(concat!(
                "DELETE FROM sessions WHERE key IN (
                     SELECT key FROM sessions WHERE expires_at <= ?1 OR last_seen < ?2 LIMIT ?3)
                 RETURNING ",
                columns!()
            ))?
            .query_map(params![now, idle_before, limit], |row| {
                keyed(row).map(|(key, record)| Removed { key, record })
            })?
            .collect()
        })
        .await
    }

    async fn try_lease(
        &self,
        key: &SessionKey,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let (key, owner) = (*key, owner.to_owned());
        let changed = self
            .write("Failed to take a refresh lease", move |db| {
                db.prepare_cached(
                    "UPDATE sessions SET lease_owner = ?2, lease_until_ms = ?4
                     WHERE key = ?1 AND (lease_owner IS NULL OR lease_owner = ?2 OR lease_until_ms <= ?3)",
                )?
                .execute(params![&key.0[..], owner, now_ms, until_ms])
            })
            .await?;
        Ok(changed == 1)
    }

    async fn release_lease(&self, key: &SessionKey, owner: &str) -> Result<(), StoreError> {
        let (key, owner) = (*key, owner.to_owned());
        self.write("Failed to release a refresh lease", move |db| {
            db.prepare_cached(
                "UPDATE sessions SET lease_owner = NULL, lease_until_ms = NULL
                 WHERE key = ?1 AND lease_owner = ?2",
            )?
            .execute(params![&key.0[..], owner])
        })
        .await?;
        Ok(())
    }

    async fn first_sighting(
        &self,
        kind: &str,
        id: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let (kind, id) = (kind.to_owned(), id.to_owned());
        let changed = self
            .write("Failed to record a sighting", move |db| {
                db.prepare_cached(
                    "INSERT INTO seen_ids (kind, id, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                )?
                .execute(params![kind, id, expires_at])
            })
            .await?;
        Ok(changed == 1)
    }

    async fn forget_sightings(&self, now: i64) -> Result<(), StoreError> {
        self.write("Failed to forget old sightings", move |db| {
            db.prepare_cached("DELETE FROM seen_ids WHERE expires_at < ?1")?
                .execute(params![now])
        })
        .await?;
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
