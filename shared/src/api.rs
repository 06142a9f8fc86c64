//! Request and response bodies of the BFF's JSON API (see DESIGN.md, "JSON API").

use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;
use crate::pkce::CodeVerifier;
use crate::return_to::ReturnTo;

/// The provider id of GitHub, the only provider today.
pub const GITHUB: &str = "github";

/// Header every request with an unsafe method must carry (with value `1`).
pub const CSRF_HEADER: &str = "x-csrf";

/// The session cookie's name. `__Host-` makes browsers insist on Secure, Path=/ and no
/// Domain, so a sibling subdomain cannot plant or overwrite it; `__Host-Http-` (RFC 10017
/// §6.1.3.2) also makes them refuse it from anything but an HTTP response, so script on
/// the page cannot set it either. Browsers that do not know the longer prefix still apply
/// the `__Host-` rules, since the name starts with it.
pub const SESSION_COOKIE: &str = "__Host-Http-session";

/// One sign-in option shown on the home page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderInfo {
    pub id: String,
    pub name: String,
}

/// The id of the JSON data block of `index.html` that carries `GET /api/auth/providers`'s
/// answer, so the sign-in page needs no request before it shows its buttons.
pub const PROVIDERS_ELEMENT_ID: &str = "providers";

/// `GET /api/auth/providers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvidersResponse {
    pub providers: Vec<ProviderInfo>,
    /// True when the BFF talks to its embedded GitHub emulator, not github.com.
    pub dev_mode: bool,
    /// The prefixes of the APIs behind the BFF (`[[api]]` upstreams and local handlers),
    /// so the SPA calls only what this deployment has.
    #[serde(default)]
    pub apis: Vec<String>,
}

/// `POST /api/auth/login`. The browser made the verifier; the BFF keeps it for the exchange.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub provider: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code_verifier: CodeVerifier,
    pub code_challenge: String,
    pub code_challenge_method: String,
    /// Where to go after sign-in; anything but a same-origin path becomes `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub return_to: Option<ReturnTo>,
}

/// Answer to `POST /api/auth/login`: where the browser navigates next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    pub authorize_url: String,
}

/// `POST /api/auth/callback`: either `code` or `error` is set, `state` always is.
///
/// Kept as one struct with optional fields (not an untagged enum) so a malformed body
/// gets a precise `invalid_request` message instead of serde's "did not match any variant".
#[derive(Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallbackRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// RFC 9207: the issuer of the authorization response, passed through as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
}

impl std::fmt::Debug for CallbackRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The code is a credential for ten minutes: never print it.
        f.debug_struct("CallbackRequest")
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("state", &self.state.as_ref().map(|_| "[redacted]"))
            .field("error", &self.error)
            .finish()
    }
}

/// Answer to a successful `POST /api/auth/callback`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallbackResponse {
    pub user: User,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub return_to: ReturnTo,
}

/// A signed-in person as this product knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// This product's own stable id.
    pub id: i64,
    pub provider: String,
    /// The provider's stable numeric id, as a string (never the login, which can change).
    pub provider_user_id: String,
    pub login: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
}

/// What a provider says about the person who signed in: a [`User`] before this product
/// gave them an id (its `id` is 0 until [`Profile::with_id`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile(pub User);

impl Profile {
    /// The person, with the id this product keeps for them.
    pub fn with_id(self, id: i64) -> User {
        User { id, ..self.0 }
    }
}

impl std::ops::Deref for Profile {
    type Target = User;

    fn deref(&self) -> &User {
        &self.0
    }
}

/// One repository of the signed-in user (`GET /api/me/repos`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Repo {
    pub id: i64,
    pub name: String,
    pub full_name: String,
    pub html_url: String,
    pub description: Option<String>,
    pub private: bool,
    pub stargazers_count: i64,
    pub updated_at: Option<String>,
}

/// `GET /api/auth/session`: the start-up check. Never 401: `user` is `None` when nobody
/// is signed in (so a signed-out visit logs no failed request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionStatus {
    pub user: Option<User>,
}

/// `POST /api/auth/logout`: `{}` signs this session out; `{"everywhere": true}` every
/// session of the person, and revokes the whole grant at the provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogoutRequest {
    #[serde(default)]
    pub everywhere: bool,
}

/// `POST /api/auth/logout` answered 200 (instead of 204) when the provider also ends its
/// own session (OpenID Connect RP-initiated logout): the SPA goes there next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogoutResponse {
    pub logout_url: String,
}

/// One session of the signed-in person (`GET /api/me/sessions`). Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceSession {
    /// A public id, unrelated to the cookie; `DELETE /api/me/sessions/{id}` takes it.
    pub id: String,
    /// "Chrome on Linux", made at sign-in from the User-Agent.
    pub device: String,
    pub signed_in_at: i64,
    /// To the minute.
    pub last_seen_at: i64,
    /// The session making this request.
    pub current: bool,
}

/// What an audit event records (a closed set: the SPA has a sentence for each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    SignInSucceeded,
    /// `reason` is the error code.
    SignInFailed,
    /// `reason` is a [`SignOutReason`].
    SignedOut,
    /// The person ended another of their sessions from the devices list; `session_id`
    /// names the one they ended.
    SessionEnded,
    /// A write without the CSRF header, a JSON type or our origin was refused.
    CsrfRefused,
    RateLimited,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignOutReason {
    /// "Sign out" in this session.
    #[serde(rename = "self")]
    ItSelf,
    /// "Sign out everywhere".
    Everywhere,
    /// Ended from another of the person's sessions.
    FromAnotherDevice,
    /// Idle or absolute lifetime reached.
    Expired,
    /// The provider no longer honours the grant (revoked on GitHub, webhook).
    RevokedAtProvider,
    /// The provider refused to renew the sign-in.
    RenewalRefused,
    /// The identity provider ended the session (OpenID Connect back-channel logout).
    ProviderLogout,
    /// The person no longer passes the allow-list (removed from the organisation).
    NotAllowed,
    /// The allow-list could not be checked again for too long (the provider kept
    /// failing): access is not assumed.
    AccessUnconfirmed,
    /// The person signed in as someone else in the same browser.
    SwitchedAccount,
    /// The person has more sessions than allowed: the oldest ends.
    TooManySessions,
}

impl SignOutReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ItSelf => "self",
            Self::Everywhere => "everywhere",
            Self::FromAnotherDevice => "from_another_device",
            Self::Expired => "expired",
            Self::RevokedAtProvider => "revoked_at_provider",
            Self::RenewalRefused => "renewal_refused",
            Self::ProviderLogout => "provider_logout",
            Self::NotAllowed => "not_allowed",
            Self::AccessUnconfirmed => "access_unconfirmed",
            Self::SwitchedAccount => "switched_account",
            Self::TooManySessions => "too_many_sessions",
        }
    }
}

/// One security event of the signed-in person (`GET /api/me/activity`), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    /// Unix seconds.
    pub at: i64,
    pub kind: AuditKind,
    /// An error code or a [`SignOutReason`], by kind.
    pub reason: Option<String>,
    /// The public id of the session concerned.
    pub session_id: Option<String>,
    pub device: Option<String>,
    pub client_ip: Option<String>,
}

/// Every error body: a machine code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorCode,
    pub message: String,
}
