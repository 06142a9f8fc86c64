//! `spawn_app()`: the emulator and the BFF on random loopback ports, and a `Browser` that
//! keeps cookies the way a browser does (one jar per browser, so tests can use two).

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use backend::clock::Clock;
use backend::config::Settings;
use backend::crypto::KeyRing;
use backend::startup::Application;
use emulator::{AppRegistration, Emulator};
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use shared::pkce::CodeVerifier;
use tracing_subscriber::fmt::MakeWriter;

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

pub struct TestApp {
    pub address: String,
    pub emulator: Emulator,
    pub clock: Clock,
    pub settings: Settings,
    pub browser: Browser,
    handle: ServerHandle,
    _data_dir: tempfile::TempDir,
}

/// Knobs a test may turn before the app starts.
pub struct Options {
    pub rate_limit_per_min: u32,
    pub provider_timeout_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            rate_limit_per_min: 10_000,
            provider_timeout_ms: 1_000,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    logs();
    let registration = AppRegistration::random("Test app", CALLBACK_URL);
    let emulator = Emulator::start(
        registration.clone(),
        TcpListener::bind("127.0.0.1:0").unwrap(),
        1,
    )
    .unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::defaults();
    settings.host = "127.0.0.1".into();
    settings.port = 0;
    settings.public_url = Some(PUBLIC_URL.parse().unwrap());
    settings.data_dir = data_dir.path().to_path_buf();
    settings.database_url = None;
    settings.static_dir = None;
    settings.github_client_id = Some(registration.client_id.clone());
    settings.github_client_secret = Some(registration.client_secret.clone().into());
    settings.github_oauth_url = emulator.base_url().parse().unwrap();
    settings.github_api_url = emulator.api_url().parse().unwrap();
    settings.token_keys = Some(KeyRing::generate_key().into());
    settings.auth_rate_limit_per_min = options.rate_limit_per_min;
    settings.provider_timeout_ms = options.provider_timeout_ms;
    settings.workers = Some(1);
    let clock = Clock::default();
    let (address, handle) = start(&settings, &clock).await;
    TestApp {
        browser: Browser::new(&address),
        address,
        emulator,
        clock,
        settings,
        handle,
        _data_dir: data_dir,
    }
}

async fn start(settings: &Settings, clock: &Clock) -> (String, ServerHandle) {
    let app = Application::build_with_clock(settings.clone(), clock.clone())
        .await
        .expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    (address, handle)
}

impl TestApp {
    /// A second browser with its own cookie jar.
    pub fn new_browser(&self) -> Browser {
        Browser::new(&self.address)
    }

    /// Stops the BFF and starts a new one on the same data directory and keys (the
    /// emulator keeps running, as github.com would). The default browser keeps its cookies.
    pub async fn restart(&mut self) {
        self.handle.stop(true).await;
        let (address, handle) = start(&self.settings, &self.clock).await;
        self.address = address.clone();
        self.browser.base = address;
        self.handle = handle;
    }

    pub fn control(&self) -> &emulator::Control {
        self.emulator.control()
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
    pub cookies: Mutex<HashMap<String, String>>,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            cookies: Mutex::new(HashMap::new()),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookie("__Host-session")
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

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Response {
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

    pub async fn callback(&self, redirect: &Redirect) -> Response {
        let body = match redirect.params.get("error") {
            Some(error) => json!({"error": error, "state": redirect.get("state")}),
            None => json!({"code": redirect.get("code"), "state": redirect.get("state")}),
        };
        self.post_json("/api/auth/callback", &body).await
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
