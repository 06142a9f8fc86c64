//! OpenID Connect providers: discovery at start-up, the authorization code flow with
//! PKCE and a nonce, ID tokens checked against the provider's keys, userinfo when the ID
//! token lacks the profile, refresh, revocation (RFC 7009, when offered), RP-initiated
//! logout and back-channel logout tokens.
//!
//! Why written here on `jsonwebtoken` rather than with the `openidconnect` crate (4.0),
//! the well-kept relying-party library: (1) it has no type for Back-Channel Logout
//! tokens, which this product checks (`id_token.rs` shares one checker between the two
//! token kinds); (2) it verifies signatures with the RustCrypto `rsa` crate, which
//! carries an unfixed timing advisory (RUSTSEC-2023-0071), while `jsonwebtoken` uses
//! `ring`, which the TLS stack already brings; (3) it would add a second `base64`, a
//! second `rand`, `chrono`, `serde_with`, `p256`, `p384` and `ed25519-dalek` to a build
//! that runs on two cores. What is hand-written is small and tested against the
//! certified `oidc-provider` (npm) and a hostile test issuer: discovery with the issuer
//! check, the JWKS cache, and the claim checks of Core §3.1.3.7 and Back-Channel Logout
//! §2.6. Revisit if the crate gains logout tokens and a constant-time RSA.

pub mod discovery;
mod id_token;
mod jwks;

use crate::providers::http::SendTraced as _;
use std::time::Duration;

use anyhow::anyhow;
use async_trait::async_trait;
use reqwest::header;
use secrecy::ExposeSecret;
use serde::Deserialize;
use shared::pkce::CodeVerifier;
use url::Url;

use self::discovery::Metadata;
use self::id_token::{Claims, Expected, Kind};
use self::jwks::Jwks;
use super::error::ProviderError;
use super::http::{self, read_json, transport};
use super::provider::{
    Admission, AllowCheck, AuthorizationResponse, AuthorizeRequest, LogoutRequest, Provider, SignIn,
};
use super::token_endpoint::{self, ClientAuth};
use super::{AccessToken, AuthorizationCode, Nonce, RefreshToken, TokenSet};
use crate::clock::Clock;
use crate::config::OidcSettings;
use crate::metrics;
use shared::api::{Profile, User};

/// Userinfo claims (OpenID Connect Core §5.3); `sub` must be the ID token's.
#[derive(Deserialize)]
struct UserInfo {
    sub: String,
    name: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    preferred_username: Option<String>,
    picture: Option<String>,
    profile: Option<String>,
}

pub struct OidcProvider {
    settings: OidcSettings,
    metadata: Metadata,
    jwks: Jwks,
    http: http::Clients,
    clock: Clock,
    redirect_uri: String,
}

impl OidcProvider {
    /// Fetches the discovery document and the signing keys; fails with one line naming
    /// the provider when the issuer is unreachable or its document inconsistent.
    pub async fn discover(
        settings: OidcSettings,
        redirect_uri: String,
        timeout: Duration,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let http = http::Clients::new(timeout, header::HeaderMap::new())?;
        let source = format!("OpenID Connect provider {:?}", settings.id);
        let metadata = discovery::fetch(&http.get(), &settings.issuer, &source).await?;
        let jwks = Jwks::new(metadata.jwks_uri.clone(), clock.clone());
        jwks.fetch(&http.get())
            .await
            .map_err(|e| anyhow!("{source}: its signing keys could not be fetched: {e}"))?;
        tracing::info!(provider = %settings.id, issuer = %settings.issuer, "OpenID Connect provider ready");
        Ok(Self {
            settings,
            metadata,
            jwks,
            http,
            clock,
            redirect_uri,
        })
    }

    fn expected(&self) -> Expected<'_> {
        Expected {
            issuer: &self.metadata.issuer,
            client_id: &self.settings.client_id,
            extra_audiences: &self.settings.extra_audiences,
            jwks: &self.jwks,
            http: self.http.get(),
        }
    }

    fn client_auth(&self) -> ClientAuth<'_> {
        let (id, secret) = (
            self.settings.client_id.as_str(),
            self.settings.client_secret.expose_secret(),
        );
        if self.metadata.secret_in_form() {
            ClientAuth::Form { id, secret }
        } else {
            ClientAuth::Basic { id, secret }
        }
    }

    async fn userinfo(&self, access: &AccessToken) -> Result<Option<UserInfo>, ProviderError> {
        let Some(endpoint) = self.metadata.userinfo_endpoint.clone() else {
            return Ok(None);
        };
        let call = async {
            let response = self
                .http
                .get()
                .get(endpoint)
                .bearer_auth(access.secret())
                .header(header::ACCEPT, "application/json")
                .send_traced("userinfo")
                .await
                .map_err(|e| transport(e, "fetch the userinfo"))?;
            if response.status() == reqwest::StatusCode::UNAUTHORIZED {
                return Err(ProviderError::Revoked);
            }
            read_json::<UserInfo>(response, "the userinfo request").await
        };
        metrics::provider_call("userinfo", call, ProviderError::outcome_of)
            .await
            .map(Some)
    }

    /// Who signed in, from the ID token's claims, completed by userinfo when the ID
    /// token lacks the profile.
    async fn profile(
        &self,
        claims: &Claims,
        access: &AccessToken,
    ) -> Result<Profile, ProviderError> {
        let subject = claims
            .sub
            .clone()
            .ok_or(ProviderError::InvalidToken("no subject"))?;
        let mut profile = User {
            id: 0,
            provider: self.settings.id.to_string(),
            provider_user_id: subject.clone(),
            login: String::new(),
            name: claims.name.clone(),
            email: claims
                .email
                .clone()
                .filter(|_| claims.email_verified != Some(false)),
            avatar_url: claims.picture.clone(),
            profile_url: claims.profile.clone(),
        };
        let mut username = claims.preferred_username.clone();
        if profile.name.is_none() || profile.email.is_none() {
            if let Some(info) = self.userinfo(access).await? {
                if info.sub != subject {
                    return Err(ProviderError::InvalidToken(
                        "userinfo describes another subject",
                    ));
                }
                profile.name = profile.name.or(info.name);
                profile.email = profile
                    .email
                    .or(info.email.filter(|_| info.email_verified != Some(false)));
                profile.avatar_url = profile.avatar_url.or(info.picture);
                profile.profile_url = profile.profile_url.or(info.profile);
                username = username.or(info.preferred_username);
            }
        }
        profile.login = username
            .or_else(|| profile.email.clone())
            .unwrap_or(subject);
        Ok(Profile(profile))
    }

    /// Who the tokens of a code exchange belong to: the ID token checked against the
    /// sign-in's `nonce`, the profile completed by userinfo, and the provider session.
    async fn signed_in(
        &self,
        tokens: &TokenSet,
        nonce: Option<&Nonce>,
    ) -> Result<(Profile, Option<String>), ProviderError> {
        let id_token = tokens.id_token.as_ref().ok_or(ProviderError::InvalidToken(
            "no ID token in the token answer",
        ))?;
        let nonce = nonce.ok_or(ProviderError::InvalidToken("the sign-in had no nonce"))?;
        let claims = id_token::verify(
            id_token.secret(),
            Kind::IdToken { nonce: Some(nonce) },
            &self.expected(),
        )
        .await?;
        let profile = self.profile(&claims, &tokens.access).await?;
        Ok((profile, claims.sid))
    }

    async fn token_request(
        &self,
        params: &[(&str, &str)],
        endpoint: &'static str,
        what: &'static str,
    ) -> Result<TokenSet, ProviderError> {
        metrics::provider_call(
            endpoint,
            token_endpoint::request(
                &self.http.get(),
                self.metadata.token_endpoint.clone(),
                self.client_auth(),
                params,
                self.clock.now(),
                what,
            ),
            ProviderError::outcome_of,
        )
        .await
    }

    /// RFC 7009 revocation of one token, when the provider offers it.
    async fn revoke_one(&self, token: &str, hint: &str) -> Result<(), ProviderError> {
        let Some(endpoint) = self.metadata.revocation_endpoint.clone() else {
            return Ok(());
        };
        let mut request = self.http.get().post(endpoint);
        let mut form = vec![("token", token), ("token_type_hint", hint)];
        match self.client_auth() {
            ClientAuth::Basic { id, secret } => request = request.basic_auth(id, Some(secret)),
            ClientAuth::Form { id, secret } => {
                form.push(("client_id", id));
                form.push(("client_secret", secret));
            }
        }
        let response = request
            .form(&form)
            .send_traced("revoke")
            .await
            .map_err(|e| transport(e, "revoke a token"))?;
        match response.status() {
            s if s.is_success() => Ok(()),
            s if s.is_server_error() => Err(ProviderError::unavailable(anyhow!(
                "the provider answered {s} to a revocation"
            ))),
            s => Err(ProviderError::Refused(format!("the revocation ({s})"))),
        }
    }
}

#[async_trait]
impl Provider for OidcProvider {
    fn id(&self) -> &str {
        self.settings.id.as_str()
    }

    fn name(&self) -> &str {
        &self.settings.name
    }

    fn wants_nonce(&self) -> bool {
        true
    }

    fn issuer(&self) -> Option<&str> {
        Some(&self.metadata.issuer)
    }

    fn authorize_url(&self, request: &AuthorizeRequest<'_>) -> String {
        let mut url = self.metadata.authorization_endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.settings.client_id)
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("scope", &self.settings.scopes)
                .append_pair("state", request.state.secret())
                .append_pair("code_challenge", request.code_challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(nonce) = request.nonce {
                query.append_pair("nonce", nonce.secret());
            }
        }
        url.into()
    }

    /// RFC 9207: when the provider promises `iss` in its authorization responses, it is
    /// required; when present, it must be this provider's issuer.
    fn check_response(&self, response: &AuthorizationResponse) -> Result<(), ProviderError> {
        match response.iss.as_deref() {
            Some(iss) if iss == self.metadata.issuer => Ok(()),
            Some(_) => Err(ProviderError::IssuerMismatch),
            None if self.metadata.authorization_response_iss_parameter_supported => {
                Err(ProviderError::IssuerMismatch)
            }
            None => Ok(()),
        }
    }

    async fn exchange(
        &self,
        code: AuthorizationCode,
        verifier: CodeVerifier,
        nonce: Option<&Nonce>,
    ) -> Result<SignIn, ProviderError> {
        let tokens = self
            .token_request(
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code.secret()),
                    ("redirect_uri", self.redirect_uri.as_str()),
                    ("code_verifier", verifier.secret()),
                ],
                "token",
                "the token request",
            )
            .await?;
        match self.signed_in(&tokens, nonce).await {
            Ok((profile, provider_sid)) => Ok(SignIn {
                tokens,
                profile,
                provider_sid,
            }),
            Err(e) => Err(super::discard(self, &tokens, e).await),
        }
    }

    /// A refresh; a new ID token, when one comes back, must be valid and name the same
    /// person (OpenID Connect Core §12.2), or the new tokens are revoked and refused.
    async fn refresh(
        &self,
        refresh: &RefreshToken,
        subject: &str,
    ) -> Result<TokenSet, ProviderError> {
        let mut tokens = self
            .token_request(
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.secret()),
                ],
                "refresh",
                "the refresh request",
            )
            .await?;
        if let Some(id_token) = &tokens.id_token {
            let checked = id_token::verify(
                id_token.secret(),
                Kind::IdToken { nonce: None },
                &self.expected(),
            )
            .await
            .and_then(|claims| match claims.sub {
                Some(sub) if sub == subject => Ok(()),
                _ => Err(ProviderError::InvalidToken(
                    "a refreshed ID token names another subject",
                )),
            });
            if let Err(e) = checked {
                return Err(super::discard(self, &tokens, e).await);
            }
        }
        // A provider that does not rotate refresh tokens answers without one: the old
        // one stays valid.
        if tokens.refresh.is_none() {
            tokens.refresh = Some(RefreshToken::new(refresh.secret().to_owned()));
        }
        Ok(tokens)
    }

    async fn revoke(&self, tokens: &TokenSet) -> Result<(), ProviderError> {
        if let Some(refresh) = &tokens.refresh {
            self.revoke_one(refresh.secret(), "refresh_token").await?;
        }
        self.revoke_one(tokens.access.secret(), "access_token")
            .await
    }

    fn rechecks_access(&self) -> bool {
        self.metadata.userinfo_endpoint.is_some()
    }

    /// Userinfo, with a token refreshed on the way if it was due: a 401 means the grant
    /// was revoked at the provider, which ends the session.
    async fn still_allowed(
        &self,
        access: &AccessToken,
        who: &AllowCheck<'_>,
    ) -> Result<Admission, ProviderError> {
        let same_person = self
            .userinfo(access)
            .await?
            .is_none_or(|info| info.sub == who.provider_user_id);
        Ok(if same_person {
            Admission::Allowed
        } else {
            Admission::Refused
        })
    }

    async fn verify_logout_token(&self, token: &str) -> Result<LogoutRequest, ProviderError> {
        let claims = id_token::verify(token, Kind::LogoutToken, &self.expected()).await?;
        Ok(LogoutRequest {
            subject: claims.sub,
            sid: claims.sid,
            jti: claims.jti.unwrap_or_default(),
            valid_until: claims.exp.unwrap_or_default() + id_token::LEEWAY_SECS as i64,
        })
    }

    /// RP-Initiated Logout 1.0 §2 with `client_id` rather than `id_token_hint`: the URL
    /// goes through the browser, and an ID token (the person's name, email and session
    /// id, signed) has no business there. The provider asks the person to confirm, which
    /// a hint would let it skip.
    fn logout_url(&self, _tokens: &TokenSet, post_logout_redirect: &str) -> Option<Url> {
        let mut url = self.metadata.end_session_endpoint.clone()?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("post_logout_redirect_uri", post_logout_redirect);
        Some(url)
    }
}
