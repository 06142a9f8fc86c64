//! Debian's headless Chromium through Debian's ChromeDriver, with one set of options for
//! the browser tests and the page-load benchmark.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Map, Value};

use crate::process::{free_port, start_webdriver, ChildGuard};

/// ChromeDriver on a free loopback port, stopped on drop.
pub struct ChromeDriver {
    _child: ChildGuard,
    port: u16,
}

impl ChromeDriver {
    /// Starts `$CHROMEDRIVER` (default `/usr/bin/chromedriver`) and waits until it answers.
    pub async fn start() -> anyhow::Result<Self> {
        let binary =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = free_port();
        let mut command = Command::new(&binary);
        command
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1");
        Ok(Self {
            _child: start_webdriver(command, port, "chromium-driver").await?,
            port,
        })
    }

    /// The WebDriver URL to connect a client to.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// WebDriver capabilities for `$CHROMIUM` (default `/usr/bin/chromium`) with a profile
/// of its own in `profile` (its own cookies and an empty cache): headless, no sandbox (the
/// tests may run as root), none of Chromium's background traffic, and no name resolved
/// but `localhost` and `127.0.0.1`, so a page that reaches further (a provider's web
/// fonts) fails fast instead of leaving the machine.
pub fn capabilities(profile: &Path) -> Map<String, Value> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut caps = Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions",
                "--window-size=1100,900",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    caps
}

/// Ends every Chromium started with the profile in `profile`. Killing ChromeDriver
/// orphans its browser: whoever made a profile calls this when done with it, so a
/// failed test or benchmark leaves no browser running.
pub fn stop_browsers_of(profile: &Path) {
    let _ = Command::new("pkill")
        .args(["-f", "--"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .status();
}
