//! Real headless Chromium through ChromeDriver, driving the SPA served by a real BFF and
//! a real emulator, all on loopback with random ports.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::app::Application;
use backend::clock::Clock;
use emulator::{AppRegistration, Emulator};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use testkit::chromium::{self, ChromeDriver};
use testkit::firefox::{self, GeckoDriver};

use crate::common::oidc::OidcServer;
use crate::common::{test_settings, use_emulator, use_oidc, workspace};

const WAIT: Duration = Duration::from_secs(15);

/// The built SPA; `cargo xtask test` builds it before the tests run.
fn dist_dir() -> PathBuf {
    let dir = std::env::var_os("STATIC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("dist"));
    assert!(
        dir.join("index.html").exists(),
        "{} has no built SPA: run `cargo xtask test`, which builds it first",
        dir.display()
    );
    dir
}

/// The running product: emulator and BFF serving the SPA.
struct Product {
    /// The emulator the test controls; `None` in dev mode, where the BFF runs its own.
    emulator: Option<Emulator>,
    /// The OpenID Provider offered beside GitHub, when set up.
    _idp: Option<OidcServer>,
    _data: tempfile::TempDir,
}

/// One browser (its own profile: cookies and all) on a running product.
pub struct Session {
    pub client: Client,
    pub base: String,
    /// The BFF's clock (tests move it forward instead of sleeping).
    pub clock: Clock,
    product: Arc<Product>,
    driver: Driver,
    _profile: tempfile::TempDir,
    name: &'static str,
}

/// The WebDriver server of a session's browser.
enum Driver {
    Chrome(ChromeDriver),
    Gecko(GeckoDriver),
}

impl Driver {
    fn url(&self) -> String {
        match self {
            Driver::Chrome(d) => d.url(),
            Driver::Gecko(d) => d.url(),
        }
    }
}

/// How the product under test is set up.
#[derive(Default, Clone, Copy)]
pub struct Setup {
    /// No credentials: the BFF starts its own emulator.
    pub dev_mode: bool,
    /// Firefox ESR instead of Chromium.
    pub firefox: bool,
    /// The emulated app issues expiring tokens with refresh tokens (GitHub App style).
    pub expiring_tokens: bool,
    /// A real OpenID Provider beside GitHub, as "Test IdP".
    pub oidc: bool,
    /// GITHUB_ALLOWED_USERS.
    pub allowed_users: &'static [&'static str],
    /// The example APIs: the `team-api` upstream at `/api/example` (WebSockets on) and
    /// the local `/api/greetings`, as `cargo xtask run` sets them up.
    pub example_api: bool,
}

/// Product with a test-controlled emulator configured as "GitHub".
pub async fn start(name: &'static str) -> Session {
    launch(name, Setup::default()).await
}

/// Product set up as `setup` says.
pub async fn start_with(name: &'static str, setup: Setup) -> Session {
    launch(name, setup).await
}

async fn launch(name: &'static str, setup: Setup) -> Session {
    // The BFF's port must be known before the emulator registers the callback URL.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let base = format!("http://localhost:{port}");
    let data = tempfile::tempdir().unwrap();
    let mut settings = test_settings(data.path(), &base, port);
    settings.server.static_dir = Some(dist_dir());
    settings.provider_timeout = Duration::from_secs(2);
    settings.github.allow.users = setup
        .allowed_users
        .iter()
        .map(|u| backend::config::AllowedUser::parse(u).unwrap())
        .collect();
    let emulator = (!setup.dev_mode).then(|| {
        let mut registration =
            AppRegistration::random("Repo Desk (test)", &format!("{base}/callback"));
        registration.expiring_tokens = setup.expiring_tokens;
        let emulator =
            Emulator::start(registration, TcpListener::bind("127.0.0.1:0").unwrap(), 1).unwrap();
        use_emulator(&mut settings, &emulator);
        emulator
    });
    let idp = setup.oidc.then(|| {
        let address = format!("http://127.0.0.1:{port}");
        let idp = OidcServer::start(&base, &address, "test-idp");
        use_oidc(&mut settings, &idp.issuer, "test-idp");
        idp
    });
    if setup.example_api {
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let upstream_url = format!("http://{}", upstream.local_addr().unwrap());
        let server = team_api::upstream::serve(
            upstream,
            team_api::upstream::Config {
                jwks_url: format!("http://127.0.0.1:{port}/.well-known/jwks.json"),
                issuer: base.clone(),
                audience: format!("{base}/api/example"),
                tick: Duration::from_secs(1),
            },
        )
        .unwrap();
        tokio::spawn(server);
        let mut api = backend::config::ApiSettings::new("example", upstream_url.parse().unwrap());
        api.websocket = true;
        settings.apis.push(api);
    }
    let clock = Clock::default();
    let mut builder = Application::builder(settings)
        .clock(clock.clone())
        .listener(listener);
    if setup.example_api {
        builder = builder.local_api(team_api::local::api());
    }
    let app = builder.build().await.expect("the app starts");
    tokio::spawn(app.run_until_stopped());
    let product = Arc::new(Product {
        emulator,
        _idp: idp,
        _data: data,
    });
    open_browser(name, base, clock, product, setup.firefox).await
}

/// A new browser, with a profile of its own, on `product`.
async fn open_browser(
    name: &'static str,
    base: String,
    clock: Clock,
    product: Arc<Product>,
    in_firefox: bool,
) -> Session {
    let profile = tempfile::tempdir().unwrap();
    let (driver, caps) = if in_firefox {
        let driver = GeckoDriver::start().await.expect("geckodriver starts");
        (Driver::Gecko(driver), firefox::capabilities(profile.path()))
    } else {
        let driver = ChromeDriver::start().await.expect("chromedriver starts");
        let mut caps = chromium::capabilities(profile.path());
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        (Driver::Chrome(driver), caps)
    };
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url())
        .await
        .expect("a WebDriver session with the browser");
    Session {
        client,
        base,
        clock,
        product,
        driver,
        _profile: profile,
        name,
    }
}

impl Drop for Session {
    /// A failed test must not leave browsers running.
    fn drop(&mut self) {
        match self.driver {
            Driver::Chrome(_) => chromium::stop_browsers_of(self._profile.path()),
            Driver::Gecko(_) => firefox::stop_browsers_of(self._profile.path()),
        }
    }
}

impl Session {
    /// The test-controlled emulator (not available in dev mode).
    pub fn control(&self) -> &emulator::Control {
        self.product
            .emulator
            .as_ref()
            .expect("not in dev mode")
            .control()
    }

    /// Another browser (another profile: separate cookies, like another computer) on the
    /// same product.
    pub async fn another_browser(&self, name: &'static str) -> Session {
        open_browser(
            name,
            self.base.clone(),
            self.clock.clone(),
            self.product.clone(),
            matches!(self.driver, Driver::Gecko(_)),
        )
        .await
    }

    /// Moves the BFF's and the provider's clocks forward together.
    pub fn advance_clocks(&self, by: Duration) {
        self.clock.advance(by);
        self.control().advance_clock(by);
    }

    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    pub async fn url(&self) -> url::Url {
        self.client.current_url().await.unwrap()
    }

    /// Waits for an element `locator` finds. A search that a navigation interrupts
    /// (ChromeDriver answers "aborted by navigation" while the page after a click is
    /// still loading) is tried again, like one that found nothing yet.
    pub async fn wait_for(
        &self,
        locator: Locator<'_>,
    ) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
        let started = Instant::now();
        loop {
            match self.client.find(locator).await {
                Ok(element) => return Ok(element),
                Err(e) if started.elapsed() >= WAIT => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Waits for an element whose visible text is exactly `text` (whitespace-normalised).
    pub async fn wait_for_text(&self, tag: &str, text: &str) -> fantoccini::elements::Element {
        let xpath = format!("//{tag}[normalize-space()=\"{text}\"]");
        self.wait_for(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no <{tag}> reading {text:?} ({e})"))
    }

    /// Waits for an element containing `text` anywhere in it.
    pub async fn wait_for_contains(&self, tag: &str, text: &str) -> fantoccini::elements::Element {
        let xpath = format!("//{tag}[contains(normalize-space(), \"{text}\")]");
        self.wait_for(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no <{tag}> containing {text:?} ({e})"))
    }

    /// A button found by its accessible text, clicked.
    pub async fn click_button(&self, text: &str) {
        self.wait_for_text("button", text)
            .await
            .click()
            .await
            .unwrap();
    }

    pub async fn wait_for_path(&self, path: &str) {
        let started = Instant::now();
        loop {
            let url = self.url().await;
            if url.path() == path {
                return;
            }
            assert!(started.elapsed() < WAIT, "still at {url}, expected {path}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sign in through the emulator's consent page as `login`.
    pub async fn sign_in(&self, login: &str) {
        self.click_button("Sign in with GitHub").await;
        self.consent(login, "Authorize").await;
        self.wait_for_path("/dashboard").await;
        self.wait_for_contains("p", &format!("@{login}")).await;
    }

    /// On the OpenID Provider's own pages: its login form, then its consent page.
    pub async fn sign_in_at_idp(&self, login: &str) {
        self.fill("input[name=login]", login).await;
        self.fill("input[name=password]", "any password").await;
        self.click_button("Sign-in").await;
        self.click_button("Continue").await;
    }

    /// Types `text` into the field `css` finds.
    pub async fn fill(&self, css: &str, text: &str) {
        self.wait_for(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} ({e})"))
            .send_keys(text)
            .await
            .unwrap();
    }

    /// On the emulator's consent page: choose the user and press a button.
    pub async fn consent(&self, login: &str, button: &str) {
        let radio = self
            .wait_for(Locator::Css(&format!("input[name=login][value={login}]")))
            .await
            .unwrap_or_else(|e| panic!("the emulator's consent page ({e})"));
        radio.click().await.unwrap();
        self.click_button(button).await;
    }

    /// Runs `fetch(path)` in the page (with the page's cookies) and returns the status.
    pub async fn fetch_status(&self, path: &str) -> u64 {
        let value = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => done(r.status), () => done(0));",
                vec![json!(path)],
            )
            .await
            .unwrap();
        value.as_u64().unwrap()
    }

    /// The browser console since the last call (ChromeDriver's log endpoint).
    pub async fn console(&self) -> Vec<Value> {
        if matches!(self.driver, Driver::Gecko(_)) {
            return Vec::new(); // geckodriver has no log endpoint: console tests run in Chromium
        }
        let session = self.client.session_id().await.unwrap().unwrap();
        let url = format!("{}/session/{session}/se/log", self.driver.url());
        let answer: Value = reqwest::Client::new()
            .post(url)
            .json(&json!({"type": "browser"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["value"].as_array().cloned().unwrap_or_default()
    }

    /// Saves a screenshot under `target/e2e-screenshots/` and closes the browser. (A test
    /// that panics before this still loses its browser: see `Drop`.)
    pub async fn finish(self) {
        self.screenshot(self.name).await;
        self.client.clone().close().await.unwrap();
    }

    /// Saves a screenshot of the card (`section`) whose heading reads `heading`.
    pub async fn screenshot_card(&self, heading: &str, name: &str) {
        let card = self
            .client
            .find(Locator::XPath(&format!(
                "//section[h2[normalize-space()=\"{heading}\"] or div/h2[normalize-space()=\"{heading}\"]]"
            )))
            .await
            .unwrap_or_else(|e| panic!("no card headed {heading:?} ({e})"));
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'start'})",
                vec![serde_json::to_value(&card).unwrap()],
            )
            .await
            .unwrap();
        let png = card.screenshot().await.unwrap();
        let dir = workspace().join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn screenshot(&self, name: &str) {
        let dir = workspace().join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}
