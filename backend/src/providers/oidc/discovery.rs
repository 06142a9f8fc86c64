//! OpenID Connect Discovery 1.0: the provider's metadata, fetched once at start-up and
//! checked (the `issuer` must be the configured one, byte for byte, or everything signed
//! later could come from someone else).

use crate::providers::http::SendTraced as _;
use anyhow::{bail, Context};
use reqwest::Client;
use serde::Deserialize;
use url::{Host, Url};

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
        .send_traced("discovery")
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
    let loopback_issuer = is_loopback(issuer.url());
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
            // The client secret and the tokens go to these endpoints: a public issuer's
            // document must not point them inside the network (a blind SSRF with the
            // secret). Only a loopback issuer (development, tests) may use loopback.
            if !loopback_issuer && is_inside(url) {
                bail!(
                    "{source}: the discovery document points {name} at {url}, inside the network; only a loopback issuer may"
                );
            }
        }
    }
    if let Some(methods) = &metadata.code_challenge_methods_supported {
        if !methods.iter().any(|m| m == "S256") {
            bail!("{source}: the provider does not support PKCE with S256");
        }
    }
    Ok(())
}

/// True for a URL on a loopback host.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// True for a URL whose host is `localhost` or an address literal that is not on the
/// public internet (loopback, private, link-local, unique-local, unspecified).
fn is_inside(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.octets()[0] == 100 && (64..128).contains(&ip.octets()[1])
        }
        Some(Host::Ipv6(ip)) => {
            let first = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_private() || v4.is_link_local())
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(issuer: &str, token_endpoint: &str) -> Metadata {
        Metadata {
            issuer: issuer.into(),
            authorization_endpoint: format!("{issuer}/authorize").parse().unwrap(),
            token_endpoint: token_endpoint.parse().unwrap(),
            jwks_uri: format!("{issuer}/jwks").parse().unwrap(),
            userinfo_endpoint: None,
            end_session_endpoint: None,
            revocation_endpoint: None,
            authorization_response_iss_parameter_supported: false,
            token_endpoint_auth_methods_supported: None,
            code_challenge_methods_supported: None,
        }
    }

    fn checked(issuer: &str, token_endpoint: &str) -> anyhow::Result<()> {
        let configured = IssuerUrl::parse(issuer, "test").unwrap();
        check(&metadata(issuer, token_endpoint), &configured, "test")
    }

    #[test]
    fn a_public_issuer_cannot_send_the_client_secret_inside_the_network() {
        let public = "https://idp.example.com";
        assert!(checked(public, "https://idp.example.com/token").is_ok());
        assert!(checked(public, "https://login.example.net/oauth/token").is_ok());
        for inside in [
            "http://127.0.0.1:8080/token",
            "http://localhost/token",
            "https://127.0.0.1/token",
            "https://10.1.2.3/token",
            "https://172.16.0.9/token",
            "https://192.168.1.1/token",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/token",
            "https://[fd00::1]/token",
            "https://[fe80::1]/token",
            "https://0.0.0.0/token",
            "https://localhost/token",
        ] {
            let refused = checked(public, inside);
            assert!(refused.is_err(), "{inside} was accepted");
        }
    }

    #[test]
    fn a_loopback_issuer_may_use_loopback_endpoints() {
        let local = "http://127.0.0.1:4000";
        assert!(checked(local, "http://127.0.0.1:4000/token").is_ok());
        assert!(checked(local, "http://localhost:4001/token").is_ok());
    }
}
