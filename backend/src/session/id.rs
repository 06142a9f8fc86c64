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
        key_of(self.0.as_bytes())
    }
}

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionId([redacted])")
    }
}

fn key_of(id: &[u8]) -> SessionKey {
    SessionKey(Sha256::digest(id).into())
}

/// The bytes of base64url (`A-Z a-z 0-9 - _`), as a table.
const BASE64URL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
        b += 1;
    }
    table
};

/// 43 base64url characters. Every byte is looked at (no early exit), which compiles to a
/// short loop without branches: this runs on every request that carries a cookie.
fn is_well_formed(value: &[u8]) -> bool {
    value.len() == 43 && value.iter().fold(true, |ok, &b| ok & BASE64URL[b as usize])
}

/// The key named by a raw cookie value, if it is shaped like one of our ids (43
/// base64url characters); anything else is treated as no cookie at all, without
/// touching the store.
pub fn key_from_cookie(value: &[u8]) -> Option<SessionKey> {
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
        assert_eq!(key_from_cookie(id.secret().as_bytes()), Some(id.key()));
        assert!(key_from_cookie(b"short").is_none());
        assert!(key_from_cookie("!".repeat(43).as_bytes()).is_none());
        let shaped = "abcXYZ019-_".repeat(4);
        assert!(key_from_cookie(&shaped.as_bytes()[..43]).is_some());
        for foreign in [b'+', b'/', b'=', b' ', b'.', 0, 0x80, 0xff] {
            let mut id = shaped.as_bytes()[..43].to_vec();
            id[42] = foreign;
            assert!(key_from_cookie(&id).is_none(), "{foreign:#x}");
        }
        assert!(key_from_cookie(&shaped.as_bytes()[..42]).is_none());
        assert!(key_from_cookie(&shaped.as_bytes()[..44]).is_none());
        assert_ne!(id.key(), SessionId::generate().key());
    }

    #[test]
    fn the_cookie_value_is_wiped_from_memory_when_dropped() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<SessionId>();
    }
}
