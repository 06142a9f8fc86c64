//! `POST /api/auth/backchannel-logout/{provider}`: OpenID Connect Back-Channel Logout
//! 1.0. The identity provider tells us one of its sessions (`sid`) or one person (`sub`)
//! signed out; every matching session ends, on every instance sharing the store.
//!
//! No browser calls this, so the CSRF rule does not apply: the logout token's
//! signature is the check, and each token (`jti`) is acted on once.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use shared::api::SignOutReason;

use super::json::read_capped;
use crate::error::ApiError;
use crate::oauth::LogoutRequest;
use crate::security::MAX_BODY;
use crate::state::AppState;

/// How long a logout token's `jti` is remembered (they are short-lived).
const REMEMBER_SECS: i64 = 24 * 3600;

#[tracing::instrument(name = "backchannel_logout", skip_all)]
pub async fn logout(
    state: web::Data<AppState>,
    provider: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let provider = state
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
    let body = read_capped(payload, MAX_BODY).await?;
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
    if !state
        .sessions
        .first_sighting(&kind, &jti, REMEMBER_SECS)
        .await?
    {
        return Err(ApiError::InvalidRequest(
            "This logout token was already used.".into(),
        ));
    }
    let user_id = match (&subject, &sid) {
        (Some(subject), _) => state.users.find_id(provider.id(), subject).await?,
        (None, Some(sid)) => state.users.by_provider_session(provider.id(), sid).await?,
        (None, None) => None,
    };
    let mut ended = 0;
    if let Some(user_id) = user_id {
        for session in state.sessions.list_for_user(user_id).await? {
            let same_provider = session.user().is_some_and(|u| u.provider == provider.id());
            let same_sid = sid
                .as_deref()
                .is_none_or(|sid| session.data.provider_sid.as_deref() == Some(sid));
            if same_provider
                && same_sid
                && state
                    .sessions
                    .end(&session, SignOutReason::ProviderLogout, None)
                    .await?
            {
                ended += 1;
            }
        }
    }
    tracing::info!(provider = provider.id(), ended, "back-channel logout");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}
