//! Checking ID tokens and logout tokens (OpenID Connect Core §3.1.3.7, Back-Channel
//! Logout 1.0 §2.6) with the `jsonwebtoken` crate: signature by a key of the provider's
//! JWKS (RS256, ES256 or EdDSA only: `none` and HMAC are refused before any key is
//! looked at), issuer, audience (and `azp`), expiry and issue time with a minute of
//! leeway, then what the kind of token needs: the sign-in's `nonce` for an ID token;
//! the back-channel logout event, no `nonce`, a `jti`, and `sub` or `sid` for a logout
//! token.

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use reqwest::Client;
use serde::Deserialize;

use super::jwks::Jwks;
use crate::providers::error::ProviderError;
use crate::providers::Nonce;

/// Clock difference tolerated on `exp` and `iat`.
pub const LEEWAY_SECS: u64 = 60;
/// A logout token issued longer ago than this is refused, whatever its `exp`: it is sent
/// the moment the person signs out, so an old one can only be a replay.
pub const MAX_LOGOUT_TOKEN_AGE_SECS: i64 = 600;
/// `typ` values a logout token may carry (Back-Channel Logout 1.0 §2.4 asks for
/// `logout+jwt`; plain `JWT` is what providers that predate it send).
const LOGOUT_TYPES: [&str; 3] = ["logout+jwt", "application/logout+jwt", "jwt"];
/// The event a logout token carries.
const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// `aud` is a string or a list of strings.
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, id: &str) -> bool {
        match self {
            Self::One(a) => a == id,
            Self::Many(list) => list.iter().any(|a| a == id),
        }
    }

    fn is_many(&self) -> bool {
        matches!(self, Self::Many(list) if list.len() > 1)
    }

    /// True when every audience is `id` or one of `also`.
    fn only(&self, id: &str, also: &[String]) -> bool {
        let fine = |a: &String| a == id || also.contains(a);
        match self {
            Self::One(a) => fine(a),
            Self::Many(list) => list.iter().all(fine),
        }
    }
}

/// The claims the BFF reads.
#[derive(Deserialize, Debug, Clone)]
pub struct Claims {
    pub sub: Option<String>,
    aud: Audience,
    iat: Option<i64>,
    #[serde(default)]
    pub exp: Option<i64>,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    pub sid: Option<String>,
    #[serde(default)]
    pub jti: Option<String>,
    #[serde(default)]
    events: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub preferred_username: Option<String>,
    #[serde(default)]
    pub picture: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
}

/// What is being checked.
pub enum Kind<'a> {
    /// An ID token from the token endpoint: `nonce` is the pending sign-in's, `None`
    /// after a refresh (a refreshed ID token carries no nonce).
    IdToken { nonce: Option<&'a Nonce> },
    /// A back-channel logout token.
    LogoutToken,
}

/// Who must have signed the token, and for whom.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// Audiences besides `client_id` the tokens may name (configured); any other is
    /// refused: a token meant for several parties is not a token meant for us alone.
    pub extra_audiences: &'a [String],
    pub jwks: &'a Jwks,
    pub http: Client,
}

fn refused(why: &'static str) -> ProviderError {
    ProviderError::InvalidToken(why)
}

/// Checks `token` as `kind` and returns its claims.
pub async fn verify(
    token: &str,
    kind: Kind<'_>,
    expected: &Expected<'_>,
) -> Result<Claims, ProviderError> {
    let header = decode_header(token).map_err(|_| refused("malformed or unsupported header"))?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA
    ) {
        return Err(refused("signing algorithm not allowed"));
    }
    let jwk = expected
        .jwks
        .key(&expected.http, header.kid.as_deref())
        .await?
        .ok_or_else(|| refused("signed by an unknown key"))?;
    if matches!(
        jwk.common.public_key_use,
        Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
    ) {
        return Err(refused("the key is for encryption, not signatures"));
    }
    if jwk
        .common
        .key_algorithm
        .is_some_and(|alg| format!("{alg:?}") != format!("{:?}", header.alg))
    {
        return Err(refused("the key is for another algorithm"));
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| refused("unusable signing key"))?;
    let mut validation = Validation::new(header.alg);
    validation.leeway = LEEWAY_SECS;
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.client_id]);
    if matches!(kind, Kind::LogoutToken)
        && header
            .typ
            .as_deref()
            .is_some_and(|typ| !LOGOUT_TYPES.iter().any(|t| t.eq_ignore_ascii_case(typ)))
    {
        return Err(refused("typ is not a logout token's"));
    }
    let required: &[&str] = match kind {
        Kind::IdToken { .. } => &["iss", "aud", "exp", "sub"],
        Kind::LogoutToken => &["iss", "aud", "exp"],
    };
    validation.set_required_spec_claims(required);
    let claims = decode::<Claims>(token, &key, &validation)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            refused(match e.kind() {
                ErrorKind::InvalidSignature => "bad signature",
                ErrorKind::ExpiredSignature => "expired",
                ErrorKind::InvalidIssuer => "wrong issuer",
                ErrorKind::InvalidAudience => "wrong audience",
                ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
                ErrorKind::InvalidAlgorithm => "the key does not fit the algorithm",
                _ => "unreadable claims",
            })
        })?
        .claims;
    // Judged on the wall clock, as the provider that issued it judges it (the validity
    // window was checked the same way above).
    let now = crate::clock::Clock::default().now();
    match claims.iat {
        Some(iat) if iat <= now + LEEWAY_SECS as i64 => {}
        Some(_) => return Err(refused("issued in the future")),
        None => return Err(refused("no issue time")),
    }
    if claims.aud.is_many() && claims.azp.is_none() {
        return Err(refused("several audiences and no azp"));
    }
    if claims
        .azp
        .as_deref()
        .is_some_and(|azp| azp != expected.client_id)
    {
        return Err(refused("authorized party is another client"));
    }
    if !claims
        .aud
        .only(expected.client_id, expected.extra_audiences)
    {
        return Err(refused(
            "an audience besides this client that is not configured",
        ));
    }
    debug_assert!(claims.aud.contains(expected.client_id));
    match kind {
        Kind::IdToken {
            nonce: Some(expected_nonce),
        } => match claims.nonce.as_deref() {
            Some(nonce) if shared::constant_time_eq(nonce, expected_nonce.secret()) => {}
            _ => return Err(refused("wrong nonce")),
        },
        Kind::IdToken { nonce: None } => {}
        Kind::LogoutToken => {
            if claims.nonce.is_some() {
                return Err(refused("a logout token carries a nonce"));
            }
            if !claims
                .events
                .as_ref()
                .and_then(|events| events.get(BACKCHANNEL_LOGOUT_EVENT))
                .is_some_and(serde_json::Value::is_object)
            {
                return Err(refused("not a back-channel logout event"));
            }
            if claims
                .iat
                .is_some_and(|iat| now - iat > MAX_LOGOUT_TOKEN_AGE_SECS + LEEWAY_SECS as i64)
            {
                return Err(refused("issued too long ago"));
            }
            if claims.jti.as_deref().is_none_or(str::is_empty) {
                return Err(refused("no jti"));
            }
            if claims.sub.is_none() && claims.sid.is_none() {
                return Err(refused("neither sub nor sid"));
            }
        }
    }
    Ok(claims)
}
