//! A GitHub OAuth and REST API emulator that runs in-process or as its own binary.
//!
//! It copies what github.com answers (see `github-oauth.md`): the authorize page and form,
//! the token endpoint with its HTTP-200 errors, `/user`, `/user/emails`, `/user/repos`
//! and token revocation. Tests steer it into misbehaving through [`Control`].

mod authorize;
pub mod cli;
mod faults;
mod fixtures;
mod html;
mod rest;
mod state;
mod token;
mod webhooks;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{web, App, HttpServer};

pub use faults::{Endpoint, Fault};
pub use fixtures::{FixtureUser, FIXTURE_USERS};
pub use html::hidden_fields;
pub use state::Control;
pub use webhooks::{signature as webhook_signature, Delivery};

/// The OAuth app the emulator knows, as registered on github.com.
#[derive(Clone)]
pub struct AppRegistration {
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    /// The only `redirect_uri` accepted (GitHub also accepts sub-paths; we are stricter).
    pub callback_url: String,
    /// GitHub App style: eight-hour access tokens with single-use refresh tokens. False
    /// is a classic OAuth App: tokens that never expire.
    pub expiring_tokens: bool,
}

impl std::fmt::Debug for AppRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppRegistration")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("callback_url", &self.callback_url)
            .field("expiring_tokens", &self.expiring_tokens)
            .finish()
    }
}

impl AppRegistration {
    /// A registration with a random client id and secret, for dev mode and tests.
    pub fn random(name: &str, callback_url: &str) -> Self {
        Self {
            name: name.to_owned(),
            client_id: format!("Iv1.{}", state::random_hex(8)),
            client_secret: state::random_hex(20),
            callback_url: callback_url.to_owned(),
            expiring_tokens: false,
        }
    }

    /// The same app, registered with expiring tokens (GitHub App style).
    pub fn with_expiring_tokens(mut self) -> Self {
        self.expiring_tokens = true;
        self
    }
}

/// A running emulator. Dropping it does not stop the server; call [`Emulator::stop`].
pub struct Emulator {
    base_url: String,
    control: Control,
    server: actix_web::dev::ServerHandle,
}

impl Emulator {
    /// Starts the emulator on `listener` (bind it to `127.0.0.1:0` for a random port) in
    /// the current Tokio runtime.
    pub fn start(
        app: AppRegistration,
        listener: TcpListener,
        workers: usize,
    ) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        let base_url = format!("http://127.0.0.1:{port}");
        let state = Arc::new(state::EmulatorState::new(app, base_url.clone()));
        let control = Control::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::from(state.clone()))
                .app_data(web::FormConfig::default().limit(64 * 1024))
                .configure(routes)
        })
        .workers(workers.max(1))
        .disable_signals()
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self {
            base_url,
            control,
            server: handle,
        })
    }

    /// Base URL of the OAuth endpoints (`{base}/login/oauth/authorize`), like `https://github.com`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Base URL of the REST API, like `https://api.github.com`.
    pub fn api_url(&self) -> String {
        format!("{}/api/v3", self.base_url)
    }

    /// The handle tests use to inject faults and inspect issued credentials.
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Stops accepting connections and finishes in-flight requests.
    pub async fn stop(&self) {
        self.server.stop(true).await;
    }
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/login/oauth/authorize")
            .route(web::get().to(authorize::show))
            .route(web::post().to(authorize::decide)),
    )
    .route("/login/oauth/access_token", web::post().to(token::exchange))
    .service(
        web::scope("/api/v3")
            .route("/user", web::get().to(rest::user))
            .route("/user/emails", web::get().to(rest::emails))
            .route("/user/repos", web::get().to(rest::repos))
            .route("/repos/{owner}/{repo}", web::get().to(rest::repo))
            .route(
                "/repos/{owner}/{repo}/{kind}",
                web::get().to(rest::repo_items),
            )
            .route(
                "/repositories/{id}/{kind}",
                web::get().to(rest::repo_items_by_id),
            )
            .route("/user/orgs", web::get().to(rest::orgs))
            .route("/user/teams", web::get().to(rest::teams))
            .route(
                "/user/memberships/orgs/{org}",
                web::get().to(rest::membership),
            )
            .route(
                "/applications/{client_id}/token",
                web::delete().to(rest::revoke),
            )
            .route(
                "/applications/{client_id}/token",
                web::post().to(rest::check_token),
            )
            .route(
                "/applications/{client_id}/grant",
                web::delete().to(rest::revoke_grant),
            )
            .default_service(web::to(rest::unknown)),
    )
    .route("/avatars/{file}", web::get().to(html::avatar))
    .route("/", web::get().to(html::index));
}
