//! A real OpenID Provider (`tests/oidc/provider.mjs`, the `oidc-provider` npm package)
//! as a child process on a free loopback port, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use testkit::process::ChildGuard;

use super::workspace;

/// The client the provider knows the BFF as.
pub const CLIENT_ID: &str = "bff-under-test";
pub const CLIENT_SECRET: &str = "a-client-secret-for-tests";

pub struct OidcServer {
    _child: ChildGuard,
    pub issuer: String,
}

impl OidcServer {
    /// Starts the provider with the BFF registered at `bff_base` (its redirect URI,
    /// post-logout page and back-channel logout endpoint for provider id `id`).
    pub fn start(bff_public_url: &str, bff_address: &str, id: &str) -> Self {
        let modules = std::env::var_os("OIDC_PROVIDER_MODULES")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target/tools/oidc/node_modules"));
        assert!(
            modules.join("oidc-provider").exists(),
            "{} has no oidc-provider: `cargo xtask test` installs it",
            modules.display()
        );
        let mut child = Command::new("node")
            .arg(workspace().join("tests/oidc/provider.mjs"))
            .env("OIDC_PROVIDER_MODULES", &modules)
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("REDIRECT_URI", format!("{bff_public_url}/callback"))
            .env("POST_LOGOUT_REDIRECT_URI", format!("{bff_public_url}/"))
            // Node resolves `localhost` to ::1 first: the BFF listens on 127.0.0.1.
            .env(
                "BACKCHANNEL_LOGOUT_URI",
                format!("{bff_address}/api/auth/backchannel-logout/{id}"),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts (Node.js 20 is on the machine)");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        // The provider keeps writing notices; a closed pipe would kill it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::stderr()));
        let issuer = line
            .trim()
            .strip_prefix("issuer ")
            .unwrap_or_else(|| panic!("unexpected provider output {line:?}"))
            .to_owned();
        Self {
            _child: ChildGuard::new(child),
            issuer,
        }
    }
}
