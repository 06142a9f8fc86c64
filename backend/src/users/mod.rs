//! People: upserted on `(provider, provider_user_id)` at every sign-in, with this
//! product's own id for them.

use std::sync::Arc;

use shared::api::{Profile, User};
use shared::return_to::is_followable;

use crate::store::{StoreError, UserBackend};

#[derive(Clone)]
pub struct Users {
    store: Arc<dyn UserBackend>,
}

impl Users {
    pub fn new(store: Arc<dyn UserBackend>) -> Self {
        Self { store }
    }

    /// Inserts the person or refreshes their profile, and returns them with our own id.
    /// The login can change at the provider; the provider's id cannot, so it is the key.
    /// Links the provider sent (profile page, picture) are kept only when the SPA may use
    /// them: `https:`, or `http:` on loopback (the development provider).
    pub async fn upsert(&self, mut profile: Profile, now: i64) -> Result<User, StoreError> {
        let web = |link: Option<String>| link.filter(|l| is_followable(l));
        profile.0.avatar_url = web(profile.0.avatar_url.take());
        profile.0.profile_url = web(profile.0.profile_url.take());
        let id = crate::store::traced("users.upsert", self.store.upsert(&profile, now)).await?;
        Ok(profile.with_id(id))
    }

    /// Our id of the person a provider knows as `provider_user_id`, if they ever signed in.
    pub async fn find_id(
        &self,
        provider: &str,
        provider_user_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        crate::store::traced("users.find", self.store.find_id(provider, provider_user_id)).await
    }

    /// Ties `login` (an allow-list entry, lower case) at `provider` to the account
    /// `provider_user_id` unless it is tied to another already; returns the account it is
    /// tied to.
    pub async fn tie_login(
        &self,
        provider: &str,
        login: &str,
        provider_user_id: &str,
    ) -> Result<String, StoreError> {
        self.store
            .tie_login(provider, login, provider_user_id)
            .await
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}
