//! The users table: upserted on `(provider, provider_user_id)` at every sign-in.

use shared::api::User;

use crate::on_database;
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
        let owned = profile.clone();
        let id: i64 = on_database!(&self.db, pool => sqlx::query_scalar(UPSERT)
            .bind(&owned.provider)
            .bind(&owned.provider_user_id)
            .bind(&owned.login)
            .bind(&owned.name)
            .bind(&owned.email)
            .bind(&owned.avatar_url)
            .bind(&owned.profile_url)
            .bind(now)
            .fetch_one(pool)
            .await)
        .store("Failed to upsert the user")?;
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
        let (provider, provider_user_id) = (provider.to_owned(), provider_user_id.to_owned());
        on_database!(&self.db, pool => sqlx::query_scalar(
            "SELECT id FROM users WHERE provider = $1 AND provider_user_id = $2",
        )
        .bind(&provider)
        .bind(&provider_user_id)
        .fetch_optional(pool)
        .await)
        .store("Failed to look a user up")
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
        let (provider, sid) = (provider.to_owned(), sid.to_owned());
        on_database!(&self.db, pool => sqlx::query(
            "INSERT INTO provider_sessions (provider, sid, user_id, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (provider, sid) DO UPDATE SET user_id = excluded.user_id, at = excluded.at",
        )
        .bind(&provider)
        .bind(&sid)
        .bind(user_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .store("Failed to remember a provider session")
    }

    /// The person the provider's session `sid` belongs to.
    pub async fn by_provider_session(
        &self,
        provider: &str,
        sid: &str,
    ) -> Result<Option<i64>, StoreError> {
        let (provider, sid) = (provider.to_owned(), sid.to_owned());
        on_database!(&self.db, pool => sqlx::query_scalar(
            "SELECT user_id FROM provider_sessions WHERE provider = $1 AND sid = $2",
        )
        .bind(&provider)
        .bind(&sid)
        .fetch_optional(pool)
        .await)
        .store("Failed to look a provider session up")
    }

    /// Forgets provider sessions last seen before `cutoff`.
    pub async fn forget_provider_sessions_before(&self, cutoff: i64) -> Result<(), StoreError> {
        on_database!(&self.db, pool => sqlx::query("DELETE FROM provider_sessions WHERE at < $1")
            .bind(cutoff)
            .execute(pool)
            .await
            .map(|_| ()))
        .store("Failed to forget old provider sessions")
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        on_database!(&self.db, pool => sqlx::query("SELECT 1 FROM users LIMIT 1")
            .execute(pool)
            .await
            .map(|_| ()))
        .store("The user table is not reachable")
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
