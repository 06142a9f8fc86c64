//! People in the SQLite file. Every query runs on the writer connection (most of them
//! write, and a read right after a sign-in must see it).

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension as _};
use shared::api::Profile;

use super::{Db, Writer};
use crate::store::users::sql;
use crate::store::{Ping, StoreError, StoreResultExt as _, UserRecords};

pub struct SqliteUsers {
    writer: Writer,
    /// For readiness: a health check must never queue behind the writer.
    read: sqlx::SqlitePool,
}

impl SqliteUsers {
    pub fn new(db: &Db) -> Self {
        Self {
            writer: db.write.clone(),
            read: db.read.clone(),
        }
    }
}

#[async_trait]
impl UserRecords for SqliteUsers {
    async fn upsert(&self, profile: &Profile, now: i64) -> Result<i64, StoreError> {
        let p = profile.clone();
        self.writer
            .run(move |db| {
                db.prepare_cached(sql::UPSERT)?.query_row(
                    params![
                        p.provider,
                        p.provider_user_id,
                        p.login,
                        p.name,
                        p.email,
                        p.avatar_url,
                        p.profile_url,
                        now
                    ],
                    |row| row.get(0),
                )
            })
            .await
            .store("Failed to upsert the user")
    }

    async fn find_id(
        &self,
        provider: &str,
        provider_user_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let (provider, subject) = (provider.to_owned(), provider_user_id.to_owned());
        self.writer
            .run(move |db| {
                db.prepare_cached(sql::FIND_ID)?
                    .query_row(params![provider, subject], |row| row.get(0))
                    .optional()
            })
            .await
            .store("Failed to look a user up")
    }

    async fn tie_login(
        &self,
        provider: &str,
        login: &str,
        provider_user_id: &str,
    ) -> Result<String, StoreError> {
        self.tie(provider, login, provider_user_id).await
    }
}

impl SqliteUsers {
    /// Both statements on the writer, in one job: nothing can come between them.
    async fn tie(&self, provider: &str, login: &str, subject: &str) -> Result<String, StoreError> {
        let (provider, login, subject) =
            (provider.to_owned(), login.to_owned(), subject.to_owned());
        self.writer
            .run(move |db| {
                db.prepare_cached(sql::TIE_LOGIN)?
                    .execute(params![provider, login, subject])?;
                db.prepare_cached(sql::TIED_TO)?
                    .query_row(params![provider, login], |row| row.get(0))
            })
            .await
            .store("Failed to tie an allowed login")
    }
}

#[async_trait]
impl Ping for SqliteUsers {
    /// On a reader: a health check never queues behind the writer.
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(sql::PING)
            .execute(&self.read)
            .await
            .map(|_| ())
            .store("The user table is not reachable")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::contract;

    #[tokio::test]
    async fn the_sqlite_user_store_keeps_the_contract() {
        let (_dir, db) = super::super::temporary().await;
        contract::users::run(&SqliteUsers::new(&db)).await;
    }
}
