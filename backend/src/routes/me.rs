//! `GET /api/me` and `GET /api/me/repos`: the signed-in person and their repositories.

use actix_web::{web, HttpResponse, ResponseError};

use crate::error::ApiError;
use crate::oauth::ProviderError;
use crate::session::{removal_cookie, SignedIn};
use crate::state::AppState;

/// The hottest route: one cache lookup, no extra span.
pub async fn me(signed_in: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(signed_in.user())
}

#[tracing::instrument(name = "repos", skip_all)]
pub async fn repos(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let session = signed_in.session;
    let result = match state.sessions.open_tokens(&session) {
        Some(tokens) => state.github.repos(&tokens.access).await,
        // The key that sealed it is gone from TOKEN_KEYS: the session is unusable.
        None => Err(ProviderError::Revoked),
    };
    match result {
        Ok(repos) => Ok(HttpResponse::Ok().json(repos)),
        Err(ProviderError::Revoked) => {
            // The grant was revoked at GitHub: this session can do nothing any more.
            tracing::info!("provider token rejected; ending the session");
            state.sessions.delete(&session.key).await?;
            let mut response = ApiError::Unauthenticated.error_response();
            response
                .add_cookie(&removal_cookie())
                .map_err(anyhow::Error::from)?;
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}
