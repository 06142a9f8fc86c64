//! `GET /api/me`: the signed-in person.

use actix_web::HttpResponse;

use crate::web::extract::SignedIn;

// The hottest route: one cache lookup, no extra span, and the person's JSON serialised
// once per session (the bytes are shared by every later answer from the read cache).
/// The signed-in person.
#[utoipa::path(get, path = "/api/me", tag = "session", security(("session" = [])),
    responses(
        (status = 200, description = "The signed-in person", body = shared::api::User),
        (status = 401, description = "`unauthenticated`", body = shared::api::ErrorBody)))]
pub async fn me(signed_in: SignedIn) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(signed_in.session.data.user_json())
}
