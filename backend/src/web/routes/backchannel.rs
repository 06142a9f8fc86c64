//! `POST /api/auth/backchannel-logout/{provider}`: OpenID Connect Back-Channel Logout
//! 1.0. The identity provider tells us one of its sessions (`sid`) or one person (`sub`)
//! signed out; every matching session ends, on every instance sharing the store.
//!
//! No browser calls this, so the CSRF rule does not apply: the logout token's
//! signature is the check, and each token (`jti`) is acted on once.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use shared::api::SignOutReason;

use crate::auth::{Ending, Revoke};
use crate::providers::LogoutRequest;
use crate::web::body::read_capped;
use crate::web::error::ApiError;
use crate::web::state::AppState;

/// How long a logout token's `jti` is remembered (they are short-lived).
const REMEMBER_SECS: i64 = 24 * 3600;

#[tracing::instrument(name = "backchannel_logout", skip_all)]
pub async fn logout(
    state: web::Data<AppState>,
    provider: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let auth = &state.auth;
    let provider = auth
        .providers
        .get(&provider.into_inner())
        .ok_or(ApiError::NotFound)?
        .clone();
    let form_encoded = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        return Err(ApiError::InvalidRequest(
            "The logout token must be sent as a form.".into(),
        ));
    }
    let body = read_capped(&req, payload).await?;
    let token = url::form_urlencoded::parse(&body)
        .find(|(name, _)| name == "logout_token")
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| ApiError::InvalidRequest("logout_token is required.".into()))?;
    let LogoutRequest { subject, sid, jti } =
        provider.verify_logout_token(&token).await.map_err(|e| {
            tracing::warn!(error = %e, "a logout token was refused");
            ApiError::InvalidRequest("The logout token is not valid.".into())
        })?;
    let kind = format!("logout-jti:{}", provider.id());
    let remember_until = auth.sessions.now() + REMEMBER_SECS;
    if !auth
        .seen
        .first_sighting(&kind, &jti, remember_until)
        .await?
    {
        return Err(ApiError::InvalidRequest(
            "This logout token was already used.".into(),
        ));
    }
    let ending = Ending::by_server(SignOutReason::ProviderLogout, Revoke::Nothing);
    let ended = match (&sid, &subject) {
        // A `sid` names one provider session: only the sessions made in it end (and
        // only the person's, when it names one too).
        (Some(sid), subject) => {
            auth.sign_out
                .end_provider_session(provider.id(), sid, subject.as_deref(), &ending)
                .await?
        }
        (None, Some(subject)) => {
            auth.sign_out
                .end_person(provider.id(), subject, &ending)
                .await?
        }
        (None, None) => 0,
    };
    tracing::info!(provider = provider.id(), ended, "back-channel logout");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}
