//! `GET /api/me` and `GET /api/me/repos`: the signed-in person and their repositories.

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use crate::error::ApiError;
use crate::oauth::AccessToken;
use crate::session::removal_cookie;
use crate::state::AppState;

/// The hottest route: one cache lookup, no extra span.
pub async fn me(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let session = state.sessions.load(&req).await?;
    let user = session
        .as_ref()
        .and_then(|s| s.data.user.as_ref())
        .ok_or(ApiError::Unauthenticated)?;
    Ok(HttpResponse::Ok().json(user))
}

#[tracing::instrument(name = "repos", skip_all)]
pub async fn repos(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let session = state
        .sessions
        .load(&req)
        .await?
        .filter(|s| s.data.user.is_some())
        .ok_or(ApiError::Unauthenticated)?;
    let token = session
        .data
        .sealed_token
        .as_deref()
        .and_then(|sealed| state.keys.open("access_token", sealed).ok())
        .map(AccessToken::new);
    let result = match &token {
        Some(token) => state.github.repos(token).await,
        // The key that sealed it is gone from TOKEN_KEYS: the session is unusable.
        None => Err(ApiError::Unauthenticated),
    };
    match result {
        Ok(repos) => Ok(HttpResponse::Ok().json(repos)),
        Err(ApiError::Unauthenticated) => {
            // The grant was revoked at GitHub: this session can do nothing any more.
            tracing::info!("provider token rejected; ending the session");
            state.sessions.delete(&session.key).await?;
            let mut response = ApiError::Unauthenticated.error_response();
            response
                .add_cookie(&removal_cookie())
                .map_err(anyhow::Error::from)?;
            Ok(response)
        }
        Err(e) => Err(e),
    }
}
