//! `GET /.well-known/jwks.json`: the public keys of the identity tokens the BFF sends to
//! upstream APIs (RFC 7517), so they verify offline. 404 when no API takes identity
//! tokens. Cacheable for five minutes: an upstream refreshes its copy at least that
//! often, and fetches it again at once on a key id it has not seen.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::web::error::ApiError;
use crate::web::state::AppState;

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "operations",
    responses(
        (status = 200, description = "The public keys of the identity tokens sent to upstream APIs (`application/jwk-set+json`)"),
        (status = 404, description = "`not_found` (no API takes identity tokens)", body = shared::api::ErrorBody)))]
pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let tokens = state.auth.identity.as_ref().ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/jwk-set+json"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(tokens.jwks().to_owned()))
}
