//! The development provider: the GitHub emulator, embedded and started on loopback when
//! no GitHub credentials are set. Behind the `dev-provider` cargo feature (on by
//! default), so a production build can leave every fake identity out of the binary.

use url::Url;

use crate::config::ClientCredentials;

/// Where the development provider lives and who we are to it.
pub struct DevProvider {
    #[cfg(feature = "dev-provider")]
    emulator: emulator::Emulator,
    pub client: ClientCredentials,
    pub oauth_url: Url,
    pub api_url: Url,
}

impl DevProvider {
    /// Starts the emulator on a free loopback port with ourselves registered at
    /// `redirect_uri`.
    #[cfg(feature = "dev-provider")]
    pub fn start(redirect_uri: &str) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        use emulator::{AppRegistration, Emulator};

        let registration =
            AppRegistration::random("Sign in with GitHub (development)", redirect_uri);
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
            .context("Failed to start the GitHub emulator")?;
        let emulator = Emulator::start(registration.clone(), listener, 1)?;
        tracing::warn!(
            emulator = emulator.base_url(),
            "DEV MODE: no GITHUB_CLIENT_ID/GITHUB_CLIENT_SECRET set, signing in against the embedded GitHub emulator (development provider)"
        );
        Ok(Self {
            client: ClientCredentials {
                id: registration.client_id,
                secret: registration.client_secret.into(),
            },
            oauth_url: Url::parse(emulator.base_url())?,
            api_url: Url::parse(&emulator.api_url())?,
            emulator,
        })
    }

    #[cfg(not(feature = "dev-provider"))]
    pub fn start(_redirect_uri: &str) -> anyhow::Result<Self> {
        anyhow::bail!(
            "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET must be set: this build has no development provider (built without the dev-provider feature)"
        )
    }

    /// The embedded emulator (tests steer it).
    #[cfg(feature = "dev-provider")]
    pub fn emulator(&self) -> &emulator::Emulator {
        &self.emulator
    }

    pub async fn stop(&self) {
        #[cfg(feature = "dev-provider")]
        self.emulator.stop().await;
    }
}
