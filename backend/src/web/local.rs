//! Local APIs: a team's own actix-web handlers, mounted under `/api/{prefix}` in the
//! BFF's process. They sit inside the browser scope, so the CSRF rule, the JSON error
//! shape (return [`ApiError`](super::ApiError)), the security headers and the request log
//! apply exactly as for built-in routes, and they take the same extractors:
//! [`SignedIn`](super::extract::SignedIn) for the person and their session (401 JSON
//! without one), [`CurrentSession`](super::extract::CurrentSession),
//! [`ClientIp`](super::extract::ClientIp).
//!
//! ```no_run
//! use actix_web::{web, HttpResponse};
//! use backend::web::{extract::SignedIn, ApiError, LocalApi};
//!
//! async fn hello(signed_in: SignedIn) -> Result<HttpResponse, ApiError> {
//!     Ok(HttpResponse::Ok().json(serde_json::json!({ "hello": signed_in.user().login })))
//! }
//!
//! // GET /api/hello answers the signed-in person, 401 for anyone else.
//! let api = LocalApi::new("hello", |cfg| {
//!     cfg.route("", web::get().to(hello));
//! });
//! ```

use std::sync::Arc;

use actix_web::web;

/// Registers a local API's routes on a scope.
type Configure = dyn Fn(&mut web::ServiceConfig) + Send + Sync;

/// One local API: a prefix under `/api/` and the routes under it (paths relative to the
/// prefix: `""` is `/api/{prefix}` itself, `"/{id}"` one below it).
#[derive(Clone)]
pub struct LocalApi {
    prefix: String,
    configure: Arc<Configure>,
}

impl LocalApi {
    pub fn new(
        prefix: impl Into<String>,
        configure: impl Fn(&mut web::ServiceConfig) + Send + Sync + 'static,
    ) -> Self {
        Self {
            prefix: prefix.into(),
            configure: Arc::new(configure),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

impl std::fmt::Debug for LocalApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalApi")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Mounts every local API on the `/api` scope.
pub fn configure(cfg: &mut web::ServiceConfig, local: &[LocalApi]) {
    for api in local {
        let configure = api.configure.clone();
        cfg.service(web::scope(&format!("/{}", api.prefix)).configure(move |cfg| configure(cfg)));
    }
}
