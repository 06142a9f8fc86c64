//! Identity keys: the Ed25519 keys the BFF signs identity tokens with, for the upstream
//! APIs it fronts. Like `TOKEN_KEYS`, a ring: the first key signs, and every key is
//! published at `/.well-known/jwks.json`, so an upstream can verify offline and keys
//! rotate without a failed request (add the new key second, so it is published before
//! it signs; move it first once upstreams refreshed their copy of the key set; drop the
//! old one once the tokens it signed expired, five minutes later).
//!
//! EdDSA because it is asymmetric (an upstream that can verify cannot sign), fast, has
//! no parameters to get wrong, and every JWT library of note verifies it.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigningKeyError {
    #[error("IDENTITY_KEYS: key {0} is not base64")]
    NotBase64(usize),
    #[error("IDENTITY_KEYS: key {0} is not an Ed25519 private key in PKCS#8 DER")]
    NotEd25519(usize),
    #[error("IDENTITY_KEYS: no key given")]
    Empty,
}

struct SigningKey {
    /// RFC 7638 thumbprint of the public key: stable, and names the key without a
    /// registry of ids.
    kid: String,
    /// The public key, base64url (the JWK's `x`).
    x: String,
    encoding: EncodingKey,
}

/// The identity keys. `Debug` shows only key ids.
pub struct SigningKeys {
    keys: Vec<SigningKey>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| &k.kid))
            .finish()
    }
}

impl SigningKeys {
    /// Parses `IDENTITY_KEYS`: comma-separated base64 Ed25519 private keys in PKCS#8 DER
    /// (`openssl genpkey -algorithm ed25519 -outform DER | base64 -w0`).
    pub fn parse(value: &str) -> Result<Self, SigningKeyError> {
        let mut keys = Vec::new();
        for (n, der) in super::base64_keys(value) {
            let der = der.map_err(|()| SigningKeyError::NotBase64(n))?;
            let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                .map_err(|_| SigningKeyError::NotEd25519(n))?;
            let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
            keys.push(SigningKey {
                kid: thumbprint(&x),
                x,
                encoding: EncodingKey::from_ed_der(&der),
            });
        }
        if keys.is_empty() {
            return Err(SigningKeyError::Empty);
        }
        Ok(Self { keys })
    }

    /// A fresh key, base64 PKCS#8, for key files and tests.
    pub fn generate_key() -> String {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 =
            Ed25519KeyPair::generate_pkcs8(&rng).expect("the OS random number generator failed");
        STANDARD.encode(pkcs8.as_ref())
    }

    /// `claims` as a compact JWT (`alg: EdDSA`, `typ: JWT`), signed by the first key.
    pub fn sign<T: Serialize>(&self, claims: &T) -> String {
        let key = &self.keys[0];
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding)
            .expect("signing serialisable claims with a parsed key cannot fail")
    }

    /// The JWK Set of every key (RFC 7517, RFC 8037 for `OKP`).
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": self.keys.iter().map(|k| serde_json::json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": k.x,
                "kid": k.kid,
                "alg": "EdDSA",
                "use": "sig",
            })).collect::<Vec<_>>()
        })
    }

    /// The id of the key that signs.
    pub fn signing_kid(&self) -> &str {
        &self.keys[0].kid
    }
}

/// RFC 7638 §3.2: SHA-256 over the required members in lexicographic order, base64url.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[derive(Serialize, serde::Deserialize)]
    struct Claims {
        sub: String,
        exp: i64,
    }

    fn decoding_key(jwks: &serde_json::Value, kid: &str) -> DecodingKey {
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone()).unwrap();
        DecodingKey::from_jwk(set.find(kid).unwrap()).unwrap()
    }

    #[test]
    fn a_signed_token_verifies_with_the_published_key_only() {
        let keys = SigningKeys::parse(&SigningKeys::generate_key()).unwrap();
        let token = keys.sign(&Claims {
            sub: "github:1".into(),
            exp: 4_000_000_000,
        });
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.kid.as_deref(), Some(keys.signing_kid()));
        let jwks = keys.jwks();
        let claims = jsonwebtoken::decode::<Claims>(
            &token,
            &decoding_key(&jwks, keys.signing_kid()),
            &Validation::new(Algorithm::EdDSA),
        )
        .unwrap()
        .claims;
        assert_eq!(claims.sub, "github:1");

        let other = SigningKeys::parse(&SigningKeys::generate_key()).unwrap();
        let other_jwks = other.jwks();
        assert!(jsonwebtoken::decode::<Claims>(
            &token,
            &decoding_key(&other_jwks, other.signing_kid()),
            &Validation::new(Algorithm::EdDSA),
        )
        .is_err());
    }

    #[test]
    fn the_first_key_signs_and_every_key_is_published() {
        let (new, old) = (SigningKeys::generate_key(), SigningKeys::generate_key());
        let before = SigningKeys::parse(&old).unwrap();
        let after = SigningKeys::parse(&format!("{new},{old}")).unwrap();
        assert_ne!(after.signing_kid(), before.signing_kid());
        let kids: Vec<_> = after.jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(kids, [after.signing_kid(), before.signing_kid()]);
        assert!(!after.jwks().to_string().contains(&new), "no private key");
    }

    #[test]
    fn bad_keys_are_named_by_position() {
        assert_eq!(SigningKeys::parse("").unwrap_err(), SigningKeyError::Empty);
        let good = SigningKeys::generate_key();
        assert_eq!(
            SigningKeys::parse(&format!("{good},not base64!")).unwrap_err(),
            SigningKeyError::NotBase64(2)
        );
        assert_eq!(
            SigningKeys::parse(&STANDARD.encode([7u8; 32])).unwrap_err(),
            SigningKeyError::NotEd25519(1)
        );
    }
}
