//! `spawn_app()`: the emulator and the BFF on random loopback ports, and a `Browser` that
//! keeps cookies the way a browser does (one jar per browser, so tests can use two).

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use backend::app::{Application, Sweeper};
use backend::clock::Clock;
use backend::config::Settings;
use emulator::{AppRegistration, Emulator};
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use shared::pkce::CodeVerifier;
use tracing_subscriber::fmt::MakeWriter;

pub use crate::common::oidc::OidcServer;
pub use crate::common::servers::{PostgresServer, RedisServer};
pub use crate::common::{test_settings, use_emulator, use_oidc};

/// The public URL the BFF believes it has. Tests talk to 127.0.0.1:<port> directly and
/// read redirects instead of following them, so this origin only has to be consistent.
pub const PUBLIC_URL: &str = "http://localhost:3000";
pub const CALLBACK_URL: &str = "http://localhost:3000/callback";

/// Everything logged in this process, so tests can assert what never appears in it.
/// (nextest runs each test in its own process, so this is per test there.)
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stdout().write_all(buf)?;
        }
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Captures every log line at debug level and above, from every crate.
pub fn logs() -> &'static LogCapture {
    static CAPTURE: OnceLock<LogCapture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = LogCapture::default();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(capture.clone())
            .with_ansi(false)
            .init();
        capture
    })
}

/// Which stores a test app runs on. The HTTP suite runs once on the embedded default
/// (SQLite) and once with `BFF_TEST_STORES=redis-postgres` (sessions in Redis, users in
/// PostgreSQL, each a throw-away server of the test's own).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StoreSetup {
    Sqlite,
    RedisPostgres,
}

impl StoreSetup {
    pub fn from_env() -> Self {
        match std::env::var("BFF_TEST_STORES").as_deref() {
            Ok("redis-postgres") => Self::RedisPostgres,
            Ok("sqlite") | Err(_) => Self::Sqlite,
            Ok(other) => panic!("BFF_TEST_STORES={other}: use sqlite or redis-postgres"),
        }
    }
}

/// The servers a Redis + PostgreSQL test app runs on (stopped when the app is dropped).
pub struct StoreServers {
    pub redis: RedisServer,
    pub postgres: PostgresServer,
}

pub struct TestApp {
    pub address: String,
    /// Where `/metrics` is served, when the app was started with it.
    pub metrics_port: Option<u16>,
    pub stores: StoreSetup,
    pub servers: Option<StoreServers>,
    pub emulator: Emulator,
    /// The OpenID Provider, when the app was started with one (id [`OIDC_ID`]).
    pub idp: Option<OidcServer>,
    pub clock: Clock,
    pub settings: Settings,
    pub browser: Browser,
    pub sweeper: Sweeper,
    /// The team's own handlers, mounted again on a restart or a second instance.
    local_apis: Vec<backend::web::LocalApi>,
    handle: ServerHandle,
    _data_dir: tempfile::TempDir,
}

/// Which OpenID Connect provider the app offers besides GitHub.
pub enum Idp {
    None,
    /// The certified `oidc-provider` package, started for the test.
    Real,
    /// Whatever answers at this issuer URL (a test issuer of the test's own).
    At(String),
}

/// Knobs a test may turn before the app starts.
pub struct Options {
    pub public_url: &'static str,
    pub rate_limit_per_min: u32,
    pub preauth_sessions_per_client: u32,
    pub provider_timeout_ms: u64,
    /// GitHub App style tokens: eight hours, with single-use refresh tokens.
    pub expiring_tokens: bool,
    pub webhook_secret: Option<&'static str>,
    /// Sessions kept parsed in memory; 0 for instances that share a store.
    pub session_cache_entries: usize,
    pub session_idle_secs: u64,
    pub session_absolute_secs: u64,
    /// Serve `/metrics` on a loopback port of its own.
    pub metrics: bool,
    /// GITHUB_ALLOWED_USERS, _ORGS, _TEAMS.
    pub allowed_users: &'static [&'static str],
    pub allowed_orgs: &'static [&'static str],
    pub allowed_teams: &'static [&'static str],
    /// An OpenID Connect provider besides GitHub, with id [`OIDC_ID`].
    pub oidc: Idp,
    /// Believe `X-Forwarded-For` from loopback (so [`Browser::seen_from`] works).
    pub behind_a_proxy: bool,
    /// Calls to GitHub per session per minute (`GITHUB_CALLS_PER_SESSION_PER_MIN`), and
    /// at once (`GITHUB_CALLS_PER_SESSION_AT_ONCE`); `None` keeps the defaults.
    pub github_calls_per_min: Option<u32>,
    pub github_calls_at_once: Option<u32>,
    /// Audiences the OpenID Connect provider's ID tokens may name besides this client.
    pub oidc_extra_audiences: &'static [&'static str],
    /// Upstream APIs (`[[api]]`).
    pub apis: Vec<backend::config::ApiSettings>,
    /// Unsafe requests to upstream APIs per session per minute; `None` lifts the limit.
    pub api_writes_per_min: Option<u32>,
    /// The team's own handlers.
    pub local_apis: Vec<backend::web::LocalApi>,
    /// The BFF's listener, bound by a test that had to know the port first (an upstream
    /// that fetches the BFF's keys).
    pub listener: Option<TcpListener>,
    /// `STATIC_DIR`: a built SPA to serve.
    pub static_dir: Option<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            public_url: PUBLIC_URL,
            rate_limit_per_min: 10_000,
            preauth_sessions_per_client: 10_000,
            provider_timeout_ms: 1_000,
            expiring_tokens: false,
            webhook_secret: None,
            session_cache_entries: 10_000,
            session_idle_secs: 8 * 3600,
            session_absolute_secs: 7 * 24 * 3600,
            metrics: false,
            allowed_users: &[],
            allowed_orgs: &[],
            allowed_teams: &[],
            oidc: Idp::None,
            behind_a_proxy: false,
            github_calls_per_min: None,
            github_calls_at_once: None,
            oidc_extra_audiences: &[],
            apis: Vec::new(),
            api_writes_per_min: None,
            local_apis: Vec::new(),
            listener: None,
            static_dir: None,
        }
    }
}

impl Options {
    /// The rate limits a deployment gets when it sets none (the tests' default lifts
    /// them, so that tests which sign in many times do not trip them).
    pub fn with_default_limits(self) -> Self {
        let defaults = backend::config::Settings::defaults();
        Self {
            rate_limit_per_min: defaults.limits.auth_per_min,
            preauth_sessions_per_client: defaults.limits.preauth_sessions_per_client,
            ..self
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    logs();
    let mut registration = AppRegistration::random("Test app", CALLBACK_URL);
    registration.expiring_tokens = options.expiring_tokens;
    let emulator =
        Emulator::start(registration, TcpListener::bind("127.0.0.1:0").unwrap(), 1).unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(data_dir.path(), options.public_url, 0);
    use_emulator(&mut settings, &emulator);
    settings.limits.auth_per_min = options.rate_limit_per_min;
    settings.limits.preauth_sessions_per_client = options.preauth_sessions_per_client;
    settings.provider_timeout = Duration::from_millis(options.provider_timeout_ms);
    settings.github.webhook_secret = options.webhook_secret.map(Into::into);
    settings.sessions.cache_entries = options.session_cache_entries;
    settings.sessions.idle_secs = options.session_idle_secs;
    settings.sessions.absolute_secs = options.session_absolute_secs;
    let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    settings.github.allow.users = options
        .allowed_users
        .iter()
        .map(|u| backend::config::AllowedUser::parse(u).unwrap())
        .collect();
    settings.github.allow.orgs = list(options.allowed_orgs);
    settings.github.allow.teams = list(options.allowed_teams);
    if options.metrics {
        settings.server.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    }
    if let Some(n) = options.github_calls_per_min {
        settings.limits.github_calls_per_session_per_min = n;
    }
    if let Some(n) = options.github_calls_at_once {
        settings.limits.github_calls_per_session_at_once = n;
    }
    if options.behind_a_proxy {
        settings.limits.trusted_proxies =
            backend::config::TrustedProxies::new(vec!["127.0.0.1".parse().unwrap()]);
    }
    settings.apis = options.apis;
    settings.server.static_dir = options.static_dir;
    if let Some(n) = options.api_writes_per_min {
        settings.limits.api_writes_per_session_per_min = n;
    }
    let stores = StoreSetup::from_env();
    let servers = match stores {
        StoreSetup::Sqlite => None,
        StoreSetup::RedisPostgres => {
            let servers = StoreServers {
                redis: RedisServer::start(),
                postgres: PostgresServer::start(),
            };
            settings.stores.redis_url = Some(servers.redis.url().into());
            settings.stores.database_url = Some(servers.postgres.new_database().await);
            Some(servers)
        }
    };
    // The provider must know the BFF's port (for back-channel logout) before the BFF
    // can discover the provider: bind first.
    let listener = options.listener.unwrap_or_else(any_port);
    let idp = match options.oidc {
        Idp::None => None,
        Idp::Real => {
            let address = format!("http://{}", listener.local_addr().unwrap());
            let idp = OidcServer::start(options.public_url, &address, OIDC_ID);
            use_oidc(&mut settings, &idp.issuer, OIDC_ID);
            Some(idp)
        }
        Idp::At(issuer) => {
            use_oidc(&mut settings, &issuer, OIDC_ID);
            settings.oidc[0].extra_audiences = list(options.oidc_extra_audiences);
            None
        }
    };
    let clock = Clock::default();
    let local_apis = options.local_apis;
    let (address, handle, sweeper, metrics_port) =
        start(&settings, &clock, listener, &local_apis).await;
    TestApp {
        local_apis,
        idp,
        metrics_port,
        browser: Browser::new(&address),
        sweeper,
        stores,
        servers,
        address,
        emulator,
        clock,
        settings,
        handle,
        _data_dir: data_dir,
    }
}

/// The id of the OpenID Provider of apps started with `oidc: true`.
pub const OIDC_ID: &str = "test-idp";

fn any_port() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").unwrap()
}

async fn start(
    settings: &Settings,
    clock: &Clock,
    listener: TcpListener,
    local_apis: &[backend::web::LocalApi],
) -> (String, ServerHandle, Sweeper, Option<u16>) {
    let mut builder = Application::builder(settings.clone())
        .clock(clock.clone())
        .listener(listener);
    for api in local_apis {
        builder = builder.local_api(api.clone());
    }
    let app = builder.build().await.expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let sweeper = app.sweeper();
    let metrics_port = app.metrics_port();
    tokio::spawn(app.run_until_stopped());
    (address, handle, sweeper, metrics_port)
}

impl TestApp {
    /// A second browser with its own cookie jar.
    pub fn new_browser(&self) -> Browser {
        Browser::new(&self.address)
    }

    /// Another tab of `browser`: a jar of its own that starts with the same cookies.
    pub fn new_browser_with_cookies_of(&self, browser: &Browser) -> Browser {
        let tab = self.new_browser();
        tab.copy_cookies_from(browser);
        tab
    }

    /// Stops the BFF and starts a new one on the same data directory and keys (the
    /// emulator keeps running, as github.com would). The default browser keeps its cookies.
    pub async fn restart(&mut self) {
        self.handle.stop(true).await;
        let (address, handle, sweeper, _) =
            start(&self.settings, &self.clock, any_port(), &self.local_apis).await;
        self.address = address.clone();
        self.browser.base = address;
        self.handle = handle;
        self.sweeper = sweeper;
    }

    /// The real OpenID Provider (apps started with `oidc: Idp::Real`).
    pub fn idp(&self) -> &OidcServer {
        self.idp
            .as_ref()
            .expect("an app started with oidc: Idp::Real")
    }

    /// A browser's jar at the OpenID Provider (another origin than the BFF's).
    pub fn idp_browser(&self) -> Browser {
        Browser::new(&self.idp().issuer)
    }

    pub fn control(&self) -> &emulator::Control {
        self.emulator.control()
    }

    /// Another BFF instance on the same store, keys and provider, as a second process
    /// behind the same origin would be (start the app with `session_cache_entries: 0`).
    /// Returns a browser on it that shares nothing with the others.
    pub async fn second_instance(&self) -> Browser {
        let (address, _handle, _sweeper, _) =
            start(&self.settings, &self.clock, any_port(), &self.local_apis).await;
        Browser::new(&address)
    }

    /// Moves the BFF's and the provider's clocks forward together.
    pub fn advance_clocks(&self, by: Duration) {
        self.clock.advance(by);
        self.control().advance_clock(by);
    }

    /// The URL of a path on this BFF.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The loopback port the BFF listens on.
    pub fn port(&self) -> &str {
        self.address.rsplit(':').next().unwrap()
    }

    /// A connection to the BFF's SQLite database, for tests that inspect its files.
    pub async fn database(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect(&self.settings.sqlite_url())
            .await
            .unwrap()
    }

    /// How many audit events the users database holds, whichever database that is.
    pub async fn audit_rows(&self) -> i64 {
        let count = "SELECT COUNT(*) FROM audit_events";
        match self.stores {
            StoreSetup::Sqlite => {
                let db = self.database().await;
                let (n,): (i64,) = sqlx::query_as(count).fetch_one(&db).await.unwrap();
                db.close().await;
                n
            }
            StoreSetup::RedisPostgres => {
                let url = self.settings.stores.database_url.clone().unwrap();
                let db = sqlx::PgPool::connect(&url).await.unwrap();
                let (n,): (i64,) = sqlx::query_as(count).fetch_one(&db).await.unwrap();
                db.close().await;
                n
            }
        }
    }

    fn redis(&self) -> redis::Client {
        let servers = self.servers.as_ref().expect("a Redis-backed app");
        redis::Client::open(servers.redis.url()).unwrap()
    }

    /// The stored sessions' keys and data, whichever store holds them.
    async fn stored_sessions(&self) -> Vec<(String, String)> {
        match self.stores {
            StoreSetup::Sqlite => {
                let db = self.database().await;
                let rows: Vec<(Vec<u8>, String)> = sqlx::query_as("SELECT key, data FROM sessions")
                    .fetch_all(&db)
                    .await
                    .unwrap();
                db.close().await;
                rows.into_iter()
                    .map(|(key, data)| (format!("{key:?}"), data))
                    .collect()
            }
            StoreSetup::RedisPostgres => {
                let mut conn = self
                    .redis()
                    .get_multiplexed_async_connection()
                    .await
                    .unwrap();
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg("bff:s:*")
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                let mut sessions = Vec::new();
                for key in keys {
                    let data: String = redis::cmd("HGET")
                        .arg(&key)
                        .arg("d")
                        .query_async(&mut conn)
                        .await
                        .unwrap();
                    sessions.push((key, data));
                }
                sessions
            }
        }
    }

    /// How long Redis keeps the only stored session, in seconds (Redis apps only).
    pub async fn session_ttl_secs(&self) -> i64 {
        let sessions = self.stored_sessions().await;
        assert_eq!(sessions.len(), 1, "one session");
        let mut conn = self
            .redis()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        redis::cmd("TTL")
            .arg(&sessions[0].0)
            .query_async(&mut conn)
            .await
            .unwrap()
    }

    /// How many sessions the store holds (expired or not).
    pub async fn session_count(&self) -> usize {
        self.stored_sessions().await.len()
    }

    /// Replaces the stored data of every session whose data contains `matching` (as
    /// someone with write access to the store could). Bound, not inlined: statements are
    /// logged at debug level.
    pub async fn overwrite_stored_data(&self, matching: &str, data: &str) {
        match self.stores {
            StoreSetup::Sqlite => {
                let db = self.database().await;
                sqlx::query("UPDATE sessions SET data = ?1 WHERE instr(data, ?2) > 0")
                    .bind(data)
                    .bind(matching)
                    .execute(&db)
                    .await
                    .unwrap();
                db.close().await;
            }
            StoreSetup::RedisPostgres => {
                let mut conn = self
                    .redis()
                    .get_multiplexed_async_connection()
                    .await
                    .unwrap();
                for (key, stored) in self.stored_sessions().await {
                    if stored.contains(matching) {
                        redis::cmd("HSET")
                            .arg(&key)
                            .arg("d")
                            .arg(data)
                            .query_async::<()>(&mut conn)
                            .await
                            .unwrap();
                    }
                }
            }
        }
    }

    /// Copies the public id and the data of the session named by cookie `from` onto the
    /// session named by cookie `to`, as someone with write access to the store could.
    pub async fn copy_session_row(&self, from: &str, to: &str) {
        use sha2::Digest as _;
        let key = |cookie: &str| sha2::Sha256::digest(cookie.as_bytes()).to_vec();
        let (from, to) = (key(from), key(to));
        match self.stores {
            StoreSetup::Sqlite => {
                let db = self.database().await;
                sqlx::query(
                    "UPDATE sessions SET (public_id, data) =
                       (SELECT public_id, data FROM sessions WHERE key = ?1) WHERE key = ?2",
                )
                .bind(&from)
                .bind(&to)
                .execute(&db)
                .await
                .unwrap();
                db.close().await;
            }
            StoreSetup::RedisPostgres => {
                let hex = |k: &[u8]| k.iter().map(|b| format!("{b:02x}")).collect::<String>();
                let (from, to) = (
                    format!("bff:s:{}", hex(&from)),
                    format!("bff:s:{}", hex(&to)),
                );
                let mut conn = self
                    .redis()
                    .get_multiplexed_async_connection()
                    .await
                    .unwrap();
                let fields: Vec<String> = redis::cmd("HMGET")
                    .arg(&from)
                    .arg("p")
                    .arg("d")
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                redis::cmd("HSET")
                    .arg(&to)
                    .arg("p")
                    .arg(&fields[0])
                    .arg("d")
                    .arg(&fields[1])
                    .query_async::<()>(&mut conn)
                    .await
                    .unwrap();
            }
        }
    }

    /// The stored data of the first session whose data contains `matching`.
    pub async fn stored_data(&self, matching: &str) -> String {
        self.stored_sessions()
            .await
            .into_iter()
            .find(|(_, data)| data.contains(matching))
            .map(|(_, data)| data)
            .expect("a stored session matches")
    }
}

/// The variables that point a BFF process at `emulator` as its GitHub.
pub fn github_env(emulator: &Emulator) -> [(&'static str, String); 4] {
    let app = emulator.control().app();
    [
        ("GITHUB_CLIENT_ID", app.client_id.clone()),
        ("GITHUB_CLIENT_SECRET", app.client_secret.clone()),
        ("GITHUB_OAUTH_URL", emulator.base_url().to_owned()),
        ("GITHUB_API_URL", emulator.api_url()),
    ]
}

/// Waits (at most 20 s) until the BFF process at `base` answers `path` with 200; `what`
/// names it in the failure.
pub async fn wait_until_answers(base: &str, path: &str, what: &str) {
    let started = std::time::Instant::now();
    loop {
        if let Ok(answer) = reqwest::get(format!("{base}{path}")).await {
            if answer.status() == StatusCode::OK {
                return;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh PKCE pair, as the SPA makes it.
pub fn pkce_pair() -> (String, String) {
    let verifier = CodeVerifier::generate().unwrap();
    let challenge = verifier.challenge();
    (verifier.secret().to_owned(), challenge)
}

/// What the emulator redirected the browser back with.
#[derive(Debug, Clone)]
pub struct Redirect {
    pub location: url::Url,
    pub params: HashMap<String, String>,
}

impl Redirect {
    pub fn get(&self, key: &str) -> &str {
        self.params.get(key).map(String::as_str).unwrap_or("")
    }
}

/// A browser: a cookie jar and an HTTP client that does not follow redirects.
pub struct Browser {
    pub base: String,
    http: reqwest::Client,
    pub cookies: Arc<Mutex<HashMap<String, String>>>,
    /// Sent with every request (`X-Forwarded-For` through a trusted proxy, say).
    extra_headers: Vec<(&'static str, String)>,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            // Plain HTTP on loopback: reading the system's CA certificates for every
            // browser (thousands in the crowd tests) would cost seconds.
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(20))
                .tls_built_in_native_certs(false)
                .build()
                .unwrap(),
            cookies: Arc::new(Mutex::new(HashMap::new())),
            extra_headers: Vec::new(),
        }
    }

    /// The same browser (the same cookie jar) talking to another instance of the BFF
    /// behind the same origin.
    pub fn on(&self, base: &str) -> Browser {
        Browser {
            base: base.to_owned(),
            http: self.http.clone(),
            cookies: self.cookies.clone(),
            extra_headers: self.extra_headers.clone(),
        }
    }

    /// The same browser, announcing itself as `user_agent`.
    pub fn with_user_agent(&self, user_agent: &str) -> Browser {
        let mut browser = self.on(&self.base);
        browser
            .extra_headers
            .push(("user-agent", user_agent.to_owned()));
        browser
    }

    /// The same browser, seen by the BFF as coming from `ip` through a trusted proxy.
    pub fn seen_from(&self, ip: &str) -> Browser {
        let mut browser = self.on(&self.base);
        browser.extra_headers = vec![("x-forwarded-for", ip.to_owned())];
        browser
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    /// Makes this browser hold the same cookies as `other` (one person, two instances of
    /// the BFF behind one origin).
    pub fn copy_cookies_from(&self, other: &Browser) {
        let theirs = other.cookies.lock().unwrap().clone();
        *self.cookies.lock().unwrap() = theirs;
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookie(backend::web::cookie::COOKIE_NAME)
    }

    /// The `Cookie` header this browser would send (for clients other than its own, such
    /// as a WebSocket).
    pub fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().unwrap();
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Keeps cookies from `Set-Cookie` (a removal empties the slot), like a browser on
    /// this origin would.
    fn remember(&self, headers: &HeaderMap) {
        let mut jar = self.cookies.lock().unwrap();
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (name, val) = pair.split_once('=').unwrap();
            let removed = attrs.to_ascii_lowercase().contains("max-age=0") || val.is_empty();
            if removed {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), val.to_owned());
            }
        }
    }

    fn with_cookies(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let jar = self.cookies.lock().unwrap();
        if jar.is_empty() {
            return request;
        }
        let header = jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        request.header("cookie", header)
    }

    pub async fn send(&self, mut request: reqwest::RequestBuilder) -> Response {
        for (name, value) in &self.extra_headers {
            request = request.header(*name, value);
        }
        let response = self
            .with_cookies(request)
            .send()
            .await
            .expect("request sent");
        self.remember(response.headers());
        response
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// A same-origin API write, as the SPA sends it.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.send(self.api_post(path).json(body)).await
    }

    /// The request builder with the CSRF header and our Origin, for tests that vary the rest.
    pub fn api_post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .header("x-csrf", "1")
            .header("origin", PUBLIC_URL)
    }

    pub fn raw(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn login(&self, return_to: Option<&str>) -> Response {
        let (verifier, challenge) = pkce_pair();
        let mut body = json!({
            "provider": "github",
            "code_verifier": verifier,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        });
        if let Some(r) = return_to {
            body["return_to"] = json!(r);
        }
        self.post_json("/api/auth/login", &body).await
    }

    /// Starts a sign-in and returns the authorize URL.
    pub async fn start_login(&self) -> String {
        let response = self.login(Some("/dashboard")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["authorize_url"].as_str().unwrap().to_owned()
    }

    /// Loads the emulator's consent page and submits it the way a person would: the
    /// hidden fields as served, the chosen user and the button pressed.
    pub async fn authorize(&self, authorize_url: &str, login: &str, decision: &str) -> Redirect {
        let page = self.http.get(authorize_url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "consent page");
        let html = page.text().await.unwrap();
        let mut form = emulator::hidden_fields(&html);
        form.push(("login".into(), login.into()));
        form.push(("decision".into(), decision.into()));
        let action = url::Url::parse(authorize_url)
            .unwrap()
            .join("/login/oauth/authorize")
            .unwrap();
        let response = self.http.post(action).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND, "consent decision");
        let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        let params = location.query_pairs().into_owned().collect();
        Redirect { location, params }
    }

    /// Hands the BFF what the provider sent back, as the SPA's callback page does
    /// (`iss` too, when the provider sent it).
    pub async fn callback(&self, redirect: &Redirect) -> Response {
        let mut body = match redirect.params.get("error") {
            Some(error) => json!({"error": error, "state": redirect.get("state")}),
            None => json!({"code": redirect.get("code"), "state": redirect.get("state")}),
        };
        if let Some(iss) = redirect.params.get("iss") {
            body["iss"] = json!(iss);
        }
        self.post_json("/api/auth/callback", &body).await
    }

    /// Starts a sign-in with `provider` and returns the authorize URL.
    pub async fn start_login_with(&self, provider: &str) -> String {
        let (verifier, challenge) = pkce_pair();
        let body = json!({
            "provider": provider,
            "code_verifier": verifier,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        });
        let response = self.post_json("/api/auth/login", &body).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["authorize_url"].as_str().unwrap().to_owned()
    }

    /// At an OpenID Provider's own pages (this browser's jar holds its cookies): follows
    /// its redirects, signs in as `login` on its login page, continues on its consent
    /// page, and returns where it finally sends the browser back to the BFF.
    pub async fn sign_in_at_idp(&self, authorize_url: &str, login: &str) -> Redirect {
        let mut response = self.send(self.http.get(authorize_url)).await;
        for _ in 0..12 {
            if response.status().is_redirection() {
                let location = redirect_target(&response);
                if location.as_str().starts_with(PUBLIC_URL) {
                    let params = location.query_pairs().into_owned().collect();
                    return Redirect { location, params };
                }
                response = self.send(self.http.get(location)).await;
                continue;
            }
            assert_eq!(response.status(), StatusCode::OK, "a provider page");
            let html = response.text().await.unwrap();
            let mut fields = emulator::hidden_fields(&html);
            if fields.iter().any(|(k, v)| k == "prompt" && v == "login") {
                fields.push(("login".into(), login.into()));
                fields.push(("password".into(), "any password".into()));
            }
            response = self
                .send(self.http.post(form_action(&html)).form(&fields))
                .await;
        }
        panic!("the provider never sent the browser back");
    }

    /// At an OpenID Provider's logout page (`logout_url` from the BFF): presses "Yes, sign
    /// me out" and returns where the provider sends the browser afterwards.
    pub async fn sign_out_at_idp(&self, logout_url: &str) -> url::Url {
        let page = self.send(self.http.get(logout_url)).await;
        assert_eq!(page.status(), StatusCode::OK, "the provider's logout page");
        let html = page.text().await.unwrap();
        let mut fields = emulator::hidden_fields(&html);
        fields.push(("logout".into(), "yes".into()));
        let mut response = self
            .send(self.http.post(form_action(&html)).form(&fields))
            .await;
        loop {
            assert!(response.status().is_redirection(), "{}", response.status());
            let location = redirect_target(&response);
            if location.as_str().starts_with(PUBLIC_URL) {
                return location;
            }
            response = self.send(self.http.get(location)).await;
        }
    }

    /// The whole sign-in for `login`; returns the callback response's JSON.
    pub async fn sign_in_as(&self, login: &str) -> Value {
        let url = self.start_login().await;
        let redirect = self.authorize(&url, login, "approve").await;
        let response = self.callback(&redirect).await;
        assert_eq!(response.status(), StatusCode::OK, "callback");
        response.json().await.unwrap()
    }

    pub async fn logout(&self) -> Response {
        self.post_json("/api/auth/logout", &json!({})).await
    }
}

/// A redirect's `Location`, resolved against the URL that answered.
fn redirect_target(response: &Response) -> url::Url {
    let location = response.headers()["location"].to_str().unwrap();
    response.url().join(location).unwrap()
}

/// The `action` of the first form on a page.
fn form_action(html: &str) -> String {
    let after = html
        .split("<form")
        .nth(1)
        .and_then(|form| form.split("action=\"").nth(1))
        .expect("a form with an action");
    after.split('"').next().unwrap().replace("&amp;", "&")
}

/// Asserts the JSON error shape, code and status; returns the body.
pub async fn assert_error(response: Response, status: u16, code: &str) -> Value {
    let actual = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(actual, status, "status for {body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

/// Sends raw bytes and returns whatever comes back until the server closes.
pub async fn raw_http(port: &str, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    // The server may answer and close before reading everything; that is fine.
    let _ = stream.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut out),
    )
    .await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends every request at the same instant: each on its own connection, all but the last
/// byte written first, then the last bytes together. The server then has all of them in
/// hand before it finishes any, which is how races are provoked reliably. Returns each
/// raw answer, in order.
pub async fn simultaneous(port: &str, requests: &[String]) -> Vec<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut streams = Vec::new();
    for request in requests {
        let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .unwrap();
        stream.set_nodelay(true).unwrap();
        let bytes = request.as_bytes();
        stream.write_all(&bytes[..bytes.len() - 1]).await.unwrap();
        streams.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    for (stream, request) in streams.iter_mut().zip(requests) {
        stream
            .write_all(&request.as_bytes()[request.len() - 1..])
            .await
            .unwrap();
    }
    let mut answers = Vec::new();
    for mut stream in streams {
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        answers.push(String::from_utf8_lossy(&out).into_owned());
    }
    answers
}

/// A raw HTTP/1.1 API write with the SPA's headers, a cookie and a JSON body; the
/// connection closes after the answer.
pub fn raw_api_post(path: &str, cookie: &str, body: &Value) -> String {
    let body = body.to_string();
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-CSRF: 1\r\nOrigin: {PUBLIC_URL}\r\n\
         Content-Type: application/json\r\nCookie: {}={cookie}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        backend::web::cookie::COOKIE_NAME,
        body.len()
    )
}

/// A raw HTTP/1.1 GET with a cookie; the connection closes after the answer.
pub fn raw_api_get(path: &str, cookie: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {}={cookie}\r\nConnection: close\r\n\r\n",
        backend::web::cookie::COOKIE_NAME
    )
}

/// The status code of a raw HTTP answer.
pub fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {answer:?}"))
}
