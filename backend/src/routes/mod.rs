//! HTTP routes: the JSON API under `/api`, health checks.

pub mod auth;
pub mod backchannel;
pub mod github_proxy;
pub mod health;
pub mod json;
pub mod me;
pub mod sessions;
pub mod spa;
pub mod webhooks;

use actix_web::{web, HttpResponse};

use crate::error::ApiError;

/// Routes are tried in the order given: the hottest first, and the ones with path
/// parameters (matched with a regular expression) last.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api")
            .route("/me", web::get().to(me::me))
            .route("/auth/session", web::get().to(auth::session))
            .route("/auth/providers", web::get().to(auth::providers))
            .route("/auth/login", web::post().to(auth::login))
            .route("/auth/callback", web::post().to(auth::callback))
            .route("/auth/logout", web::post().to(auth::logout))
            .route("/me/repos", web::get().to(me::repos))
            .route("/me/sessions", web::get().to(sessions::list))
            .route("/me/activity", web::get().to(sessions::activity))
            .route("/webhooks/github", web::post().to(webhooks::github))
            .route("/me/sessions/{id}", web::delete().to(sessions::end))
            .route(
                "/auth/backchannel-logout/{provider}",
                web::post().to(backchannel::logout),
            )
            .route("/github/{path:.*}", web::get().to(github_proxy::get))
            .default_service(web::to(api_not_found)),
    )
    .route("/healthz", web::get().to(health::live))
    .route("/readyz", web::get().to(health::ready))
    .default_service(web::to(spa::serve));
}

/// Unknown `/api/*` paths (and wrong methods) answer JSON, never the SPA's HTML.
async fn api_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
