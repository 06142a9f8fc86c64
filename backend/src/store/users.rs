//! The people who signed in: one row per provider account, upserted at every sign-in.

use async_trait::async_trait;
use shared::api::Profile;

use super::{Ping, StoreError};

/// Storage of people. The provider's stable id is the key, never the login (which can
/// change at the provider).
#[async_trait]
pub trait UserRecords: Send + Sync {
    /// Inserts the person or refreshes their profile (last sign-in at `now`), and
    /// returns this product's id for them.
    async fn upsert(&self, profile: &Profile, now: i64) -> Result<i64, StoreError>;
    /// Our id of the person `provider` knows as `provider_user_id`, if they ever signed in.
    async fn find_id(
        &self,
        provider: &str,
        provider_user_id: &str,
    ) -> Result<Option<i64>, StoreError>;
    /// Ties `login` at `provider` to `provider_user_id` unless it is tied already, and
    /// returns the account it is tied to: the first caller wins, for good.
    async fn tie_login(
        &self,
        provider: &str,
        login: &str,
        provider_user_id: &str,
    ) -> Result<String, StoreError>;
}

/// Everything the users service needs of its store.
pub trait UserBackend: UserRecords + Ping {}
impl<T: UserRecords + Ping> UserBackend for T {}

/// The statements both SQL backends run: written once, in SQL both understand (`$n`
/// placeholders, `ON CONFLICT`, `RETURNING`).
pub(super) mod sql {
    pub const UPSERT: &str = "INSERT INTO users (provider, provider_user_id, login, name, email, avatar_url, profile_url, created_at, last_login_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
     ON CONFLICT (provider, provider_user_id) DO UPDATE SET
       login = excluded.login, name = excluded.name, email = excluded.email,
       avatar_url = excluded.avatar_url, profile_url = excluded.profile_url,
       last_login_at = excluded.last_login_at
     RETURNING id";
    pub const FIND_ID: &str = "SELECT id FROM users WHERE provider = $1 AND provider_user_id = $2";
    pub const PING: &str = "SELECT 1 FROM users LIMIT 1";
    pub const TIE_LOGIN: &str = "INSERT INTO allowed_logins (provider, login, provider_user_id)
     VALUES ($1, $2, $3) ON CONFLICT (provider, login) DO NOTHING";
    pub const TIED_TO: &str =
        "SELECT provider_user_id FROM allowed_logins WHERE provider = $1 AND login = $2";
}
