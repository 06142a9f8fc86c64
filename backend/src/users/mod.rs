//! The users table: upserted on `(provider, provider_user_id)` at every sign-in.

use shared::api::User;
use sqlx::SqlitePool;

use crate::storage::{StoreError, StoreResultExt as _};

/// What a provider told us about a person.
#[derive(Debug, Clone)]
pub struct Profile {
    pub provider: &'static str,
    pub provider_user_id: String,
    pub login: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
}

/// Every query here writes (or is a readiness ping), so it takes the writer pool.
#[derive(Clone)]
pub struct UserStore {
    pool: SqlitePool,
}

impl UserStore {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// Inserts the person or refreshes their profile, and returns them with our own id.
    /// The login can change on GitHub; the numeric id cannot, so it is the key.
    pub async fn upsert(&self, profile: &Profile, now: i64) -> Result<User, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (provider, provider_user_id, login, name, email, avatar_url, profile_url, created_at, last_login_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
             ON CONFLICT (provider, provider_user_id) DO UPDATE SET
               login = excluded.login, name = excluded.name, email = excluded.email,
               avatar_url = excluded.avatar_url, profile_url = excluded.profile_url,
               last_login_at = excluded.last_login_at
             RETURNING id",
        )
        .bind(profile.provider)
        .bind(&profile.provider_user_id)
        .bind(&profile.login)
        .bind(&profile.name)
        .bind(&profile.email)
        .bind(&profile.avatar_url)
        .bind(&profile.profile_url)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .store("Failed to upsert the user")?;
        Ok(User {
            id,
            provider: profile.provider.to_owned(),
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
        sqlx::query_scalar("SELECT id FROM users WHERE provider = ?1 AND provider_user_id = ?2")
            .bind(provider)
            .bind(provider_user_id)
            .fetch_optional(&self.pool)
            .await
            .store("Failed to look a user up")
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .store("The user table is not reachable")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(login: &str) -> Profile {
        Profile {
            provider: "github",
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
        let users = UserStore::new(db.write);
        let first = users.upsert(&profile("octocat"), 1).await.unwrap();
        let second = users.upsert(&profile("octocat-renamed"), 2).await.unwrap();
        assert_eq!(first.id, second.id);
        assert_eq!(second.login, "octocat-renamed");
    }
}
