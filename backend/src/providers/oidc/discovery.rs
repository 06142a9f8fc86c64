//! OpenID Connect Discovery 1.0: the provider's metadata, fetched once at start-up and
//! checked (the `issuer` must be the configured one, byte for byte, or everything signed
//! later could come from someone else).

use anyhow::{bail, Context};
use reqwest::Client;
use serde::Deserialize;
use url::Url;

use crate::config::{check_provider_url, IssuerUrl};
use crate::providers::http::{parse_json, read_body};

/// The parts of the discovery document the BFF uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub jwks_uri: Url,
    #[serde(default)]
    pub userinfo_endpoint: Option<Url>,
    #[serde(default)]
    pub end_session_endpoint: Option<Url>,
    #[serde(default)]
    pub revocation_endpoint: Option<Url>,
    /// RFC 9207: when true, the authorization response carries `iss`, and it is required.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
}

impl Metadata {
    /// `client_secret_basic` unless the provider only takes `client_secret_post`.
    pub fn secret_in_form(&self) -> bool {
        self.token_endpoint_auth_methods_supported
            .as_ref()
            .is_some_and(|methods| {
                methods.iter().any(|m| m == "client_secret_post")
                    && !methods.iter().any(|m| m == "client_secret_basic")
            })
    }
}

/// Fetches and checks `{issuer}/.well-known/openid-configuration`. Errors are one line
/// naming the provider (`source`).
pub async fn fetch(http: &Client, issuer: &IssuerUrl, source: &str) -> anyhow::Result<Metadata> {
    let url = format!("{issuer}/.well-known/openid-configuration");
    let response = http
        .get(&url)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(e.without_url()))
        .with_context(|| format!("{source}: the issuer {issuer} is unreachable"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("{source}: the discovery document at {url} answered {status}");
    }
    let body = read_body(response, "the discovery document")
        .await
        .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    let metadata: Metadata = parse_json(&body, "the discovery document")
        .map_err(|e| anyhow::anyhow!("{source}: the discovery document is inconsistent: {e:#}"))?;
    check(&metadata, issuer, source)?;
    Ok(metadata)
}

fn check(metadata: &Metadata, issuer: &IssuerUrl, source: &str) -> anyhow::Result<()> {
    if !issuer.is(&metadata.issuer) {
        bail!(
            "{source}: the discovery document names the issuer {:?}, not the configured {:?}",
            metadata.issuer,
            issuer.as_str()
        );
    }
    for (name, url) in [
        (
            "authorization_endpoint",
            Some(&metadata.authorization_endpoint),
        ),
        ("token_endpoint", Some(&metadata.token_endpoint)),
        ("jwks_uri", Some(&metadata.jwks_uri)),
        ("userinfo_endpoint", metadata.userinfo_endpoint.as_ref()),
        (
            "end_session_endpoint",
            metadata.end_session_endpoint.as_ref(),
        ),
        ("revocation_endpoint", metadata.revocation_endpoint.as_ref()),
    ] {
        if let Some(url) = url {
            check_provider_url(&format!("{source} {name}"), url).map_err(anyhow::Error::msg)?;
        }
    }
    if let Some(methods) = &metadata.code_challenge_methods_supported {
        if !methods.iter().any(|m| m == "S256") {
            bail!("{source}: the provider does not support PKCE with S256");
        }
    }
    Ok(())
}
