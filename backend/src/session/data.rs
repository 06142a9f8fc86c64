//! What a session holds: pending sign-ins before, the person and their sealed provider
//! tokens after. Serialized as JSON into the store's `data` field.

use serde::{Deserialize, Serialize};
use shared::api::User;
use shared::return_to::ReturnTo;

/// A sign-in started with `POST /api/auth/login` and not yet finished.
#[derive(Serialize, Deserialize, Clone)]
pub struct PendingLogin {
    pub state: String,
    /// The PKCE verifier, sealed and bound to this session and this state.
    pub sealed_verifier: String,
    /// Which configured provider the sign-in went to. The callback uses this, never
    /// anything the request claims (mix-up defence, RFC 9700 §4.4).
    pub provider: String,
    /// OpenID Connect `nonce`, for providers that issue ID tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Checked again when read back ([`ReturnTo`] deserializes through the rule).
    pub return_to: ReturnTo,
    pub created_at: i64,
}

/// The provider tokens of a signed-in session, each sealed and bound to the session.
#[derive(Serialize, Deserialize, Clone, Default, PartialEq, Eq)]
pub struct StoredTokens {
    pub access: String,
    /// Unix seconds; `None` for tokens that do not expire (classic OAuth Apps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_at: Option<i64>,
    /// Bumped by every refresh: a refresh writes its successor only over the tokens it
    /// started from (the fence against a second writer).
    #[serde(default)]
    pub generation: u64,
}

/// Everything a session holds.
#[derive(Serialize, Deserialize, Default, Clone)]
pub struct SessionData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<StoredTokens>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingLogin>,
    /// "Chrome on Linux": made once at sign-in from the User-Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The provider's session id (OIDC `sid`), for back-channel logout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_sid: Option<String>,
    /// When an allow-list membership was last confirmed (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership_checked_at: Option<i64>,
    /// `user` as the JSON `GET /api/me` answers, made on first use and then shared by
    /// every request served from the read cache (never stored).
    #[serde(skip)]
    pub user_json: UserJson,
}

/// The serialised person of a session. A copy of the data starts empty (a copy is made
/// to be changed, and the person may change with it), so a stale answer cannot outlive
/// the data it was made from.
#[derive(Default)]
pub struct UserJson(std::sync::OnceLock<bytes::Bytes>);

impl Clone for UserJson {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl SessionData {
    /// The person as JSON bytes (`null` for a pre-auth session), serialised once.
    pub fn user_json(&self) -> bytes::Bytes {
        self.user_json
            .0
            .get_or_init(|| {
                serde_json::to_vec(&self.user)
                    .map(bytes::Bytes::from)
                    .unwrap_or_else(|_| bytes::Bytes::from_static(b"null"))
            })
            .clone()
    }
}

impl std::fmt::Debug for SessionData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionData")
            .field("user", &self.user.as_ref().map(|u| u.id))
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(login: &str) -> User {
        User {
            id: 7,
            provider: "github".into(),
            provider_user_id: "583231".into(),
            login: login.into(),
            name: None,
            email: None,
            avatar_url: None,
            profile_url: None,
        }
    }

    #[test]
    fn the_json_is_made_once_and_a_changed_copy_never_answers_the_old_person() {
        let data = SessionData {
            user: Some(person("octocat")),
            ..SessionData::default()
        };
        let first = data.user_json();
        assert_eq!(first, serde_json::to_vec(&data.user).unwrap());
        assert_eq!(first.as_ptr(), data.user_json().as_ptr(), "made once");
        let mut changed = data.clone();
        changed.user = Some(person("monalisa"));
        let json: serde_json::Value = serde_json::from_slice(&changed.user_json()).unwrap();
        assert_eq!(json["login"], "monalisa");
        assert_eq!(&SessionData::default().user_json()[..], b"null");
    }
}
