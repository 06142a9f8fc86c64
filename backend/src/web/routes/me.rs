//! `GET /api/me`: the signed-in person.

use actix_web::HttpResponse;

use crate::web::extract::SignedIn;

/// The hottest route: one cache lookup, no extra span.
pub async fn me(signed_in: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(signed_in.user())
}
