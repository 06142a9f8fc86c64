//! Identity tokens: what an upstream API receives to know who is calling, verifiable
//! offline. A JWT the BFF signs with its identity key (EdDSA) per session and audience:
//!
//! - `iss` = the public URL, `aud` = the API's audience;
//! - `sub` = the person as `provider:subject` (stable across renames and never the local
//!   row number, which differs between deployments), `sid` = the session's public id
//!   (the id the devices list shows), `provider`, `login`, `name`, and `email` (only ever
//!   a verified one) with `email_verified`;
//! - `iat`, `exp` five minutes later, a fresh `jti`.
//!
//! A token is reused for its session and audience until a minute before it expires, so a
//! busy session costs one signature every four minutes, not one per request. The price of
//! verifying offline: an upstream that holds a token may accept it for up to five
//! minutes after the session ended (a BFF-proxied request after that is refused by the
//! BFF itself).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::clock::Clock;
use crate::crypto::{random_base64url, SigningKeys};
use crate::session::{person_of, Session, SessionKey};

/// How long an identity token is valid.
pub const LIFETIME_SECS: i64 = 300;
/// A cached token is replaced this long before it expires, so an upstream never receives
/// one about to lapse in flight.
const RENEW_BEFORE_SECS: i64 = 60;
/// Cached tokens kept at most; past it, expired ones are dropped (and all, if none are).
const MAX_CACHED: usize = 50_000;

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: String,
    sid: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    provider: &'a str,
    login: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
}

#[derive(Clone)]
struct Cached {
    token: Arc<str>,
    expires_at: i64,
}

/// Signs and caches identity tokens.
pub struct IdentityTokens {
    keys: SigningKeys,
    /// The JWK Set, rendered once.
    jwks: String,
    issuer: String,
    clock: Clock,
    cache: Mutex<HashMap<(SessionKey, Arc<str>), Cached>>,
}

impl IdentityTokens {
    /// `issuer` is the public URL (without a trailing slash).
    pub fn new(keys: SigningKeys, issuer: String, clock: Clock) -> Self {
        Self {
            jwks: keys.jwks().to_string(),
            keys,
            issuer,
            clock,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// `/.well-known/jwks.json`.
    pub fn jwks(&self) -> &str {
        &self.jwks
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// A token naming `session`'s person for `audience`: the cached one while it has
    /// more than a minute left, otherwise a fresh one. `None` for a session without a
    /// person (a pre-auth session has no identity to give).
    pub fn token_for(&self, session: &Session, audience: &Arc<str>) -> Option<Arc<str>> {
        let user = session.user()?;
        let now = self.clock.now();
        let key = (session.key, audience.clone());
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cached) = cache.get(&key) {
            if cached.expires_at - RENEW_BEFORE_SECS > now {
                return Some(cached.token.clone());
            }
        }
        let exp = now + LIFETIME_SECS;
        let token: Arc<str> = Arc::from(self.keys.sign(&Claims {
            iss: &self.issuer,
            aud: audience,
            sub: person_of(user),
            sid: &session.public_id,
            iat: now,
            exp,
            jti: random_base64url(16),
            provider: &user.provider,
            login: &user.login,
            name: user.name.as_deref(),
            email: user.email.as_deref(),
            email_verified: user.email.as_ref().map(|_| true),
        }));
        if cache.len() >= MAX_CACHED {
            cache.retain(|_, c| c.expires_at > now);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(
            key,
            Cached {
                token: token.clone(),
                expires_at: exp,
            },
        );
        Some(token)
    }

    /// Drops expired tokens (the sweep calls it), so ended sessions' tokens do not stay
    /// in memory.
    pub fn forget_expired(&self) {
        let now = self.clock.now();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|_, c| c.expires_at > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionData;
    use jsonwebtoken::{decode, jwk::JwkSet, Algorithm, DecodingKey, Validation};
    use shared::api::User;
    use std::time::Duration;

    fn session(key: u8) -> Session {
        let user = User {
            id: 7,
            provider: "github".into(),
            provider_user_id: "583231".into(),
            login: "octocat".into(),
            name: Some("The Octocat".into()),
            email: Some("octocat@github.com".into()),
            avatar_url: None,
            profile_url: None,
        };
        Session {
            key: SessionKey([key; 32]),
            public_id: Arc::from("pub-id"),
            data: Arc::new(SessionData {
                user: Some(user),
                ..SessionData::default()
            }),
            version: 1,
            created_at: 0,
            last_seen: 0,
            expires_at: i64::MAX,
        }
    }

    fn verify(tokens: &IdentityTokens, token: &str, audience: &str) -> serde_json::Value {
        let set: JwkSet = serde_json::from_str(tokens.jwks()).unwrap();
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let key = DecodingKey::from_jwk(set.find(&kid).unwrap()).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[audience]);
        validation.set_issuer(&["https://bff.example.com"]);
        validation.validate_exp = false;
        decode::<serde_json::Value>(token, &key, &validation)
            .unwrap()
            .claims
    }

    fn tokens(clock: &Clock) -> IdentityTokens {
        IdentityTokens::new(
            SigningKeys::parse(&SigningKeys::generate_key()).unwrap(),
            "https://bff.example.com".into(),
            clock.clone(),
        )
    }

    #[test]
    fn the_token_names_the_person_and_the_session_for_one_audience() {
        let clock = Clock::default();
        let tokens = tokens(&clock);
        let audience: Arc<str> = Arc::from("https://bff.example.com/api/notes");
        let token = tokens.token_for(&session(1), &audience).unwrap();
        let claims = verify(&tokens, &token, &audience);
        assert_eq!(claims["sub"], "github:583231");
        assert_eq!(claims["sid"], "pub-id");
        assert_eq!(claims["login"], "octocat");
        assert_eq!(claims["provider"], "github");
        assert_eq!(claims["email"], "octocat@github.com");
        assert_eq!(claims["email_verified"], true);
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            LIFETIME_SECS
        );
        assert!(claims.get("id").is_none(), "never the local row number");
    }

    #[test]
    fn a_token_is_reused_until_a_minute_before_it_expires() {
        let clock = Clock::default();
        let tokens = tokens(&clock);
        let audience: Arc<str> = Arc::from("aud");
        let first = tokens.token_for(&session(1), &audience).unwrap();
        clock.advance(Duration::from_secs(200));
        assert_eq!(tokens.token_for(&session(1), &audience).unwrap(), first);
        let other_session = tokens.token_for(&session(2), &audience).unwrap();
        assert_ne!(other_session, first);
        let other_audience = tokens.token_for(&session(1), &Arc::from("other")).unwrap();
        assert_ne!(other_audience, first);
        clock.advance(Duration::from_secs(41));
        assert_ne!(tokens.token_for(&session(1), &audience).unwrap(), first);
    }
}
