//! The GitHub client: authorize URL, code exchange, profile, repositories, revocation.
//!
//! GitHub reports token errors as HTTP 200 with an `error` field; those are errors here.

use std::time::Duration;

use anyhow::anyhow;
use reqwest::{header, Client, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use shared::api::{Repo, GITHUB};
use shared::pkce::CodeVerifier;
use url::Url;

use super::error::{ProviderError, TokenErrorCode};
use super::http::{self, is_rate_limited, read_json, transport};
use super::{AccessToken, AuthorizationCode};
use crate::users::Profile;

const API_VERSION: &str = "2022-11-28";

/// Where GitHub lives and who we are to it.
pub struct GitHubConfig {
    pub oauth_url: Url,
    pub api_url: Url,
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uri: String,
    pub scopes: String,
    pub timeout: Duration,
}

pub struct GitHub {
    http: Client,
    config: GitHubConfig,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct GitHubUser {
    id: i64,
    login: String,
    name: Option<String>,
    email: Option<String>,
    avatar_url: Option<String>,
    html_url: Option<String>,
}

#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

#[derive(Deserialize)]
struct GitHubRepo {
    id: i64,
    name: String,
    full_name: String,
    html_url: String,
    description: Option<String>,
    #[serde(default)]
    private: bool,
    #[serde(default)]
    stargazers_count: i64,
    updated_at: Option<String>,
}

impl GitHub {
    pub fn new(config: GitHubConfig) -> anyhow::Result<Self> {
        let mut headers = header::HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            header::HeaderValue::from_static("application/json"),
        );
        headers.insert(
            "x-github-api-version",
            header::HeaderValue::from_static(API_VERSION),
        );
        let http = http::client(config.timeout, headers)?;
        Ok(Self { http, config })
    }

    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    /// The URL the browser is sent to (RFC 6749 §4.1.1 with RFC 7636 §4.3).
    pub fn authorize_url(&self, state: &str, code_challenge: &str) -> String {
        let mut url = self.endpoint(&self.config.oauth_url, "login/oauth/authorize");
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("scope", &self.config.scopes)
            .append_pair("state", state)
            .append_pair("code_challenge", code_challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("allow_signup", "true");
        url.into()
    }

    fn endpoint(&self, base: &Url, path: &str) -> Url {
        let mut url = base.clone();
        let joined = format!("{}/{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        url
    }

    /// Exchanges the code (with our secret and the PKCE verifier) for an access token.
    pub async fn exchange(
        &self,
        code: AuthorizationCode,
        verifier: CodeVerifier,
    ) -> Result<AccessToken, ProviderError> {
        let url = self.endpoint(&self.config.oauth_url, "login/oauth/access_token");
        let form = [
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose_secret()),
            ("code", code.secret()),
            ("redirect_uri", self.config.redirect_uri.as_str()),
            ("code_verifier", verifier.secret()),
        ];
        let response = self
            .http
            .post(url)
            .form(&form)
            .send()
            .await
            .map_err(|e| transport(e, "exchange the code"))?;
        let answer: TokenAnswer = read_json(response, "the token request").await?;
        match (answer.access_token, answer.error) {
            (_, Some(error)) => Err(ProviderError::TokenRefused(TokenErrorCode::parse(&error))),
            (Some(token), None) if !token.is_empty() => Ok(AccessToken::new(token)),
            _ => Err(ProviderError::BadAnswer(anyhow!(
                "the token answer has no access_token and no error"
            ))),
        }
    }

    /// The profile, with the primary verified email when the public one is hidden.
    pub async fn profile(&self, token: &AccessToken) -> Result<Profile, ProviderError> {
        let user: GitHubUser = self.get(token, "user", "the profile request").await?;
        let email = match user.email.filter(|e| !e.is_empty()) {
            Some(email) => Some(email),
            None => self.primary_email(token).await?,
        };
        Ok(Profile {
            provider: GITHUB,
            provider_user_id: user.id.to_string(),
            login: user.login,
            name: user.name.filter(|n| !n.is_empty()),
            email,
            avatar_url: user.avatar_url,
            profile_url: user.html_url,
        })
    }

    async fn primary_email(&self, token: &AccessToken) -> Result<Option<String>, ProviderError> {
        // Without the user:email scope this answers 403/404: that only means "unknown".
        match self
            .get::<Vec<GitHubEmail>>(token, "user/emails", "the email request")
            .await
        {
            Ok(emails) => Ok(emails
                .into_iter()
                .find(|e| e.primary && e.verified)
                .map(|e| e.email)),
            Err(ProviderError::Refused(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The user's repositories, most recently updated first.
    pub async fn repos(&self, token: &AccessToken) -> Result<Vec<Repo>, ProviderError> {
        let repos: Vec<GitHubRepo> = self
            .get(
                token,
                "user/repos?sort=updated&per_page=30",
                "the repository request",
            )
            .await?;
        Ok(repos
            .into_iter()
            .map(|r| Repo {
                id: r.id,
                name: r.name,
                full_name: r.full_name,
                html_url: r.html_url,
                description: r.description,
                private: r.private,
                stargazers_count: r.stargazers_count,
                updated_at: r.updated_at,
            })
            .collect())
    }

    /// Revokes the token at GitHub (`DELETE /applications/{client_id}/token`).
    pub async fn revoke(&self, token: &AccessToken) -> Result<(), ProviderError> {
        let url = self.endpoint(
            &self.config.api_url,
            &format!("applications/{}/token", self.config.client_id),
        );
        let response = self
            .http
            .delete(url)
            .basic_auth(
                &self.config.client_id,
                Some(self.config.client_secret.expose_secret()),
            )
            .json(&serde_json::json!({ "access_token": token.secret() }))
            .send()
            .await
            .map_err(|e| transport(e, "revoke a token"))?;
        match response.status() {
            // 404: already revoked or unknown, which is what we wanted.
            StatusCode::NO_CONTENT | StatusCode::NOT_FOUND => Ok(()),
            status if status.is_server_error() => Err(ProviderError::unavailable(anyhow!(
                "GitHub answered {status} to the revocation"
            ))),
            status => Err(ProviderError::Refused(format!("the revocation ({status})"))),
        }
    }

    async fn get<T: DeserializeOwned>(
        &self,
        token: &AccessToken,
        path: &str,
        what: &str,
    ) -> Result<T, ProviderError> {
        let url = format!(
            "{}/{path}",
            self.config.api_url.as_str().trim_end_matches('/')
        );
        let response = self
            .http
            .get(url)
            .bearer_auth(token.secret())
            .header(header::ACCEPT, "application/vnd.github+json")
            .send()
            .await
            .map_err(|e| transport(e, what))?;
        match response.status() {
            StatusCode::UNAUTHORIZED => Err(ProviderError::Revoked),
            _ if is_rate_limited(&response) => Err(ProviderError::RateLimited(what.to_owned())),
            _ => read_json(response, what).await,
        }
    }
}
