//! `GET /api/me` and `GET /api/me/repos`: the signed-in person and their repositories.

use actix_web::{web, HttpResponse, ResponseError};

use crate::error::ApiError;
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
    let github = state
        .github_for(signed_in.user())
        .ok_or(ApiError::NotFound)?;
    let result = state
        .tokens
        .with_token(&signed_in.session, |token| async move {
            github.repos(&token).await
        })
        .await;
    match result {
        Ok(repos) => Ok(HttpResponse::Ok().json(repos)),
        // The session ended (grant revoked at GitHub, or renewal refused): tell the
        // browser to drop the cookie as well.
        Err(e @ (ApiError::Unauthenticated | ApiError::SessionExpired)) => {
            let mut response = e.error_response();
            response
                .add_cookie(&removal_cookie())
                .map_err(anyhow::Error::from)?;
            Ok(response)
        }
        Err(e) => Err(e),
    }
}
