//! `AppState`: what handlers share, built once by the app room. Plain data: behaviour
//! lives in the auth services and in the web helpers that take what they need.

use secrecy::SecretString;

use super::limit::{IpRateLimiter, SessionLimiter};
use crate::auth::Auth;
use crate::store::StoreKinds;

pub struct AppState {
    pub auth: Auth,
    /// `scheme://host[:port]` the browser uses; the only `Origin` accepted on writes.
    pub public_origin: String,
    pub dev_mode: bool,
    /// Which store holds what, for `/readyz` and the logs.
    pub store_kinds: StoreKinds,
    pub limits: Limits,
    /// `GITHUB_WEBHOOK_SECRET`; `None` turns the webhook endpoint off.
    pub webhook_secret: Option<SecretString>,
    /// `GITHUB_PROXY_ALLOW`.
    pub proxy_allow: Vec<String>,
    /// `TRUSTED_PROXIES`, for the client address.
    pub trusted_proxies: crate::config::TrustedProxies,
    /// `GET /api/auth/providers`'s JSON (the providers, dev mode, the prefixes of the
    /// upstream and local APIs), made once at start-up: `index.html` carries the same bytes.
    pub providers_answer: actix_web::web::Bytes,
    /// `/api/{prefix}` of each upstream API: the requests that carry their request id to
    /// the handler (see `layer.rs`).
    pub upstream_paths: Vec<String>,
}

/// The per-client rate limits.
pub struct Limits {
    pub login: IpRateLimiter,
    pub callback: IpRateLimiter,
    /// New pre-auth sessions per client: each is a stored row.
    pub preauth: IpRateLimiter,
    /// New pre-auth sessions of every client together.
    pub preauth_total: IpRateLimiter,
    /// Calls to GitHub with a session's token, per session.
    pub github: SessionLimiter,
    /// Unsafe requests to upstream APIs, per session.
    pub api_writes: SessionLimiter,
}

impl Limits {
    /// Forgets clients whose allowance is full again (the sweep calls it).
    pub fn forget_idle_clients(&self) {
        self.login.forget_idle_clients();
        self.callback.forget_idle_clients();
        self.preauth.forget_idle_clients();
        self.preauth_total.forget_idle_clients();
        self.github.forget_idle_clients();
        self.api_writes.forget_idle_clients();
    }
}
