//! Request and response bodies of the BFF's JSON API (see DESIGN.md, "JSON API").

use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;
use crate::pkce::CodeVerifier;

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
pub struct ProviderInfo {
    pub id: String,
    pub name: String,
}

/// `GET /api/auth/providers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvidersResponse {
    pub providers: Vec<ProviderInfo>,
    /// True when the BFF talks to its embedded GitHub emulator, not github.com.
    pub dev_mode: bool,
}

/// `POST /api/auth/login`. The browser made the verifier; the BFF keeps it for the exchange.
#[derive(Debug, Serialize, Deserialize)]
pub struct LoginRequest {
    pub provider: String,
    pub code_verifier: CodeVerifier,
    pub code_challenge: String,
    pub code_challenge_method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
}

/// Answer to `POST /api/auth/login`: where the browser navigates next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub authorize_url: String,
}

/// `POST /api/auth/callback`: either `code` or `error` is set, `state` always is.
///
/// Kept as one struct with optional fields (not an untagged enum) so a malformed body
/// gets a precise `invalid_request` message instead of serde's "did not match any variant".
#[derive(Default, Serialize, Deserialize)]
pub struct CallbackRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
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
pub struct CallbackResponse {
    pub user: User,
    pub return_to: String,
}

/// A signed-in person as this product knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// One repository of the signed-in user (`GET /api/me/repos`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Every error body: a machine code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorCode,
    pub message: String,
}
