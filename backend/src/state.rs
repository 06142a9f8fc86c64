//! `AppState`: everything handlers share, built once in `startup`.

use std::sync::Arc;

use secrecy::SecretString;

use crate::oauth::{GitHub, Providers};
use crate::security::rate_limit::IpRateLimiter;
use crate::session::Sessions;
use crate::tokens::TokenService;
use crate::users::UserStore;

pub struct AppState {
    /// `scheme://host[:port]` the browser uses; the only `Origin` accepted on writes.
    pub public_origin: String,
    pub dev_mode: bool,
    /// Every configured provider, by id.
    pub providers: Providers,
    /// GitHub, for what only GitHub offers (repositories, the API proxy, webhooks).
    pub github: Option<Arc<GitHub>>,
    pub sessions: Sessions,
    pub tokens: TokenService,
    pub users: UserStore,
    /// Which store holds what, for `/readyz` and the logs.
    pub store_kinds: StoreKinds,
    pub login_limiter: IpRateLimiter,
    pub callback_limiter: IpRateLimiter,
    /// New pre-auth sessions per client: each is a stored row.
    pub preauth_limiter: IpRateLimiter,
    /// `GITHUB_WEBHOOK_SECRET`; `None` turns the webhook endpoint off.
    pub webhook_secret: Option<SecretString>,
    /// `GITHUB_PROXY_ALLOW`.
    pub proxy_allow: Vec<String>,
}

/// Which kind of store holds sessions and users.
#[derive(Clone, Copy, Debug)]
pub struct StoreKinds {
    pub sessions: &'static str,
    pub users: &'static str,
}
