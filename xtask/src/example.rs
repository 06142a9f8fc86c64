//! The example upstream API for `cargo xtask run` in dev mode: `team-api` on a free
//! loopback port, and a configuration file that puts it behind the BFF at
//! `/api/example` (WebSockets on).

use std::path::PathBuf;
use std::process::{Child, Command};

use crate::steps;

/// The running example; stopped when dropped.
pub struct Example(Child);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `team-api` for a BFF on `bff_port` and writes the configuration file naming
/// it; returns the process and the file's path.
pub fn start(bff_port: &str) -> Result<(Example, PathBuf), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port for the example API: {e}"))?
        .port();
    let public_url = std::env::var("PUBLIC_URL")
        .unwrap_or_else(|_| format!("http://localhost:{bff_port}"))
        .trim_end_matches('/')
        .to_owned();
    let child = Command::new(steps::root().join("target/debug/team-api"))
        .env("PORT", port.to_string())
        .env("BFF_URL", format!("http://127.0.0.1:{bff_port}"))
        .env("ISSUER", &public_url)
        .env("AUDIENCE", format!("{public_url}/api/example"))
        .spawn()
        .map_err(|e| format!("cannot start the example API: {e}"))?;
    let dir = steps::root().join("target/dev");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let config = dir.join("bff.toml");
    let text = format!(
        "# Written by `cargo xtask run`: the example upstream API behind the BFF.\n\
         [[api]]\nprefix = \"example\"\nupstream = \"http://127.0.0.1:{port}\"\nwebsocket = true\n"
    );
    std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
    Ok((Example(child), config))
}
