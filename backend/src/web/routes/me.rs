//! `GET /api/me`: the signed-in person.

use actix_web::HttpResponse;

use crate::web::extract::SignedIn;

/// The hottest route: one cache lookup, no extra span.
#[utoipa::path(get, path = "/api/me", tag = "session", security(("session" = [])),
    responses(
        (status = 200, description = "The signed-in person", body = shared::api::User),
        (status = 401, description = "`unauthenticated`", body = shared::api::ErrorBody)))]
pub async fn me(signed_in: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(signed_in.user())
}
