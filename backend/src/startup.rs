//! Builds the whole application (stores, provider client, HTTP server) for `main` and the
//! tests alike. It binds its own listener, so tests use port 0 and ask for `port()`.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use emulator::{AppRegistration, Emulator};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::{load_or_create_key_file, KeyRing};
use crate::oauth::github::GitHubConfig;
use crate::oauth::GitHub;
use crate::routes::spa::StaticAssets;
use crate::security::rate_limit::IpRateLimiter;
use crate::session::{Sessions, SqliteStore};
use crate::state::AppState;
use crate::users::UserStore;
use crate::{db, middleware, routes};

/// How often expired sessions and idle rate-limit entries are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(300);

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    emulator: Option<Emulator>,
    sweeper: tokio::task::JoinHandle<()>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::default()).await
    }

    /// Like [`Application::build`] with a clock tests can move forward.
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind((settings.host.as_str(), settings.port)).with_context(|| {
                format!(
                    "Failed to listen on {}:{} (HOST, PORT)",
                    settings.host, settings.port
                )
            })?;
        Self::build_on(settings, listener, clock).await
    }

    /// Builds on a listener the caller already bound (tests that must know the port
    /// before the app exists, e.g. to register the callback URL with a provider).
    pub async fn build_on(
        mut settings: Settings,
        listener: TcpListener,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        if settings.public_url.is_none() {
            // With PORT=0 the default public URL must name the port actually bound.
            settings.port = port;
        }
        create_private_dir(&settings.data_dir)?;
        let db = db::connect(&settings.database_url()).await?;
        let keys = match &settings.token_keys {
            Some(value) => KeyRing::parse(value.expose_secret())?,
            None => load_or_create_key_file(&settings.data_dir)?,
        };

        let (github_config, emulator) = provider_config(&settings)?;
        let dev_mode = emulator.is_some();
        let assets = match &settings.static_dir {
            Some(dir) => {
                let avatar_origin = github_config.oauth_url.origin().ascii_serialization();
                Some(StaticAssets::load(dir, &[avatar_origin])?)
            }
            None => None,
        };
        let state = web::Data::new(AppState {
            public_origin: settings.public_origin(),
            dev_mode,
            github: GitHub::new(github_config)?,
            sessions: Sessions::new(
                Arc::new(SqliteStore::new(db.clone())),
                clock,
                settings.session_idle_secs,
                settings.session_absolute_secs,
                settings.session_cache_entries,
            ),
            users: UserStore::new(db.write),
            keys,
            login_limiter: IpRateLimiter::per_minute(
                settings.auth_rate_limit_per_min,
                settings.trusted_proxies.clone(),
            ),
            callback_limiter: IpRateLimiter::per_minute(
                settings.auth_rate_limit_per_min,
                settings.trusted_proxies.clone(),
            ),
            assets,
        });
        let sweeper = tokio::spawn(sweep(state.clone()));

        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .wrap(from_fn(middleware::layer))
                .configure(routes::configure)
        })
        .listen(listener)?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers as usize);
        }
        let server = server.run();
        tracing::info!(url = %settings.public_url(), dev_mode, "listening");
        Ok(Self {
            port,
            server,
            state,
            emulator,
            sweeper,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The embedded emulator in dev mode.
    pub fn emulator(&self) -> Option<&Emulator> {
        self.emulator.as_ref()
    }

    pub fn dev_mode(&self) -> bool {
        self.state.dev_mode
    }

    /// A handle to stop the server (tests use it to restart on the same data).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.sweeper.abort();
        if let Some(emulator) = &self.emulator {
            emulator.stop().await;
        }
        result
    }
}

/// Real GitHub when credentials are set; otherwise start the emulator on loopback and
/// register ourselves with it (dev mode).
fn provider_config(settings: &Settings) -> anyhow::Result<(GitHubConfig, Option<Emulator>)> {
    let redirect_uri = settings.redirect_uri();
    let common = |oauth_url: Url, api_url: Url, client_id: String, client_secret: SecretString| {
        GitHubConfig {
            oauth_url,
            api_url,
            client_id,
            client_secret,
            redirect_uri: redirect_uri.clone(),
            scopes: settings.github_scopes.clone(),
            timeout: settings.provider_timeout(),
        }
    };
    match (&settings.github_client_id, &settings.github_client_secret) {
        (Some(id), Some(secret)) => Ok((
            common(
                settings.github_oauth_url.clone(),
                settings.github_api_url.clone(),
                id.clone(),
                secret.clone(),
            ),
            None,
        )),
        _ => {
            let registration =
                AppRegistration::random("Sign in with GitHub (development)", &redirect_uri);
            let listener = TcpListener::bind(("127.0.0.1", 0))
                .context("Failed to start the GitHub emulator")?;
            let emulator = Emulator::start(registration.clone(), listener, 1)?;
            tracing::warn!(
                emulator = emulator.base_url(),
                "DEV MODE: no GITHUB_CLIENT_ID/GITHUB_CLIENT_SECRET set, signing in against the embedded GitHub emulator (development provider)"
            );
            Ok((
                common(
                    Url::parse(emulator.base_url())?,
                    Url::parse(&emulator.api_url())?,
                    registration.client_id,
                    SecretString::from(registration.client_secret),
                ),
                Some(emulator),
            ))
        }
    }
}

/// Creates DATA_DIR readable by its owner only (it holds the database with people's
/// emails, and the key file). An existing directory keeps the permissions it has.
fn create_private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("Failed to create DATA_DIR {}", dir.display()))
}

async fn sweep(state: web::Data<AppState>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tick.tick().await;
        match state.sessions.delete_expired().await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "expired-session sweep failed"),
        }
        state.login_limiter.forget_idle_clients();
        state.callback_limiter.forget_idle_clients();
    }
}
