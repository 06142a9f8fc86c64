//! Session ids: 256 random bits in the cookie, only their SHA-256 in the store.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The cookie value. A bearer credential: redacted `Debug`, no `Display`, not `Clone`,
/// wiped from memory when dropped.
#[derive(zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct SessionId(String);

impl SessionId {
    #[must_use]
    pub fn generate() -> Self {
        Self(random_token())
    }

    pub fn secret(&self) -> &str {
        &self.0
    }

    /// The store key: SHA-256 of the id, so a leaked store holds no usable cookies.
    pub fn key(&self) -> SessionKey {
        SessionKey::of(&self.0)
    }
}

fn is_well_formed(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionId([redacted])")
    }
}

/// What the store indexes sessions by.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct SessionKey(pub [u8; 32]);

impl SessionKey {
    fn of(id: &str) -> Self {
        Self(Sha256::digest(id.as_bytes()).into())
    }

    /// The key named by a raw cookie value, if it is shaped like one of our ids (43
    /// base64url characters); anything else is treated as no cookie at all, without
    /// touching the store.
    pub fn from_cookie_value(value: &str) -> Option<Self> {
        is_well_formed(value).then(|| Self::of(value))
    }
}

/// 32 random bytes, base64url: session ids and OAuth `state` values.
pub fn random_token() -> String {
    random_base64(32)
}

/// A session's public id (16 random bytes, base64url): what the devices list shows and
/// `DELETE /api/me/sessions/{id}` takes. Unrelated to the cookie, so it gives nothing away.
pub fn public_id() -> String {
    random_base64(16)
}

fn random_base64(n: usize) -> String {
    let mut bytes = Zeroizing::new(vec![0u8; n]);
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    URL_SAFE_NO_PAD.encode(&*bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_redacted_and_well_formed() {
        let id = SessionId::generate();
        assert_eq!(format!("{id:?}"), "SessionId([redacted])");
        assert_eq!(SessionKey::from_cookie_value(id.secret()), Some(id.key()));
        assert!(SessionKey::from_cookie_value("short").is_none());
        assert!(SessionKey::from_cookie_value(&"!".repeat(43)).is_none());
        assert_ne!(id.key(), SessionId::generate().key());
    }
}
