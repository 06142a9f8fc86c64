//! The users table: upserted on `(provider, provider_user_id)` at every sign-in.

use rusqlite::{params, OptionalExtension as _};
use shared::api::User;

use crate::storage::{Database, StoreError, StoreResultExt as _};

/// What a provider told us about a person.
#[derive(Debug, Clone)]
pub struct Profile {
    pub provider: String,
    pub provider_user_id: String,
    pub login: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
}

const UPSERT: &str = "INSERT INTO users (provider, provider_user_id, login, name, email, avatar_url, profile_url, created_at, last_login_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
     ON CONFLICT (provider, provider_user_id) DO UPDATE SET
       login = excluded.login, name = excluded.name, email = excluded.email,
       avatar_url = excluded.avatar_url, profile_url = excluded.profile_url,
       last_login_at = excluded.last_login_at
     RETURNING id";

/// In SQLite every query here runs on the writer connection (most of them write).
#[derive(Clone)]
pub struct UserStore {
    db: Database,
}

impl UserStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Inserts the person or refreshes their profile, and returns them with our own id.
    /// The login can change on GitHub; the numeric id cannot, so it is the key.
    pub async fn upsert(&self, profile: &Profile, now: i64) -> Result<User, StoreError> {
        let what = "Failed to upsert the user";
        let id: i64 = match &self.db {
            Database::Sqlite(writer) => {
                let p = profile.clone();
                writer
                    .run(move |db| {
                        db.prepare_cached(UPSERT)?.query_row(
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
                    .store(what)?
            }
            Database::Postgres(pool) => sqlx::query_scalar(UPSERT)
                .bind(&profile.provider)
                .bind(&profile.provider_user_id)
                .bind(&profile.login)
                .bind(&profile.name)
                .bind(&profile.email)
                .bind(&profile.avatar_url)
                .bind(&profile.profile_url)
                .bind(now)
                .fetch_one(pool)
                .await
                .store(what)?,
        };
        Ok(User {
            id,
            provider: profile.provider.clone(),
            provider_user_id: profile.provider_user_id.clone(),
            login: profile.login.clone(),
            name: profile.name.clone(),
            email: profile.email.clone(),
            avatar_url: profile.avatar_url.clone(),
            profile_url: profile.profile_url.clone(),
        })
    }

    /// Our id of the person a provider knows as `provider_user_id`, if they ever signed in.
    pub async fn find_id(
        &self,
        provider: &str,
        provider_user_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        self.lookup(
            "SELECT id FROM users WHERE provider = $1 AND provider_user_id = $2",
            provider,
            provider_user_id,
            "Failed to look a user up",
        )
        .await
    }

    /// Remembers that the provider's session `sid` belongs to `user_id` (OpenID Connect),
    /// for back-channel logout tokens that name only the session.
    pub async fn link_provider_session(
        &self,
        provider: &str,
        sid: &str,
        user_id: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        const LINK: &str = "INSERT INTO provider_sessions (provider, sid, user_id, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (provider, sid) DO UPDATE SET user_id = excluded.user_id, at = excluded.at";
        let what = "Failed to remember a provider session";
        match &self.db {
            Database::Sqlite(writer) => {
                let (provider, sid) = (provider.to_owned(), sid.to_owned());
                writer
                    .run(move |db| {
                        db.prepare_cached(LINK)?
                            .execute(params![provider, sid, user_id, now])
                    })
                    .await
                    .store(what)?;
            }
            Database::Postgres(pool) => {
                sqlx::query(LINK)
                    .bind(provider)
                    .bind(sid)
                    .bind(user_id)
                    .bind(now)
                    .execute(pool)
                    .await
                    .store(what)?;
            }
        }
        Ok(())
    }

    /// The person the provider's session `sid` belongs to.
    pub async fn by_provider_session(
        &self,
        provider: &str,
        sid: &str,
    ) -> Result<Option<i64>, StoreError> {
        self.lookup(
            "SELECT user_id FROM provider_sessions WHERE provider = $1 AND sid = $2",
            provider,
            sid,
            "Failed to look a provider session up",
        )
        .await
    }

    /// One id found by two text values, if any.
    async fn lookup(
        &self,
        sql: &'static str,
        first: &str,
        second: &str,
        what: &'static str,
    ) -> Result<Option<i64>, StoreError> {
        match &self.db {
            Database::Sqlite(writer) => {
                let (first, second) = (first.to_owned(), second.to_owned());
                writer
                    .run(move |db| {
                        db.prepare_cached(sql)?
                            .query_row(params![first, second], |row| row.get(0))
                            .optional()
                    })
                    .await
                    .store(what)
            }
            Database::Postgres(pool) => sqlx::query_scalar(sql)
                .bind(first)
                .bind(second)
                .fetch_optional(pool)
                .await
                .store(what),
        }
    }

    /// Forgets provider sessions last seen before `cutoff`.
    pub async fn forget_provider_sessions_before(&self, cutoff: i64) -> Result<(), StoreError> {
        const FORGET: &str = "DELETE FROM provider_sessions WHERE at < $1";
        let what = "Failed to forget old provider sessions";
        match &self.db {
            Database::Sqlite(writer) => {
                writer
                    .run(move |db| db.prepare_cached(FORGET)?.execute(params![cutoff]))
                    .await
                    .store(what)?;
            }
            Database::Postgres(pool) => {
                sqlx::query(FORGET)
                    .bind(cutoff)
                    .execute(pool)
                    .await
                    .store(what)?;
            }
        }
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        const PING: &str = "SELECT 1 FROM users LIMIT 1";
        let what = "The user table is not reachable";
        match &self.db {
            Database::Sqlite(writer) => {
                writer
                    .run(|db| db.query_row(PING, [], |_| Ok(())).optional().map(|_| ()))
                    .await
                    .store(what)?;
            }
            Database::Postgres(pool) => {
                sqlx::query(PING).execute(pool).await.store(what)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(login: &str) -> Profile {
        Profile {
            provider: "github".into(),
            provider_user_id: "583231".into(),
            login: login.into(),
            name: None,
            email: None,
            avatar_url: None,
            profile_url: None,
        }
    }

    #[tokio::test]
    async fn a_renamed_login_keeps_the_same_user() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.sqlite3").display());
        let db = crate::storage::sqlite::connect(&url).await.unwrap();
        let users = UserStore::new(Database::Sqlite(db.write));
        let first = users.upsert(&profile("octocat"), 1).await.unwrap();
        let second = users.upsert(&profile("octocat-renamed"), 2).await.unwrap();
        assert_eq!(first.id, second.id);
        assert_eq!(second.login, "octocat-renamed");
    }
}
