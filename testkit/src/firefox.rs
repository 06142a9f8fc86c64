//! Debian's Firefox ESR through geckodriver (installed from crates.io), for the browser
//! tests that must pass in a second engine: one set of options, like `chromium.rs`.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Map, Value};

use crate::process::{free_port, start_webdriver, ChildGuard};

/// geckodriver on a free loopback port, stopped on drop.
pub struct GeckoDriver {
    _child: ChildGuard,
    port: u16,
}

impl GeckoDriver {
    /// Starts `$GECKODRIVER` (default `geckodriver` on the PATH: `cargo xtask test`
    /// installs it with `cargo install`) and waits until it answers.
    pub async fn start() -> anyhow::Result<Self> {
        let binary = std::env::var("GECKODRIVER").unwrap_or_else(|_| "geckodriver".into());
        let port = free_port();
        let mut command = Command::new(&binary);
        command
            .args(["--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .args(["--log", "fatal"]);
        Ok(Self {
            _child: start_webdriver(command, port, "geckodriver").await?,
            port,
        })
    }

    /// The WebDriver URL to connect a client to.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// WebDriver capabilities for `$FIREFOX` (default `/usr/bin/firefox-esr`) with the
/// profile folder `profile` (its own cookies, an empty cache): headless, the tests' window
/// size, none of Firefox's background traffic, and every host but `localhost` and
/// `127.0.0.1` sent to a proxy that is not there, so a page that reaches further fails
/// fast instead of leaving the machine.
pub fn capabilities(profile: &Path) -> Map<String, Value> {
    let firefox = std::env::var("FIREFOX").unwrap_or_else(|_| "/usr/bin/firefox-esr".into());
    let mut caps = Map::new();
    caps.insert("browserName".into(), json!("firefox"));
    caps.insert(
        "moz:firefoxOptions".into(),
        json!({
            "binary": firefox,
            "args": ["-headless", "-profile", profile.display().to_string(), "--width=1100", "--height=900"],
            "prefs": {
                "network.proxy.type": 1,
                "network.proxy.http": "127.0.0.1",
                "network.proxy.http_port": 9,
                "network.proxy.ssl": "127.0.0.1",
                "network.proxy.ssl_port": 9,
                "network.proxy.no_proxies_on": "localhost, 127.0.0.1",
                "app.update.enabled": false,
                "app.normandy.enabled": false,
                "browser.shell.checkDefaultBrowser": false,
                "browser.safebrowsing.malware.enabled": false,
                "browser.safebrowsing.phishing.enabled": false,
                "datareporting.policy.dataSubmissionEnabled": false,
                "toolkit.telemetry.enabled": false,
                "network.captive-portal-service.enabled": false,
                "network.connectivity-service.enabled": false,
                "extensions.update.enabled": false,
            },
        }),
    );
    caps
}

/// Ends every Firefox started with the profile in `profile` (see
/// `chromium::stop_browsers_of`).
pub fn stop_browsers_of(profile: &Path) {
    let _ = Command::new("pkill")
        .args(["-f", "--"])
        .arg(format!("-profile {}", profile.display()))
        .status();
}
