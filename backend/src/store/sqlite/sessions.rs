//! The default session store: a table in the SQLite database, so a restart keeps everyone
//! signed in. Leases are two columns of the same row; seen ids a table of their own.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension as _};

use super::Db;
use crate::store::{
    ExpiredDeletion, Ping, Record, RefreshLeases, Removed, SeenIds, SessionIndex, SessionKey,
    SessionRecords, StoreError, StoreResultExt as _,
};

/// The stored columns, in the order [`keyed`] reads them.
macro_rules! columns {
    () => {
        "key, public_id, person, provider_sid, data, version, created_at, last_seen, expires_at"
    };
}

pub struct SqliteSessions {
    db: Db,
}

impl SqliteSessions {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The sessions whose `column` equals `value` (an indexed column), from the writer:
    /// a list shown right after a sign-out elsewhere must not lag.
    async fn select_where(
        &self,
        column: &'static str,
        value: &str,
        what: &'static str,
    ) -> Result<Vec<(SessionKey, Record)>, StoreError> {
        let value = value.to_owned();
        self.write(what, move |db| {
            db.prepare_cached(&format!(
                concat!("SELECT ", columns!(), " FROM sessions WHERE {} = ?1"),
                column
            ))?
            .query_map(params![value], keyed)?
            .collect()
        })
        .await
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

/// A row of [`columns!`] (rusqlite).
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
            person: row.get(2)?,
            provider_sid: row.get(3)?,
            data: row.get(4)?,
            version: row.get(5)?,
            created_at: row.get(6)?,
            last_seen: row.get(7)?,
            expires_at: row.get(8)?,
        },
    ))
}

/// The columns after `key` of [`columns!`], as statement parameters, after `keys`.
fn row_params<'a>(keys: &[&'a SessionKey], r: &'a Record) -> Vec<&'a dyn rusqlite::ToSql> {
    let mut params: Vec<&dyn rusqlite::ToSql> = keys.iter().map(|k| &k.0 as _).collect();
    params.extend([
        &r.public_id as &dyn rusqlite::ToSql,
        &r.person,
        &r.provider_sid,
        &r.data,
        &r.version,
        &r.created_at,
        &r.last_seen,
        &r.expires_at,
    ]);
    params
}

/// Stores a new session row (on the writer).
fn insert_row(db: &rusqlite::Connection, key: &SessionKey, r: &Record) -> rusqlite::Result<usize> {
    db.prepare_cached(concat!(
        "INSERT INTO sessions (",
        columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))?
    .execute(&*row_params(&[key], r))
}

/// How many sessions `person` has (expired rows not swept yet count: the contract allows
/// more, never fewer). Read through the partial index on `person`.
fn count_of_person(db: &rusqlite::Connection, person: &str) -> rusqlite::Result<usize> {
    db.prepare_cached("SELECT COUNT(*) FROM sessions WHERE person = ?1")?
        .query_row(params![person], |row| row.get(0))
}

#[async_trait]
impl SessionRecords for SqliteSessions {
    async fn load(&self, key: &SessionKey) -> Result<Option<Record>, StoreError> {
        // On this thread: see `Readers`.
        self.db
            .inline
            .read(|db| {
                db.prepare_cached(concat!(
                    "SELECT ",
                    columns!(),
                    " FROM sessions WHERE key = ?1"
                ))?
                .query_row(params![&key.0[..]], keyed)
                .optional()
            })
            .map(|found| found.map(|(_, record)| record))
            .store("Failed to load a session")
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
                    "UPDATE sessions SET person = ?2, provider_sid = ?3, data = ?4, version = ?5,
                         last_seen = ?6, expires_at = ?7
                     WHERE key = ?1 AND version = ?8",
                )?
                .execute(params![
                    &key.0[..],
                    r.person,
                    r.provider_sid,
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
    ) -> Result<Option<usize>, StoreError> {
        let (old, new, r) = (*old, *new, r.clone());
        // The row is re-keyed in place: one write instead of a delete and an insert (the
        // single writer serialises every write, so each one counts), and atomic. When the
        // old session is gone already (swept, or signed out meanwhile) it is a plain
        // insert. A lease held on the old session does not pass to the new one. The
        // person's sessions are counted in the same job: one job less on the writer.
        self.write("Failed to replace a session", move |db| {
            let changed = db
                .prepare_cached(
                    "UPDATE sessions SET key = ?2, public_id = ?3, person = ?4, provider_sid = ?5,
                         data = ?6, version = ?7, created_at = ?8, last_seen = ?9,
                         expires_at = ?10, lease_owner = NULL, lease_until_ms = NULL
                     WHERE key = ?1",
                )?
                .execute(&*row_params(&[&old, &new], &r))?;
            if changed == 0 {
                insert_row(db, &new, &r)?;
            }
            r.person
                .as_deref()
                .map(|person| count_of_person(db, person))
                .transpose()
        })
        .await
    }
}

#[async_trait]
impl SessionIndex for SqliteSessions {
    async fn list_for_person(&self, person: &str) -> Result<Vec<(SessionKey, Record)>, StoreError> {
        self.select_where("person", person, "Failed to list sessions")
            .await
    }

    async fn count_for_person(&self, person: &str) -> Result<usize, StoreError> {
        let person = person.to_owned();
        self.write("Failed to count sessions", move |db| {
            count_of_person(db, &person)
        })
        .await
    }

    async fn with_provider_sid(
        &self,
        provider_sid: &str,
    ) -> Result<Vec<(SessionKey, Record)>, StoreError> {
        self.select_where(
            "provider_sid",
            provider_sid,
            "Failed to find the sessions of a provider session",
        )
        .await
    }

    async fn delete_all_for_person(&self, person: &str) -> Result<Vec<Removed>, StoreError> {
        let person = person.to_owned();
        self.write("Failed to delete a person's sessions", move |db| {
            db.prepare_cached(concat!(
                "DELETE FROM sessions WHERE person = ?1 RETURNING ",
                columns!()
            ))?
            .query_map(params![person], |row| {
                keyed(row).map(|(key, record)| Removed { key, record })
            })?
            .collect()
        })
        .await
    }
}

#[async_trait]
impl ExpiredDeletion for SqliteSessions {
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
}

#[async_trait]
impl RefreshLeases for SqliteSessions {
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
}

#[async_trait]
impl SeenIds for SqliteSessions {
    async fn has_seen(&self, kind: &str, id: &str, now: i64) -> Result<bool, StoreError> {
        let seen =
            sqlx::query("SELECT 1 FROM seen_ids WHERE kind = ?1 AND id = ?2 AND expires_at >= ?3")
                .bind(kind)
                .bind(id)
                .bind(now)
                .fetch_optional(&self.db.read)
                .await
                .store("Failed to look for a seen id")?;
        Ok(seen.is_some())
    }

    async fn remember(&self, kind: &str, id: &str, expires_at: i64) -> Result<(), StoreError> {
        let (kind, id) = (kind.to_owned(), id.to_owned());
        self.write("Failed to remember a seen id", move |db| {
            db.prepare_cached(
                "INSERT INTO seen_ids (kind, id, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (kind, id) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)",
            )?
            .execute(params![kind, id, expires_at])
        })
        .await?;
        Ok(())
    }

    async fn forget_sightings(&self, now: i64) -> Result<(), StoreError> {
        self.write("Failed to forget old sightings", move |db| {
            db.prepare_cached("DELETE FROM seen_ids WHERE expires_at < ?1")?
                .execute(params![now])
        })
        .await?;
        Ok(())
    }
}

#[async_trait]
impl Ping for SqliteSessions {
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
    use std::sync::Arc;

    use super::*;
    use crate::store::contract;

    #[tokio::test]
    async fn the_sqlite_session_store_keeps_every_contract() {
        let (_dir, db) = super::super::temporary().await;
        let store = Arc::new(SqliteSessions::new(db));
        contract::sessions::replace_counts_in_the_same_write(&*store).await;
        contract::sessions::run_all(store).await;
    }
}
