//! Session ids: 256 random bits in the cookie, only their SHA-256 in the store.

use sha2::{Digest, Sha256};

use crate::crypto::random_base64url;
use crate::store::SessionKey;

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
        key_of(&self.0)
    }
}

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionId([redacted])")
    }
}

fn key_of(id: &str) -> SessionKey {
    SessionKey(Sha256::digest(id.as_bytes()).into())
}

fn is_well_formed(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The key named by a raw cookie value, if it is shaped like one of our ids (43
/// base64url characters); anything else is treated as no cookie at all, without
/// touching the store.
pub fn key_from_cookie(value: &str) -> Option<SessionKey> {
    is_well_formed(value).then(|| key_of(value))
}

/// 32 random bytes, base64url: session ids and lease owners.
pub fn random_token() -> String {
    random_base64url(32)
}

/// A session's public id (16 random bytes, base64url): what the devices list shows and
/// `DELETE /api/me/sessions/{id}` takes. Unrelated to the cookie, so it gives nothing away.
pub fn public_id() -> String {
    random_base64url(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_redacted_and_well_formed() {
        let id = SessionId::generate();
        assert_eq!(format!("{id:?}"), "SessionId([redacted])");
        assert_eq!(key_from_cookie(id.secret()), Some(id.key()));
        assert!(key_from_cookie("short").is_none());
        assert!(key_from_cookie(&"!".repeat(43)).is_none());
        assert_ne!(id.key(), SessionId::generate().key());
    }

    #[test]
    fn the_cookie_value_is_wiped_from_memory_when_dropped() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<SessionId>();
    }
}
