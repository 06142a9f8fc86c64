//! `AppState`: everything handlers share, built once in `startup`.

use std::sync::Arc;

use secrecy::SecretString;
use shared::api::AuditKind;

use crate::audit;
use crate::error::ApiError;
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
    /// `TRUSTED_PROXIES`, for the client address in audit events.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `AUDIT_RETENTION_DAYS`.
    pub audit_retention_days: u64,
    /// `MEMBERSHIP_RECHECK_SECS`.
    pub membership_recheck_secs: u64,
}

impl AppState {
    /// GitHub, for a person who signed in with GitHub. A session from another provider
    /// holds that provider's token, which must never be sent to GitHub.
    pub fn github_for(&self, user: &shared::api::User) -> Option<&Arc<GitHub>> {
        self.github
            .as_ref()
            .filter(|github| crate::oauth::Provider::id(github.as_ref()) == user.provider)
    }

    /// The client's address (through trusted proxies), for audit events.
    pub fn client_ip(&self, req: &actix_web::HttpRequest) -> Option<String> {
        crate::security::client_ip::client_ip(req, &self.trusted_proxies).map(|ip| ip.to_string())
    }

    /// Records a refused request (CSRF, rate limit, failed sign-in) against the session
    /// that sent it, if the browser has one.
    pub async fn record_refusal(
        &self,
        req: &actix_web::HttpRequest,
        kind: AuditKind,
        reason: Option<&'static str>,
    ) {
        let session = self.sessions.load(req).await.ok().flatten();
        self.sessions
            .audit()
            .record(audit::Event {
                reason,
                user_id: session.as_ref().and_then(|s| s.user_id),
                session_id: session.as_ref().map(|s| s.public_id.to_string()),
                client_ip: self.client_ip(req),
                device: session.as_ref().and_then(|s| s.data.device.clone()),
                ..audit::Event::new(kind)
            })
            .await;
    }

    /// Counts the request against `limiter`; a refusal is recorded.
    pub async fn limit(
        &self,
        req: &actix_web::HttpRequest,
        limiter: &IpRateLimiter,
    ) -> Result<(), ApiError> {
        let verdict = limiter.check(req).await;
        if let Err(ApiError::RateLimited { .. }) = &verdict {
            self.record_refusal(req, AuditKind::RateLimited, None).await;
        }
        verdict
    }
}

/// Which kind of store holds sessions and users.
#[derive(Clone, Copy, Debug)]
pub struct StoreKinds {
    pub sessions: &'static str,
    pub users: &'static str,
}
