//! Wiring: builds the whole application (stores, providers, services, HTTP server) for
//! `main` and the tests alike. It binds its own listener, so tests use port 0 and ask
//! for `port()`. Nothing here decides anything a request could change.

mod check;
pub mod cli;
mod dev_provider;
mod sweep;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use secrecy::ExposeSecret;
use shared::api::{ProviderInfo, ProvidersResponse};
use url::Url;

use self::dev_provider::DevProvider;
use crate::audit::Audit;
use crate::auth::IdentityTokens;
use crate::auth::{Auth, SignOut, TokenService};
use crate::clock::Clock;
use crate::config::apis::{check_prefix, overlapping};
use crate::config::{ClientCredentials, Identity, Settings};
use crate::crypto::{load_or_create, load_or_create_key_file, KeyRing, SigningKeys};
use crate::providers::github::GitHubConfig;
use crate::providers::oidc::OidcProvider;
use crate::providers::{GitHub, Provider, Providers};
use crate::session::{Lifetimes, Sessions, PENDING_TTL_SECS};
use crate::store::Stores;
use crate::users::Users;
use crate::web::limit::{held_at_once, per_minute, IpRateLimiter, SessionLimiter};
use crate::web::state::{AppState, Limits};
use crate::web::static_assets::StaticAssets;
use crate::web::upstream::UpstreamApi;
use crate::web::{Extensions, LocalApi};

/// The generated identity key in DATA_DIR, when `IDENTITY_KEYS` is not set.
const IDENTITY_KEY_FILE: &str = "identity-key";

/// How long a pre-auth session lives.
const PENDING_TTL: Duration = Duration::from_secs(PENDING_TTL_SECS as u64);

pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    state: web::Data<AppState>,
    dev_provider: Option<DevProvider>,
    /// `AUDIT_RETENTION_DAYS`, for the sweep.
    audit_retention_days: u64,
    /// Background tasks that end with the server.
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::default()).await
    }

    /// Like [`Application::build`] with a clock tests can move forward.
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        Self::builder(settings).clock(clock).build().await
    }

    /// Builds on a listener the caller already bound (tests that must know the port
    /// before the app exists, e.g. to register the callback URL with a provider).
    pub async fn build_on(
        settings: Settings,
        listener: TcpListener,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        Self::builder(settings)
            .clock(clock)
            .listener(listener)
            .build()
            .await
    }

    /// The way to add your own handlers (see [`Builder::local_api`]), a test clock or a
    /// listener you bound.
    pub fn builder(settings: Settings) -> Builder {
        Builder {
            settings,
            clock: Clock::default(),
            listener: None,
            local: Vec::new(),
        }
    }

    async fn assemble(
        mut settings: Settings,
        listener: TcpListener,
        clock: Clock,
        local: Vec<LocalApi>,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        if settings.server.public_url.is_none() {
            // With PORT=0 the default public URL must name the port actually bound.
            settings.server.port = port;
        }
        settings.check().map_err(anyhow::Error::msg)?;
        check_local_prefixes(&settings, &local).map_err(anyhow::Error::msg)?;
        create_private_dir(&settings.server.data_dir)?;
        let stores = Stores::open(&settings).await?;
        let keys = match &settings.stores.token_keys {
            Some(value) => KeyRing::parse(value.expose_secret())?,
            None => load_or_create_key_file(&settings.server.data_dir)?,
        };

        let (github, dev_provider) = if settings.github_enabled() {
            let (config, dev_provider) = provider_config(&settings)?;
            (
                Some(Arc::new(GitHub::new(config, clock.clone())?)),
                dev_provider,
            )
        } else {
            (None, None)
        };
        let dev_mode = dev_provider.is_some();
        let mut list: Vec<Arc<dyn Provider>> = Vec::new();
        let mut picture_origins = Vec::new();
        if let Some(github) = &github {
            list.push(github.clone());
            picture_origins.push(github.oauth_origin());
        }
        for oidc in &settings.oidc {
            picture_origins.push(oidc.issuer.url().origin().ascii_serialization());
            let provider = OidcProvider::discover(
                oidc.clone(),
                settings.redirect_uri(),
                settings.provider_timeout,
                clock.clone(),
            )
            .await?;
            list.push(Arc::new(provider));
        }
        let providers = Providers::new(list);
        let audit = Audit::new(stores.audit.clone(), clock.clone());
        let sessions = Sessions::new(
            stores.sessions.clone(),
            Arc::new(keys),
            clock.clone(),
            Lifetimes {
                idle_secs: settings.sessions.idle_secs,
                absolute_secs: settings.sessions.absolute_secs,
                cache_entries: settings.sessions.cache_entries,
            },
        );
        let sign_out = SignOut::new(sessions.clone(), providers.clone(), audit.clone());
        let tokens = TokenService::new(
            sessions.clone(),
            providers.clone(),
            stores.leases.clone(),
            sign_out.clone(),
            settings.sessions.token_refresh_skew_secs,
            settings.provider_timeout,
        );
        let mut background: Vec<tokio::task::JoinHandle<()>> = Vec::new();
        // Other instances' changes keep the cache true and close the sockets of sessions
        // they ended.
        background.extend(sessions.follow(&stores));
        let public_url = settings
            .public_url()
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        let identity = if settings.apis.iter().any(|a| a.identity == Identity::Jwt) {
            let text = match &settings.stores.identity_keys {
                Some(value) => zeroize::Zeroizing::new(value.expose_secret().to_owned()),
                None => load_or_create(
                    &settings.server.data_dir,
                    IDENTITY_KEY_FILE,
                    "IDENTITY_KEYS",
                    SigningKeys::generate_key,
                )?,
            };
            let keys = SigningKeys::parse(text.trim())?;
            Some(Arc::new(IdentityTokens::new(
                keys,
                public_url.clone(),
                clock.clone(),
            )))
        } else {
            None
        };
        let extensions = Extensions {
            apis: settings
                .apis
                .iter()
                .map(|api| UpstreamApi::new(api.clone(), &public_url).map(web::Data::new))
                .collect::<anyhow::Result<_>>()?,
            local,
        };
        // What the sign-in page shows is configuration: serialised once, answered by
        // `GET /api/auth/providers` and written into `index.html`, so the page shows its
        // buttons without waiting for a request.
        let providers_answer = web::Bytes::from(serde_json::to_vec(&ProvidersResponse {
            providers: providers
                .iter()
                .map(|p| ProviderInfo {
                    id: p.id().to_owned(),
                    name: p.name().to_owned(),
                })
                .collect(),
            dev_mode,
            apis: settings
                .apis
                .iter()
                .map(|api| api.prefix.clone())
                .chain(extensions.local.iter().map(|api| api.prefix().to_owned()))
                .collect(),
        })?);
        let assets = match &settings.server.static_dir {
            Some(dir) => Some(web::Data::new(StaticAssets::load(
                dir,
                &picture_origins,
                &providers_answer,
            )?)),
            None => None,
        };
        let trusted = settings.limits.trusted_proxies.clone();
        let counter = |name, rate| stores.rate_counter(name, rate, clock.clone());
        let limiter = |name, rate| IpRateLimiter::new(counter(name, rate), trusted.clone());
        let limits = Limits {
            login: limiter("login", per_minute(settings.limits.auth_per_min)),
            callback: limiter("callback", per_minute(settings.limits.auth_per_min)),
            // A pre-auth session lives as long as a pending sign-in: counters that give one
            // back per lifetime bound how many exist at once.
            preauth: limiter(
                "preauth",
                held_at_once(settings.limits.preauth_sessions_per_client, PENDING_TTL),
            ),
            preauth_total: IpRateLimiter::everyone(counter(
                "preauth-all",
                held_at_once(settings.limits.preauth_sessions_total, PENDING_TTL),
            )),
            github: SessionLimiter::new(
                counter(
                    "github",
                    per_minute(settings.limits.github_calls_per_session_per_min),
                ),
                settings.limits.github_calls_per_session_at_once,
            ),
            api_writes: SessionLimiter::new(
                counter(
                    "api-writes",
                    per_minute(settings.limits.api_writes_per_session_per_min),
                ),
                settings.limits.api_writes_per_session_at_once,
            ),
        };
        let state = web::Data::new(AppState {
            auth: Auth {
                sessions,
                providers,
                github,
                users: Users::new(stores.users.clone()),
                audit,
                tokens,
                sign_out,
                seen: stores.seen.clone(),
                membership_recheck_secs: settings.github.membership_recheck_secs,
                refusals: Default::default(),
                api_access: Default::default(),
                identity,
            },
            public_origin: settings.public_origin(),
            dev_mode,
            store_kinds: stores.kinds,
            limits,
            webhook_secret: settings.github.webhook_secret.clone(),
            proxy_allow: settings.github.proxy_allow.clone(),
            trusted_proxies: settings.limits.trusted_proxies.clone(),
            providers_answer,
            upstream_paths: settings
                .apis
                .iter()
                .map(|api| format!("/api/{}", api.prefix))
                .collect(),
        });
        background.push(tokio::spawn(sweep::run(
            state.clone(),
            settings.audit_retention_days,
        )));
        let metrics_port = match settings.server.metrics_addr {
            Some(addr) => {
                let (server, port) = crate::web::metrics::serve(addr)?;
                if !addr.ip().is_loopback() {
                    tracing::warn!(%addr, "metrics are served on a non-loopback address");
                }
                background.push(tokio::spawn(async move {
                    if let Err(e) = server.await {
                        tracing::warn!(error = %e, "the metrics listener stopped");
                    }
                }));
                Some(port)
            }
            None => None,
        };

        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            let mut app = App::new().app_data(app_state.clone());
            if let Some(assets) = &assets {
                app = app.app_data(assets.clone());
            }
            app.wrap(crate::web::layer::Layer)
                .configure(|cfg| crate::web::configure(cfg, &extensions))
        })
        .listen(listener)?;
        if let Some(workers) = settings.server.workers {
            server = server.workers(workers as usize);
        }
        let server = server.run();
        tracing::info!(url = %settings.public_url(), dev_mode, "listening");
        Ok(Self {
            port,
            metrics_port,
            server,
            state,
            dev_provider,
            audit_retention_days: settings.audit_retention_days,
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener, when `METRICS_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// The embedded emulator in dev mode.
    #[cfg(feature = "dev-provider")]
    pub fn emulator(&self) -> Option<&emulator::Emulator> {
        self.dev_provider.as_ref().map(DevProvider::emulator)
    }

    pub fn dev_mode(&self) -> bool {
        self.state.dev_mode
    }

    /// Runs the periodic clean-up once, now (tests call it instead of waiting).
    pub fn sweeper(&self) -> Sweeper {
        Sweeper {
            state: self.state.clone(),
            audit_retention_days: self.audit_retention_days,
        }
    }

    /// A handle to stop the server (tests use it to restart on the same data).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        for task in &self.background {
            task.abort();
        }
        if let Some(dev) = &self.dev_provider {
            dev.stop().await;
        }
        result
    }
}

/// Builds an [`Application`] with more than settings: your own handlers under `/api/`, a
/// clock tests move by hand, or a listener the caller bound.
///
/// ```no_run
/// use actix_web::{web, HttpResponse};
/// use backend::app::Application;
/// use backend::config::Settings;
/// use backend::web::{extract::SignedIn, LocalApi};
///
/// // `SignedIn` answers 401 for anyone signed out; handlers that can fail return the web
/// // room's error type (see `LocalApi`).
/// async fn notes(signed_in: SignedIn) -> HttpResponse {
///     let person = signed_in.user();
///     HttpResponse::Ok().json(serde_json::json!({ "owner": person.login, "notes": [] }))
/// }
///
/// # async fn start() -> anyhow::Result<()> {
/// let app = Application::builder(Settings::defaults())
///     .local_api(LocalApi::new("notes", |cfg| {
///         cfg.route("", web::get().to(notes));
///     }))
///     .build()
///     .await?;
/// app.run_until_stopped().await?;
/// # Ok(())
/// # }
/// ```
pub struct Builder {
    settings: Settings,
    clock: Clock,
    listener: Option<TcpListener>,
    local: Vec<LocalApi>,
}

impl Builder {
    /// Mounts `api` under `/api/{prefix}`, inside the CSRF rule and with the built-in
    /// routes' extractors and error shape (see [`LocalApi`]). Its prefix follows the
    /// rules of an upstream API's and may not overlap a built-in route or another API.
    pub fn local_api(mut self, api: LocalApi) -> Self {
        self.local.push(api);
        self
    }

    /// A clock tests can move forward.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Serves on `listener` instead of binding `HOST:PORT`.
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    pub async fn build(self) -> anyhow::Result<Application> {
        let settings = self.settings;
        let listener = match self.listener {
            Some(listener) => listener,
            None => TcpListener::bind((settings.server.host.as_str(), settings.server.port))
                .with_context(|| {
                    format!(
                        "Failed to listen on {}:{} (HOST, PORT)",
                        settings.server.host, settings.server.port
                    )
                })?,
        };
        Application::assemble(settings, listener, self.clock, self.local).await
    }
}

/// Local APIs' prefixes: the rules of an upstream API's, and no overlap with any other.
fn check_local_prefixes(settings: &Settings, local: &[LocalApi]) -> Result<(), String> {
    let mut prefixes: Vec<(&str, String)> = settings
        .apis
        .iter()
        .map(|api| (api.prefix.as_str(), format!("API /api/{}", api.prefix)))
        .collect();
    for api in local {
        check_prefix(api.prefix()).map_err(|e| format!("local API: {e}"))?;
        prefixes.push((api.prefix(), format!("local API /api/{}", api.prefix())));
    }
    match overlapping(&prefixes).first() {
        Some(problem) => Err(problem.clone()),
        None => Ok(()),
    }
}

/// Real GitHub when credentials are set; otherwise the development provider (dev mode).
fn provider_config(settings: &Settings) -> anyhow::Result<(GitHubConfig, Option<DevProvider>)> {
    let redirect_uri = settings.redirect_uri();
    let config = |oauth_url: Url, api_url: Url, client: ClientCredentials| GitHubConfig {
        oauth_url,
        api_url,
        client_id: client.id,
        client_secret: client.secret,
        redirect_uri: redirect_uri.clone(),
        scopes: settings.github_scopes(),
        timeout: settings.provider_timeout,
        allow: settings.github.allow.clone(),
    };
    if let Some(client) = &settings.github.client {
        let github = &settings.github;
        return Ok((
            config(
                github.oauth_url.clone(),
                github.api_url.clone(),
                client.clone(),
            ),
            None,
        ));
    }
    let dev = DevProvider::start(&redirect_uri)?;
    let github = config(
        dev.oauth_url.clone(),
        dev.api_url.clone(),
        dev.client.clone(),
    );
    Ok((github, Some(dev)))
}

/// Creates DATA_DIR readable by its owner only (it holds the database with people's
/// emails, and the key file). An existing directory keeps the permissions it has.
fn create_private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    if dir.exists() {
        warn_if_open_to_others(dir);
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

/// DATA_DIR holds people's emails and, in dev mode, the token key: say so when other
/// users of the machine can look inside it.
fn warn_if_open_to_others(dir: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(dir) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    data_dir = %dir.display(),
                    mode = format_args!("{mode:o}"),
                    "DATA_DIR is open to other users; run chmod 700 on it"
                );
            }
        }
    }
}

/// A handle that runs the sweep on demand.
#[derive(Clone)]
pub struct Sweeper {
    state: web::Data<AppState>,
    audit_retention_days: u64,
}

impl Sweeper {
    pub async fn run_once(&self) {
        sweep::sweep_once(&self.state, self.audit_retention_days).await;
    }
}
