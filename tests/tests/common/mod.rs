//! What the API and browser test binaries share: the settings every test app starts
//! from, and throw-away Redis and PostgreSQL servers.

#[allow(dead_code)]
pub mod oidc;
#[allow(unused_imports)]
pub use testkit::servers;

use std::path::Path;
use std::time::Duration;

use backend::config::{ClientCredentials, IssuerUrl, OidcSettings, ProviderId, Settings};
use backend::crypto::KeyRing;
use emulator::Emulator;

/// The workspace's root folder (where `Cargo.toml`, `docs/` and `deploy/` are).
pub fn workspace() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

/// Settings for a BFF under test: loopback, a random port unless `port` is given, one
/// worker, a fresh key, data in `data_dir`, and no provider (dev mode) until
/// [`use_emulator`] points it at one.
pub fn test_settings(data_dir: &Path, public_url: &str, port: u16) -> Settings {
    let mut settings = Settings::defaults();
    settings.server.host = "127.0.0.1".into();
    settings.server.port = port;
    settings.server.public_url = Some(public_url.parse().unwrap());
    settings.server.data_dir = data_dir.to_path_buf();
    settings.server.workers = Some(1);
    settings.stores.token_keys = Some(KeyRing::generate_key().into());
    settings.stores.identity_keys = Some(backend::crypto::SigningKeys::generate_key().into());
    settings.limits.auth_per_min = 10_000;
    settings.limits.preauth_sessions_per_client = 10_000;
    settings.limits.preauth_sessions_total = 1_000_000;
    settings.limits.github_calls_per_session_per_min = 100_000;
    settings.limits.github_calls_per_session_at_once = 1_000;
    settings.limits.api_writes_per_session_per_min = 100_000;
    settings.limits.api_writes_per_session_at_once = 1_000;
    settings.provider_timeout = Duration::from_secs(1);
    settings
}

/// Makes `emulator` the GitHub of `settings`.
pub fn use_emulator(settings: &mut Settings, emulator: &Emulator) {
    let app = emulator.control().app();
    settings.github.client = Some(ClientCredentials {
        id: app.client_id.clone(),
        secret: app.client_secret.clone().into(),
    });
    settings.github.oauth_url = emulator.base_url().parse().unwrap();
    settings.github.api_url = emulator.api_url().parse().unwrap();
}

/// Adds the OpenID Connect provider at `issuer` to the providers of `settings`, as `id`,
/// with the client [`oidc::CLIENT_ID`].
#[allow(dead_code)]
pub fn use_oidc(settings: &mut Settings, issuer: &str, id: &str) {
    settings.oidc.push(OidcSettings {
        id: ProviderId::parse(id, "test").unwrap(),
        name: "Test IdP".into(),
        issuer: IssuerUrl::parse(issuer, "test").unwrap(),
        client_id: oidc::CLIENT_ID.into(),
        client_secret: oidc::CLIENT_SECRET.into(),
        scopes: backend::config::providers::DEFAULT_OIDC_SCOPES.into(),
        extra_audiences: Vec::new(),
    });
}
