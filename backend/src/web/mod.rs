//! The web edge: the only room that imports actix-web or names [`ApiError`]. It reads
//! requests (cookie, body, client address), applies the CSRF rule and the rate limits,
//! calls the auth services, and writes answers (JSON, the cookie, security headers).

pub mod body;
pub mod client_ip;
pub mod cookie;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod headers;
pub mod layer;
pub mod limit;
pub mod local;
pub mod method;
pub mod metrics;
pub mod openapi;
pub mod refuse;
pub mod routes;
pub mod state;
pub mod static_assets;
pub mod upstream;

use actix_web::{web, HttpResponse};

pub use self::error::ApiError;
pub use self::local::LocalApi;
use self::routes::{auth, backchannel, github, health, identity, me, sessions, spa, webhooks};
use self::upstream::UpstreamApi;

/// What the route table holds besides the built-in routes.
#[derive(Clone, Default)]
pub struct Extensions {
    /// Upstream APIs (`[[api]]`).
    pub apis: Vec<web::Data<UpstreamApi>>,
    /// The team's own handlers (`LocalApi`).
    pub local: Vec<LocalApi>,
}

/// The route table. Scopes are tried in the order given:
/// 1. the endpoints other servers call (GitHub's webhook, OpenID Connect back-channel
///    logout), each its own scope with its own body limit, outside the CSRF rule: a
///    signature is their check;
/// 2. upstream APIs, each its own scope under the CSRF rule for any content type
///    (`upstream/`);
/// 3. everything a browser calls, under the CSRF guard: `/api` (the hottest routes
///    first, then local APIs, and the ones with path parameters, matched by regular
///    expression, last), then everything else (the SPA). Two sibling scopes, each with
///    the guard, rather than `/api` nested in a guarded `""`: a request passes one scope
///    instead of two (about 700 instructions of a signed-in read).
///
/// Which scope a request is in is decided by the router alone, so the guard needs no
/// list of paths: a spelling that reaches a browser route went through the guard.
pub fn configure(cfg: &mut web::ServiceConfig, extensions: &Extensions) {
    cfg.service(
        web::resource("/api/webhooks/github")
            .app_data(body::BodyLimit(webhooks::MAX_DELIVERY))
            .route(method::post().to(webhooks::github))
            .default_service(web::to(api_not_found)),
    )
    // A scope with a plain prefix around the path parameter: a resource with a parameter
    // at this level was matched by regular expression against every request's path (a
    // tenth of the CPU time of `GET /api/me`); the prefix is compared first.
    .service(
        web::scope("/api/auth/backchannel-logout")
            .route("/{provider}", method::post().to(backchannel::logout))
            .default_service(web::to(api_not_found)),
    );
    upstream::configure(cfg, &extensions.apis);
    let locals = extensions.local.clone();
    cfg.service(
        web::scope("/api")
            .wrap(csrf::Guard(csrf::Body::Json))
            .route("/me", method::get().to(me::me))
            .route("/auth/session", method::get().to(auth::session))
            .route("/auth/providers", method::get().to(auth::providers))
            .route("/auth/login", method::post().to(auth::login))
            .route("/auth/callback", method::post().to(auth::callback))
            .route("/auth/logout", method::post().to(auth::logout))
            .route("/me/repos", method::get().to(github::repos))
            .route("/me/sessions", method::get().to(sessions::list))
            .route("/me/activity", method::get().to(sessions::activity))
            .route("/openapi.json", method::get().to(openapi::serve))
            .configure(|cfg| local::configure(cfg, &locals))
            .route("/me/sessions/{id}", method::delete().to(sessions::end))
            .route("/github/{path:.*}", method::get().to(github::proxy))
            .default_service(web::to(api_not_found)),
    )
    .service(
        web::scope("")
            .wrap(csrf::Guard(csrf::Body::Json))
            .route("/.well-known/jwks.json", method::get().to(identity::jwks))
            .route("/healthz", method::get().to(health::live))
            .route("/readyz", method::get().to(health::ready))
            .default_service(web::to(spa::serve)),
    );
}

/// Unknown `/api/*` paths (and wrong methods) answer JSON, never the SPA's HTML.
async fn api_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
