//! The GitHub client: authorize URL, code exchange and refresh, profile, repositories,
//! revocation of a token or of the whole grant, and raw API reads for the proxy.
//!
//! GitHub reports token errors as HTTP 200 with an `error` field; those are errors here.
//! Both token shapes are handled whatever the app type: with `expires_in` and a refresh
//! token (GitHub Apps, OAuth Apps that opted in) and without (classic OAuth Apps).

use crate::providers::http::SendTraced as _;
use std::time::Duration;

use anyhow::anyhow;
use async_trait::async_trait;
use reqwest::{header, Client, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use shared::api::{Repo, GITHUB};
use shared::pkce::CodeVerifier;
use url::Url;

use super::error::ProviderError;
use super::http::{self, is_rate_limited, read_json, transport};
use super::provider::{Admission, AllowCheck, AuthorizeRequest, Provider, SignIn};
use super::token_endpoint::{self, ClientAuth};
use super::{AccessToken, AuthorizationCode, Nonce, RefreshToken, TokenSet};
use crate::clock::Clock;
use crate::config::{AllowedUser, GitHubAllowList};
use crate::metrics;
use shared::api::{Profile, User};

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
    /// Who may sign in; open when every list is empty.
    pub allow: GitHubAllowList,
}

pub struct GitHub {
    http: http::Clients,
    config: GitHubConfig,
    clock: Clock,
}

/// A raw answer of the REST API, for the proxy: status, the headers worth passing on,
/// and the body.
pub struct ApiAnswer {
    pub status: StatusCode,
    pub headers: Vec<(header::HeaderName, header::HeaderValue)>,
    pub body: Vec<u8>,
}

/// Response headers the proxy passes back; everything else stays here.
const PASSED_HEADERS: &[&str] = &[
    "content-type",
    "etag",
    "last-modified",
    "link",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-ratelimit-used",
    "x-ratelimit-resource",
];

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
struct Membership {
    state: String,
}

#[derive(Deserialize)]
struct Team {
    slug: String,
    organization: TeamOrganization,
}

#[derive(Deserialize)]
struct TeamOrganization {
    login: String,
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
    pub fn new(config: GitHubConfig, clock: Clock) -> anyhow::Result<Self> {
        let mut headers = header::HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            header::HeaderValue::from_static("application/json"),
        );
        headers.insert(
            "x-github-api-version",
            header::HeaderValue::from_static(API_VERSION),
        );
        let http = http::Clients::new(config.timeout, headers)?;
        Ok(Self {
            http,
            config,
            clock,
        })
    }

    /// The client for a request made here (the worker's own copy).
    fn http(&self) -> Client {
        self.http.get()
    }

    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    /// The origin of GitHub's web pages (avatars are served from there by the emulator).
    pub fn oauth_origin(&self) -> String {
        self.config.oauth_url.origin().ascii_serialization()
    }

    /// The REST API's base URL (the proxy rewrites `Link` headers that point at it).
    pub fn api_url(&self) -> &Url {
        &self.config.api_url
    }

    fn endpoint(&self, base: &Url, path: &str) -> Url {
        let mut url = base.clone();
        let joined = format!("{}/{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        url
    }

    fn client_auth(&self) -> ClientAuth<'_> {
        ClientAuth::Form {
            id: &self.config.client_id,
            secret: self.config.client_secret.expose_secret(),
        }
    }

    fn token_url(&self) -> Url {
        self.endpoint(&self.config.oauth_url, "login/oauth/access_token")
    }

    /// The profile, with the primary verified email when the public one is hidden.
    pub async fn profile(&self, token: &AccessToken) -> Result<Profile, ProviderError> {
        let user: GitHubUser = self
            .get(token, "user", "user", "the profile request")
            .await?;
        let email = match user.email.filter(|e| !e.is_empty()) {
            Some(email) => Some(email),
            None => self.primary_email(token).await?,
        };
        Ok(Profile(User {
            id: 0,
            provider: GITHUB.to_owned(),
            provider_user_id: user.id.to_string(),
            login: user.login,
            name: user.name.filter(|n| !n.is_empty()),
            email,
            avatar_url: user.avatar_url,
            profile_url: user.html_url,
        }))
    }

    async fn primary_email(&self, token: &AccessToken) -> Result<Option<String>, ProviderError> {
        // Without the user:email scope this answers 403/404: that only means "unknown".
        match self
            .get::<Vec<GitHubEmail>>(token, "emails", "user/emails", "the email request")
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
                "repos",
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

    /// True when `who` is an active member of `org`.
    async fn is_org_member(&self, token: &AccessToken, org: &str) -> Result<bool, ProviderError> {
        let path = format!("user/memberships/orgs/{org}");
        match self
            .get::<Membership>(token, "membership", &path, "the membership request")
            .await
        {
            Ok(membership) => Ok(membership.state == "active"),
            // 404 (not a member) and 403 (the organisation hides it) both mean "no".
            Err(ProviderError::Refused(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// True when the token's owner is an active member of one of `orgs`, or on one of
    /// `teams` (`org/team-slug`): the allow-list's rule, for other lists (an upstream
    /// API's).
    pub async fn member_of(
        &self,
        token: &AccessToken,
        orgs: &[String],
        teams: &[String],
    ) -> Result<bool, ProviderError> {
        for org in orgs {
            if self.is_org_member(token, org).await? {
                return Ok(true);
            }
        }
        Ok(!teams.is_empty() && self.is_team_member(token, teams).await?)
    }

    /// True when the token's owner is on one of `wanted` (`org/team-slug`). Reads up to
    /// ten pages of `/user/teams`.
    async fn is_team_member(
        &self,
        token: &AccessToken,
        wanted: &[String],
    ) -> Result<bool, ProviderError> {
        for page in 1..=10 {
            let path = format!("user/teams?per_page=100&page={page}");
            let teams: Vec<Team> = self.get(token, "teams", &path, "the teams request").await?;
            let found = teams.iter().any(|team| {
                wanted.iter().any(|wanted| {
                    wanted.split_once('/').is_some_and(|(org, slug)| {
                        org.eq_ignore_ascii_case(&team.organization.login)
                            && slug.eq_ignore_ascii_case(&team.slug)
                    })
                })
            });
            if found {
                return Ok(true);
            }
            if teams.len() < 100 {
                break;
            }
        }
        Ok(false)
    }

    /// `DELETE /applications/{client_id}/{what}` with Basic auth: `token` revokes one
    /// token, `grant` the person's whole authorization of the app (every token).
    async fn delete_application(
        &self,
        what: &str,
        token: &AccessToken,
    ) -> Result<(), ProviderError> {
        let url = self.endpoint(
            &self.config.api_url,
            &format!("applications/{}/{what}", self.config.client_id),
        );
        let response = self
            .http()
            .delete(url)
            .basic_auth(
                &self.config.client_id,
                Some(self.config.client_secret.expose_secret()),
            )
            .json(&serde_json::json!({ "access_token": token.secret() }))
            .send_traced("revoke")
            .await
            .map_err(|e| transport(e, "revoke at GitHub"))?;
        match response.status() {
            // 404: already revoked or unknown, which is what we wanted.
            StatusCode::NO_CONTENT | StatusCode::NOT_FOUND => Ok(()),
            status if status.is_server_error() => Err(ProviderError::unavailable(anyhow!(
                "GitHub answered {status} to the revocation"
            ))),
            status => Err(ProviderError::Refused(format!("the revocation ({status})"))),
        }
    }

    /// GitHub's "check a token" (`POST /applications/{client_id}/token`, Basic auth with
    /// the app's credentials): true while `token` is valid and belongs to the person
    /// GitHub knows as `github_id`, false once GitHub reports it dead (404).
    pub async fn token_is_live(
        &self,
        token: &AccessToken,
        github_id: &str,
    ) -> Result<bool, ProviderError> {
        #[derive(Deserialize)]
        struct Check {
            user: Option<CheckUser>,
        }
        #[derive(Deserialize)]
        struct CheckUser {
            id: i64,
        }
        let call = async {
            let url = self.endpoint(
                &self.config.api_url,
                &format!("applications/{}/token", self.config.client_id),
            );
            let response = self
                .http()
                .post(url)
                .basic_auth(
                    &self.config.client_id,
                    Some(self.config.client_secret.expose_secret()),
                )
                .json(&serde_json::json!({ "access_token": token.secret() }))
                .send_traced("check_token")
                .await
                .map_err(|e| transport(e, "check a token at GitHub"))?;
            if response.status() == StatusCode::NOT_FOUND {
                return Ok(false);
            }
            let check: Check = read_json(response, "the token check").await?;
            Ok(check.user.is_some_and(|u| u.id.to_string() == github_id))
        };
        metrics::provider_call("check_token", call, ProviderError::outcome_of).await
    }

    /// A GET on the REST API for the proxy: `path_and_query` is relative to the API base
    /// and already checked against the allow-list. Only the passed headers come back.
    pub async fn api_get(
        &self,
        token: &AccessToken,
        path_and_query: &str,
        if_none_match: Option<&[u8]>,
    ) -> Result<ApiAnswer, ProviderError> {
        metrics::provider_call(
            "proxy",
            self.api_get_untimed(token, path_and_query, if_none_match),
            ProviderError::outcome_of,
        )
        .await
    }

    async fn api_get_untimed(
        &self,
        token: &AccessToken,
        path_and_query: &str,
        if_none_match: Option<&[u8]>,
    ) -> Result<ApiAnswer, ProviderError> {
        let url = format!(
            "{}/{path_and_query}",
            self.config.api_url.as_str().trim_end_matches('/')
        );
        let mut request = self
            .http()
            .get(url)
            .bearer_auth(token.secret())
            .header(header::ACCEPT, "application/vnd.github+json");
        if let Some(etag) = if_none_match.and_then(|v| header::HeaderValue::from_bytes(v).ok()) {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        let response = request
            .send_traced("proxy")
            .await
            .map_err(|e| transport(e, "call the GitHub API"))?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            return Err(ProviderError::Revoked);
        }
        if status.is_server_error() {
            return Err(ProviderError::unavailable(anyhow!(
                "GitHub answered {status} to a proxied request"
            )));
        }
        let headers = response
            .headers()
            .iter()
            .filter(|(name, _)| PASSED_HEADERS.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let body = http::read_body(response, "a proxied request").await?;
        Ok(ApiAnswer {
            status,
            headers,
            body,
        })
    }

    /// A GET on the REST API; `endpoint` names it in metrics.
    async fn get<T: DeserializeOwned>(
        &self,
        token: &AccessToken,
        endpoint: &'static str,
        path: &str,
        what: &str,
    ) -> Result<T, ProviderError> {
        metrics::provider_call(
            endpoint,
            self.get_untimed(token, path, what),
            ProviderError::outcome_of,
        )
        .await
    }

    async fn get_untimed<T: DeserializeOwned>(
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
            .http()
            .get(url)
            .bearer_auth(token.secret())
            .header(header::ACCEPT, "application/vnd.github+json")
            .send_traced(what)
            .await
            .map_err(|e| transport(e, what))?;
        match response.status() {
            StatusCode::UNAUTHORIZED => Err(ProviderError::Revoked),
            _ if is_rate_limited(&response) => Err(ProviderError::RateLimited(what.to_owned())),
            _ => read_json(response, what).await,
        }
    }
}

#[async_trait]
impl Provider for GitHub {
    fn id(&self) -> &str {
        GITHUB
    }

    fn name(&self) -> &str {
        "GitHub"
    }

    fn authorize_url(&self, request: &AuthorizeRequest<'_>) -> String {
        let mut url = self.endpoint(&self.config.oauth_url, "login/oauth/authorize");
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("scope", &self.config.scopes)
            .append_pair("state", request.state.secret())
            .append_pair("code_challenge", request.code_challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("allow_signup", "true");
        url.into()
    }

    async fn exchange(
        &self,
        code: AuthorizationCode,
        verifier: CodeVerifier,
        _nonce: Option<&Nonce>,
    ) -> Result<SignIn, ProviderError> {
        let tokens = metrics::provider_call(
            "token",
            token_endpoint::request(
                &self.http(),
                self.token_url(),
                self.client_auth(),
                &[
                    ("code", code.secret()),
                    ("redirect_uri", self.config.redirect_uri.as_str()),
                    ("code_verifier", verifier.secret()),
                ],
                self.clock.now(),
                "the token request",
            ),
            ProviderError::outcome_of,
        )
        .await?;
        let profile = match self.profile(&tokens.access).await {
            Ok(profile) => profile,
            Err(ProviderError::Revoked) => {
                let e =
                    ProviderError::Refused("the profile request with a token just issued".into());
                return Err(super::discard(self, &tokens, e).await);
            }
            Err(e) => return Err(super::discard(self, &tokens, e).await),
        };
        Ok(SignIn {
            tokens,
            profile,
            provider_sid: None,
        })
    }

    async fn refresh(
        &self,
        refresh: &RefreshToken,
        _subject: &str,
    ) -> Result<TokenSet, ProviderError> {
        metrics::provider_call(
            "refresh",
            token_endpoint::request(
                &self.http(),
                self.token_url(),
                self.client_auth(),
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.secret()),
                ],
                self.clock.now(),
                "the refresh request",
            ),
            ProviderError::outcome_of,
        )
        .await
    }

    async fn revoke(&self, tokens: &TokenSet) -> Result<(), ProviderError> {
        self.delete_application("token", &tokens.access).await
    }

    async fn revoke_grant(&self, tokens: &TokenSet) -> Result<(), ProviderError> {
        self.delete_application("grant", &tokens.access).await
    }

    fn revokes_whole_grant(&self) -> bool {
        true
    }

    /// GITHUB_ALLOWED_USERS (ids, or logins tied to their first account),
    /// GITHUB_ALLOWED_ORGS (active membership), GITHUB_ALLOWED_TEAMS (`org/team-slug`):
    /// any match lets the person in.
    async fn allows(
        &self,
        access: &AccessToken,
        who: &AllowCheck<'_>,
    ) -> Result<Admission, ProviderError> {
        let allow = &self.config.allow;
        if allow.is_open() {
            return Ok(Admission::Allowed);
        }
        let by_id = allow
            .users
            .iter()
            .any(|u| matches!(u, AllowedUser::Id(id) if id == who.provider_user_id));
        if by_id {
            return Ok(Admission::Allowed);
        }
        if self.member_of(access, &allow.orgs, &allow.teams).await? {
            return Ok(Admission::Allowed);
        }
        let by_login = allow.users.iter().find_map(|u| match u {
            AllowedUser::Login(login) if login.eq_ignore_ascii_case(who.login) => {
                Some(login.clone())
            }
            _ => None,
        });
        Ok(by_login.map_or(Admission::Refused, Admission::ByLogin))
    }

    fn rechecks_access(&self) -> bool {
        !self.config.allow.is_open()
    }
}
