//! The one trait every identity provider implements, and the registry of the configured
//! ones. Handlers name a provider only by the id a pending sign-in or a session
//! remembers; they never branch on which kind it is.

use std::sync::Arc;

use async_trait::async_trait;
use shared::pkce::CodeVerifier;
use url::Url;

use super::{
    AccessToken, AuthorizationCode, CsrfToken, Nonce, ProviderError, RefreshToken, TokenSet,
};
use shared::api::Profile;

/// A revocation waits at most this long for the provider: whatever ends here ends
/// whether or not the provider answers.
pub const REVOKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// A sign-in that failed after the provider issued tokens (an ID token refused, a profile
/// that could not be read): the tokens are revoked, waiting at most [`REVOKE_TIMEOUT`],
/// so no live credential is left behind. Returns `error`.
pub async fn discard<P: Provider + ?Sized>(
    provider: &P,
    tokens: &TokenSet,
    error: ProviderError,
) -> ProviderError {
    match tokio::time::timeout(REVOKE_TIMEOUT, provider.revoke(tokens)).await {
        Ok(Ok(())) => tracing::info!("tokens of a failed sign-in revoked"),
        _ => tracing::warn!("could not revoke the tokens of a failed sign-in"),
    }
    error
}

/// What the browser is sent to the provider with.
pub struct AuthorizeRequest<'a> {
    pub state: &'a CsrfToken,
    pub code_challenge: &'a str,
    /// OpenID Connect `nonce`, when the provider issues ID tokens.
    pub nonce: Option<&'a Nonce>,
}

/// A finished sign-in: the tokens and who they belong to.
#[derive(Debug)]
pub struct SignIn {
    pub tokens: TokenSet,
    pub profile: Profile,
    /// The provider's session id (OIDC `sid`), for back-channel logout.
    pub provider_sid: Option<String>,
}

/// What the authorization response carried besides the code (RFC 9207 `iss`).
#[derive(Default)]
pub struct AuthorizationResponse {
    pub iss: Option<String>,
}

#[async_trait]
pub trait Provider: Send + Sync {
    /// The id in the API (`"github"`, or an OIDC provider's configured id).
    fn id(&self) -> &str;
    /// The button label: "Sign in with {name}".
    fn name(&self) -> &str;
    /// True when the provider issues ID tokens, so a pending sign-in needs a nonce.
    fn wants_nonce(&self) -> bool {
        false
    }
    /// The URL the browser is sent to (RFC 6749 §4.1.1 with RFC 7636 §4.3).
    fn authorize_url(&self, request: &AuthorizeRequest<'_>) -> String;
    /// The issuer identifier it signs as and sends back in `iss` (RFC 9207), if any.
    fn issuer(&self) -> Option<&str> {
        None
    }
    /// Checks what came back with the code before the code is used (RFC 9207 `iss`).
    fn check_response(&self, _response: &AuthorizationResponse) -> Result<(), ProviderError> {
        Ok(())
    }
    /// Exchanges the code (with the client secret and the PKCE verifier) and learns who
    /// signed in.
    async fn exchange(
        &self,
        code: AuthorizationCode,
        verifier: CodeVerifier,
        nonce: Option<&Nonce>,
    ) -> Result<SignIn, ProviderError>;
    /// Uses a refresh token (single use at GitHub: it dies with the call) of the person
    /// the provider knows as `subject`. [`ProviderError::InvalidToken`] means what came
    /// back cannot be believed (a new ID token for someone else): the session must end.
    async fn refresh(
        &self,
        refresh: &RefreshToken,
        subject: &str,
    ) -> Result<TokenSet, ProviderError>;
    /// Revokes this session's tokens (sign-out).
    async fn revoke(&self, tokens: &TokenSet) -> Result<(), ProviderError>;
    /// Revokes the person's whole grant to this app (sign out everywhere). Providers
    /// without such an endpoint revoke the tokens they were given.
    async fn revoke_grant(&self, tokens: &TokenSet) -> Result<(), ProviderError> {
        self.revoke(tokens).await
    }
    /// True when [`Provider::revoke_grant`] kills every token of the person (GitHub);
    /// otherwise each session's tokens must be revoked one by one.
    fn revokes_whole_grant(&self) -> bool {
        false
    }
    /// Where the browser goes to end its session at the provider as well
    /// (OpenID Connect RP-initiated logout), if the provider offers it.
    fn logout_url(&self, _tokens: &TokenSet, _post_logout_redirect: &str) -> Option<Url> {
        None
    }

    /// Whether this person may have a session (an allow-list), asked with their token.
    async fn allows(
        &self,
        _access: &AccessToken,
        _who: &AllowCheck<'_>,
    ) -> Result<Admission, ProviderError> {
        Ok(Admission::Allowed)
    }

    /// True when [`Provider::still_allowed`] must be asked while a session is used.
    fn rechecks_access(&self) -> bool {
        false
    }

    /// Whether a signed-in person may keep their session, asked with their (refreshed
    /// if need be) token every `MEMBERSHIP_RECHECK_SECS`. [`ProviderError::Revoked`]
    /// means the grant is gone.
    async fn still_allowed(
        &self,
        access: &AccessToken,
        who: &AllowCheck<'_>,
    ) -> Result<Admission, ProviderError> {
        self.allows(access, who).await
    }

    /// Checks an OpenID Connect back-channel logout token; providers without
    /// back-channel logout refuse every token.
    async fn verify_logout_token(&self, _token: &str) -> Result<LogoutRequest, ProviderError> {
        Err(ProviderError::Refused(
            "back-channel logout (not offered)".into(),
        ))
    }
}

/// A provider's answer to "may this person have a session?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    Refused,
    /// Allowed only by the allow-list's login entry `login` (lower case): the caller lets
    /// the person in only if that login is tied to them, i.e. they are the first account
    /// seen with it (a login can change hands after a rename).
    ByLogin(String),
}

/// Who is asking in for [`Provider::allows`].
pub struct AllowCheck<'a> {
    pub login: &'a str,
    pub provider_user_id: &'a str,
}

/// What a verified back-channel logout token says to end.
#[derive(Debug)]
pub struct LogoutRequest {
    pub subject: Option<String>,
    pub sid: Option<String>,
    pub jti: String,
    /// When the token stops verifying (its `exp` plus the leeway): its `jti` must be
    /// remembered until then, and no longer needs to be after.
    pub valid_until: i64,
}

/// The configured providers, in the order the sign-in page shows them.
#[derive(Clone, Default)]
pub struct Providers {
    list: Vec<Arc<dyn Provider>>,
}

impl Providers {
    pub fn new(list: Vec<Arc<dyn Provider>>) -> Self {
        Self { list }
    }

    pub fn get(&self, id: &str) -> Option<&Arc<dyn Provider>> {
        self.list.iter().find(|p| p.id() == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.list.iter()
    }

    /// The mix-up defence on an authorization response for a sign-in started with
    /// `provider`: the provider's own check, and an `iss` naming any other configured
    /// provider refused even when `provider` itself (GitHub) sends no `iss`.
    pub fn check_response(
        &self,
        provider: &dyn Provider,
        response: &AuthorizationResponse,
    ) -> Result<(), ProviderError> {
        if let Some(iss) = response.iss.as_deref() {
            let another = self
                .list
                .iter()
                .any(|p| p.id() != provider.id() && p.issuer() == Some(iss));
            if another {
                return Err(ProviderError::IssuerMismatch);
            }
        }
        provider.check_response(response)
    }
}
