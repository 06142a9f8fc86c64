//! Refusing a request on purpose: the rate limits enforced, and every refusal (CSRF,
//! rate limit, failed sign-in) recorded against the session that sent it, in one place.

use actix_web::HttpRequest;
use shared::api::AuditKind;

use super::cookie::session_key;
use super::error::ApiError;
use super::extract::ClientIp;
use super::limit::{InFlight, IpRateLimiter, LimitError, SessionLimiter};
use super::state::AppState;
use crate::session::Session;

/// Counts the request against `limiter`; a refusal is recorded and answered 429 with
/// `Retry-After`.
pub async fn enforce(
    req: &HttpRequest,
    state: &AppState,
    limiter: &IpRateLimiter,
) -> Result<(), ApiError> {
    enforce_all(req, state, &[limiter]).await
}

/// Counts the request against every limiter of `limiters` at once (see
/// [`IpRateLimiter::check_all`]); a refusal is recorded and answered 429 with
/// `Retry-After`.
pub async fn enforce_all(
    req: &HttpRequest,
    state: &AppState,
    limiters: &[&IpRateLimiter],
) -> Result<(), ApiError> {
    match IpRateLimiter::check_all(req, limiters).await {
        Ok(()) => Ok(()),
        Err(LimitError::Store(e)) => Err(e.into()),
        Err(LimitError::Refused(refused)) => {
            record(req, state, AuditKind::RateLimited, None).await;
            Err(refused.into())
        }
    }
}

/// Lets one call of `session` to its provider through `limiter`; a refusal is recorded
/// and answered 429 with `Retry-After`.
pub async fn enter(
    req: &HttpRequest,
    state: &AppState,
    limiter: &SessionLimiter,
    session: &Session,
) -> Result<InFlight, ApiError> {
    match limiter.enter(session).await {
        Ok(call) => Ok(call),
        Err(LimitError::Store(e)) => Err(e.into()),
        Err(LimitError::Refused(refused)) => {
            let client_ip = ClientIp::of(req, state).0;
            state
                .auth
                .record_refusal(Some(session), AuditKind::RateLimited, None, client_ip)
                .await;
            Err(refused.into())
        }
    }
}

/// Records a refused request against the browser's session, if it has one.
pub async fn record(
    req: &HttpRequest,
    state: &AppState,
    kind: AuditKind,
    reason: Option<&'static str>,
) {
    let session = state.auth.current(session_key(req)).await.ok().flatten();
    let client_ip = ClientIp::of(req, state).0;
    state
        .auth
        .record_refusal(session.as_ref(), kind, reason, client_ip)
        .await;
}
