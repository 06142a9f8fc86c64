//! `POST /api/auth/backchannel-logout/{provider}`: OpenID Connect Back-Channel Logout
//! 1.0. The identity provider tells us one of its sessions (`sid`) or one person (`sub`)
//! signed out; every matching session ends, on every instance sharing the store.
//!
//! No browser calls this, so the CSRF rule does not apply: the logout token's
//! signature is the check, and each token (`jti`) is acted on once (`auth::
//! provider_events`).

use crate::auth::Handled;
use crate::web::body::read_capped;
use crate::web::error::ApiError;
use crate::web::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

#[utoipa::path(post, path = "/api/auth/backchannel-logout/{provider}", tag = "server to server",
    params(("provider" = String, Path, description = "The OpenID Connect provider's id")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`logout_token=<JWT>`"),
    responses(
        (status = 200, description = "The sessions the token names are ended"),
        (status = 400, description = "`invalid_request` (bad, replayed or missing token)", body = shared::api::ErrorBody),
        (status = 404, description = "`not_found` (no such provider)", body = shared::api::ErrorBody),
        (status = 413, description = "`payload_too_large`", body = shared::api::ErrorBody)))]
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
    let request = provider.verify_logout_token(&token).await.map_err(|e| {
        tracing::warn!(error = %e, "a logout token was refused");
        ApiError::InvalidRequest("The logout token is not valid.".into())
    })?;
    let Handled::Acted { ended } = auth.logged_out_at_provider(provider.id(), request).await?
    else {
        return Err(ApiError::InvalidRequest(
            "This logout token was already used.".into(),
        ));
    };
    tracing::info!(provider = provider.id(), ended, "back-channel logout");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}
