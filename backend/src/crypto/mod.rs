//! Encryption of secrets at rest (access tokens, pending PKCE verifiers) with AES-256-GCM
//! and a key ring: the first key encrypts, every key decrypts, so keys rotate without
//! signing anyone out.
//!
//! Every sealed value is bound, as AEAD associated data, to its purpose and to its owner
//! (the session it belongs to): a sealed token copied into another session's row, or a
//! sealed verifier presented as a token, does not open.

mod key_file;
pub mod signing;

pub use key_file::{load_or_create, load_or_create_key_file};
pub use signing::SigningKeys;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Format tag of sealed values, so the format can change later.
/// v2: associated data names the owner as well as the purpose.
const VERSION: &str = "v2";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("TOKEN_KEYS: key {0} is not base64")]
    NotBase64(usize),
    #[error("TOKEN_KEYS: key {0} is not 32 bytes long")]
    WrongLength(usize),
    #[error("TOKEN_KEYS: no key given")]
    Empty,
}

#[derive(Debug, thiserror::Error)]
#[error("a sealed value could not be opened (wrong key, or tampered)")]
pub struct OpenError;

/// `n` bytes from the OS's random number generator, base64url without padding: session
/// ids, OAuth `state` and OpenID Connect `nonce` values, public ids.
#[must_use]
pub fn random_base64url(n: usize) -> String {
    let mut bytes = Zeroizing::new(vec![0u8; n]);
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    URL_SAFE_NO_PAD.encode(&*bytes)
}

struct Key {
    /// First 4 bytes of SHA-256(key): says which key sealed a value without revealing it.
    id: String,
    cipher: Aes256Gcm,
}

/// The entries of a comma-separated list of base64 keys (standard or URL-safe, padding
/// optional; empty entries skipped), as `TOKEN_KEYS` and `IDENTITY_KEYS` are written:
/// each entry's number (from 1, for error messages) and its bytes, or `Err` when it is
/// not base64. The decoded bytes are wiped when dropped.
pub(crate) fn base64_keys(
    value: &str,
) -> impl Iterator<Item = (usize, Result<Zeroizing<Vec<u8>>, ()>)> + '_ {
    value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
        .map(|(i, part)| {
            let bytes = STANDARD
                .decode(part)
                .or_else(|_| URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')))
                .map(Zeroizing::new)
                .map_err(|_| ());
            (i + 1, bytes)
        })
}

/// The AEAD keys. `Debug` shows only key ids.
pub struct KeyRing {
    keys: Vec<Key>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| &k.id))
            .finish()
    }
}

impl KeyRing {
    /// Parses `TOKEN_KEYS`: comma-separated base64 (standard or URL-safe) 32-byte keys.
    pub fn parse(value: &str) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        for (n, bytes) in base64_keys(value) {
            let bytes = bytes.map_err(|()| KeyError::NotBase64(n))?;
            keys.push(Self::key(&bytes).ok_or(KeyError::WrongLength(n))?);
        }
        if keys.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(Self { keys })
    }

    fn key(bytes: &[u8]) -> Option<Key> {
        let cipher = Aes256Gcm::new_from_slice(bytes).ok()?;
        let id = Sha256::digest(bytes)[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Some(Key { id, cipher })
    }

    /// A fresh random key, base64, for key files and tests.
    pub fn generate_key() -> String {
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::fill(key.as_mut()).expect("the OS random number generator failed");
        STANDARD.encode(key.as_ref())
    }

    /// Encrypts `plaintext`, bound to `purpose` and `owner` (see the module doc).
    pub fn seal(&self, purpose: &str, owner: &str, plaintext: &str) -> String {
        let aad = associated_data(purpose, owner);
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the OS random number generator failed");
        let sealed = key
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("AES-GCM encryption of a short value cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        format!("{VERSION}.{}.{}", key.id, URL_SAFE_NO_PAD.encode(blob))
    }

    /// Decrypts a value made by [`KeyRing::seal`] with any key of the ring, for the same
    /// purpose and owner. The plaintext is wiped from memory when dropped.
    pub fn open(
        &self,
        purpose: &str,
        owner: &str,
        sealed: &str,
    ) -> Result<Zeroizing<String>, OpenError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(id), Some(data)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(OpenError);
        };
        let key = self.keys.iter().find(|k| k.id == id).ok_or(OpenError)?;
        let blob = URL_SAFE_NO_PAD.decode(data).map_err(|_| OpenError)?;
        if blob.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let plain = Zeroizing::new(
            key.cipher
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: &associated_data(purpose, owner),
                    },
                )
                .map_err(|_| OpenError)?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| OpenError)?;
        Ok(Zeroizing::new(text.to_owned()))
    }
}

/// `purpose NUL owner`: purposes are fixed identifiers without NUL, so no two
/// (purpose, owner) pairs give the same bytes.
fn associated_data(purpose: &str, owner: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(purpose.len() + 1 + owner.len());
    aad.extend_from_slice(purpose.as_bytes());
    aad.push(0);
    aad.extend_from_slice(owner.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_round_trip_and_hide_the_plaintext() {
        let ring = KeyRing::parse(&KeyRing::generate_key()).unwrap();
        let sealed = ring.seal("token", "s1", "gho_secret");
        assert!(!sealed.contains("gho_secret"));
        assert_eq!(*ring.open("token", "s1", &sealed).unwrap(), "gho_secret");
        assert_ne!(
            ring.seal("token", "s1", "gho_secret"),
            sealed,
            "nonces must differ"
        );
    }

    #[test]
    fn the_purpose_is_bound() {
        let ring = KeyRing::parse(&KeyRing::generate_key()).unwrap();
        let sealed = ring.seal("verifier", "s1", "x");
        assert!(ring.open("token", "s1", &sealed).is_err());
    }

    #[test]
    fn the_owner_is_bound() {
        let ring = KeyRing::parse(&KeyRing::generate_key()).unwrap();
        let sealed = ring.seal("token", "session-a", "gho_x");
        assert!(ring.open("token", "session-b", &sealed).is_err());
        assert!(ring.open("token", "", &sealed).is_err());
        // The separator keeps purpose and owner apart.
        let joined = ring.seal("tok", "en\0x", "v");
        assert!(ring.open("token", "x", &joined).is_err());
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let old = KeyRing::generate_key();
        let new = KeyRing::generate_key();
        let before = KeyRing::parse(&old).unwrap().seal("token", "o", "t1");
        let rotated = KeyRing::parse(&format!("{new},{old}")).unwrap();
        assert_eq!(*rotated.open("token", "o", &before).unwrap(), "t1");
        let after = rotated.seal("token", "o", "t2");
        assert!(KeyRing::parse(&old)
            .unwrap()
            .open("token", "o", &after)
            .is_err());
        assert_eq!(
            *KeyRing::parse(&new)
                .unwrap()
                .open("token", "o", &after)
                .unwrap(),
            "t2"
        );
    }

    #[test]
    fn tampering_is_detected() {
        let ring = KeyRing::parse(&KeyRing::generate_key()).unwrap();
        let sealed = ring.seal("token", "o", "value");
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        assert!(ring
            .open("token", "o", &String::from_utf8(bytes).unwrap())
            .is_err());
        assert!(ring.open("token", "o", "v2.x.y").is_err());
        assert!(ring.open("token", "o", "garbage").is_err());
    }

    #[test]
    fn bad_key_lists_are_refused_with_the_variable_name() {
        assert!(matches!(KeyRing::parse(""), Err(KeyError::Empty)));
        assert!(matches!(KeyRing::parse("!!!"), Err(KeyError::NotBase64(1))));
        let short = STANDARD.encode([0u8; 16]);
        let err = KeyRing::parse(&format!("{},{short}", KeyRing::generate_key())).unwrap_err();
        assert!(matches!(err, KeyError::WrongLength(2)));
        assert!(err.to_string().starts_with("TOKEN_KEYS"));
    }

    #[test]
    fn debug_shows_ids_only() {
        let key = KeyRing::generate_key();
        let printed = format!("{:?}", KeyRing::parse(&key).unwrap());
        assert!(!printed.contains(&key));
    }
}
