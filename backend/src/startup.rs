//! Builds the whole application (stores, provider client, HTTP server) for `main` and the
//! tests alike. It binds its own listener, so tests use port 0 and ask for `port()`.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use secrecy::ExposeSecret;
use url::Url;

use crate::audit::Audit;
use crate::clock::Clock;
use crate::config::{ClientCredentials, Settings};
use crate::crypto::{load_or_create_key_file, KeyRing};
use crate::dev_provider::DevProvider;
use crate::oauth::github::GitHubConfig;
use crate::oauth::oidc::OidcProvider;
use crate::oauth::{GitHub, Provider, Providers};
use crate::security::rate_limit::IpRateLimiter;
use crate::session::{Lifetimes, RedisStore, SessionStore, Sessions, SqliteStore};
use crate::state::{AppState, StoreKinds};
use crate::static_assets::StaticAssets;
use crate::storage::redis::Redis;
use crate::storage::{postgres, sqlite, Database};
use crate::tokens::TokenService;
use crate::users::UserStore;
use crate::{middleware, routes, sweep};

/// New pre-auth sessions one client may make: a burst of PREAUTH_SESSIONS_PER_CLIENT,
/// then one every 30 s, so with the default of 20 at most 40 exist per client at any
/// time (each lives ten minutes).
const PREAUTH_EVERY: Duration = Duration::from_secs(30);

pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    state: web::Data<AppState>,
    dev_provider: Option<DevProvider>,
    /// Background tasks that end with the server.
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::default()).await
    }

    /// Like [`Application::build`] with a clock tests can move forward.
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| {
                format!(
                    "Failed to listen on {}:{} (HOST, PORT)",
                    settings.server.host, settings.server.port
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
        if settings.server.public_url.is_none() {
            // With PORT=0 the default public URL must name the port actually bound.
            settings.server.port = port;
        }
        settings.check().map_err(anyhow::Error::msg)?;
        create_private_dir(&settings.server.data_dir)?;
        let stores = open_stores(&settings).await?;
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
            picture_origins.push(oidc.issuer.origin().ascii_serialization());
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
        let assets = match &settings.server.static_dir {
            Some(dir) => Some(web::Data::new(StaticAssets::load(dir, &picture_origins)?)),
            None => None,
        };
        let audit = Audit::new(stores.users_db.clone(), clock.clone());
        let sessions = Sessions::new(
            stores.sessions.clone(),
            Arc::new(keys),
            clock,
            Lifetimes {
                idle_secs: settings.sessions.idle_secs,
                absolute_secs: settings.sessions.absolute_secs,
                cache_entries: settings.sessions.cache_entries,
            },
            audit,
        );
        let invalidations = match &stores.redis {
            Some(redis) if settings.sessions.cache_entries > 0 => {
                Some(sessions.follow_invalidations(redis.clone()))
            }
            _ => None,
        };
        let tokens = TokenService::new(
            sessions.clone(),
            providers.clone(),
            settings.sessions.token_refresh_skew_secs,
            settings.provider_timeout,
        );
        let state = web::Data::new(AppState {
            public_origin: settings.public_origin(),
            dev_mode,
            providers,
            github,
            sessions,
            tokens,
            users: stores.users.clone(),
            store_kinds: stores.kinds,
            webhook_secret: settings.github.webhook_secret.clone(),
            proxy_allow: settings.github.proxy_allow.clone(),
            trusted_proxies: settings.limits.trusted_proxies.clone(),
            audit_retention_days: settings.audit_retention_days,
            membership_recheck_secs: settings.github.membership_recheck_secs,
            preauth_limiter: IpRateLimiter::new(
                "preauth",
                PREAUTH_EVERY,
                settings.limits.preauth_sessions_per_client,
                settings.limits.trusted_proxies.clone(),
                stores.redis.as_ref(),
            ),
            login_limiter: IpRateLimiter::per_minute(
                "login",
                settings.limits.auth_per_min,
                settings.limits.trusted_proxies.clone(),
                stores.redis.as_ref(),
            ),
            callback_limiter: IpRateLimiter::per_minute(
                "callback",
                settings.limits.auth_per_min,
                settings.limits.trusted_proxies.clone(),
                stores.redis.as_ref(),
            ),
        });
        let mut background = vec![tokio::spawn(sweep::run(state.clone()))];
        background.extend(invalidations);
        let metrics_port = match settings.server.metrics_addr {
            Some(addr) => {
                let (server, port) = crate::metrics::serve(addr)?;
                if !addr.ip().is_loopback() {
                    tracing::warn!(%addr, "metrics are served on a non-loopback address");
                }
                let handle = tokio::spawn(async move {
                    if let Err(e) = server.await {
                        tracing::warn!(error = %e, "the metrics listener stopped");
                    }
                });
                background.push(handle);
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
            app.wrap(from_fn(middleware::layer))
                .configure(routes::configure)
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
        Sweeper(self.state.clone())
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

/// The stores the settings name, connected: sessions in Redis or the SQLite file, users
/// in PostgreSQL or the SQLite file. An unreachable one fails start-up with a line naming
/// its variable.
struct Stores {
    sessions: Arc<dyn SessionStore>,
    users: UserStore,
    /// The users database, which also holds audit events.
    users_db: Database,
    redis: Option<Redis>,
    kinds: StoreKinds,
}

async fn open_stores(settings: &Settings) -> anyhow::Result<Stores> {
    let redis = match &settings.stores.redis_url {
        Some(url) => Some(
            Redis::connect(
                url.expose_secret(),
                &settings.stores.redis_prefix,
                "SESSION_STORE/REDIS_URL",
            )
            .await?,
        ),
        None => None,
    };
    let database_url = settings.database_url();
    let users_in_postgres = !database_url.starts_with("sqlite:");
    let sqlite = if redis.is_none() || !users_in_postgres {
        Some(sqlite::connect(&settings.sqlite_url()).await?)
    } else {
        None
    };
    let users = match &sqlite {
        Some(db) if !users_in_postgres => Database::Sqlite(db.write.clone()),
        _ => Database::Postgres(postgres::connect(&database_url).await?),
    };
    let sessions: Arc<dyn SessionStore> = match (&redis, &sqlite) {
        (Some(redis), _) => Arc::new(RedisStore::new(redis.clone(), settings.sessions.idle_secs)),
        (None, Some(db)) => Arc::new(SqliteStore::new(db.clone())),
        (None, None) => unreachable!("SQLite is opened whenever Redis is not configured"),
    };
    let kinds = StoreKinds {
        sessions: if redis.is_some() { "redis" } else { "sqlite" },
        users: users.kind(),
    };
    Ok(Stores {
        sessions,
        users_db: users.clone(),
        users: UserStore::new(users),
        redis,
        kinds,
    })
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
pub struct Sweeper(web::Data<AppState>);

impl Sweeper {
    pub async fn run_once(&self) {
        sweep::sweep_once(&self.0).await;
    }
}
