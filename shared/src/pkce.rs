//! PKCE (RFC 7636) with the S256 method only: verifier generation, challenge derivation
//! and validation. The browser calls [`CodeVerifier::generate`]; the BFF re-checks.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Random bytes behind a generated verifier: 64 bytes give 86 base64url characters,
/// well inside RFC 7636's 43..=128 range and far above its 256-bit entropy advice.
const VERIFIER_BYTES: usize = 64;
/// RFC 7636 §4.1 bounds.
pub const MIN_VERIFIER_LEN: usize = 43;
pub const MAX_VERIFIER_LEN: usize = 128;
/// The only method accepted (GitHub supports only S256, and `plain` defeats the point).
pub const S256: &str = "S256";

/// Why a verifier was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceError {
    TooShort,
    TooLong,
    IllegalCharacter,
    /// The CSPRNG could not be read.
    Entropy,
}

impl std::fmt::Display for PkceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::TooShort => "code_verifier is shorter than 43 characters",
            Self::TooLong => "code_verifier is longer than 128 characters",
            Self::IllegalCharacter => "code_verifier may only contain A-Z a-z 0-9 - . _ ~",
            Self::Entropy => "the random number generator failed",
        })
    }
}

impl std::error::Error for PkceError {}

/// A PKCE `code_verifier` (RFC 7636 §4.1). A secret until the exchange: `Debug` redacts it,
/// it has no `Display`, it is not `Clone` so it is consumed by the exchange, and it is
/// wiped from memory when dropped. Deserializing one checks it ([`CodeVerifier::parse`]),
/// so a badly formed verifier never becomes one.
#[derive(Serialize, Deserialize, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
#[serde(try_from = "String")]
pub struct CodeVerifier(String);

impl TryFrom<String> for CodeVerifier {
    type Error = PkceError;

    fn try_from(value: String) -> Result<Self, PkceError> {
        Self::parse(value)
    }
}

impl CodeVerifier {
    /// A fresh verifier from the platform CSPRNG (the OS natively, `crypto.getRandomValues`
    /// in the browser).
    #[must_use = "a verifier is useless unless kept for the exchange"]
    pub fn generate() -> Result<Self, PkceError> {
        let mut bytes = zeroize::Zeroizing::new([0u8; VERIFIER_BYTES]);
        getrandom::fill(bytes.as_mut()).map_err(|_| PkceError::Entropy)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes.as_ref())))
    }

    /// Accepts a verifier only if it follows RFC 7636 §4.1: 43-128 unreserved characters.
    pub fn parse(value: String) -> Result<Self, PkceError> {
        validate(&value)?;
        Ok(Self(value))
    }

    /// The S256 challenge: `BASE64URL(SHA256(ASCII(verifier)))` without padding.
    pub fn challenge(&self) -> String {
        challenge_s256(&self.0)
    }

    /// Raw value, for the token request only.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeVerifier([redacted])")
    }
}

/// Checks length and alphabet of a verifier (RFC 7636 §4.1).
pub fn validate(value: &str) -> Result<(), PkceError> {
    if value.len() < MIN_VERIFIER_LEN {
        return Err(PkceError::TooShort);
    }
    if value.len() > MAX_VERIFIER_LEN {
        return Err(PkceError::TooLong);
    }
    if !value.bytes().all(is_unreserved) {
        return Err(PkceError::IllegalCharacter);
    }
    Ok(())
}

/// `BASE64URL(SHA256(verifier))`, RFC 7636 §4.2.
pub fn challenge_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// True when `challenge` is the S256 challenge of `verifier` (RFC 7636 §4.6).
pub fn verify_s256(verifier: &str, challenge: &str) -> bool {
    // Constant-time comparison: cheap, and the challenge may be an attacker's guess.
    crate::constant_time_eq(&challenge_s256(verifier), challenge)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b_vector() {
        assert_eq!(challenge_s256(RFC_VERIFIER), RFC_CHALLENGE);
        let verifier = CodeVerifier::parse(RFC_VERIFIER.to_owned()).unwrap();
        assert_eq!(verifier.challenge(), RFC_CHALLENGE);
        assert!(verify_s256(RFC_VERIFIER, RFC_CHALLENGE));
        assert!(!verify_s256(RFC_VERIFIER, &RFC_CHALLENGE[1..]));
        assert!(!verify_s256("x".repeat(43).as_str(), RFC_CHALLENGE));
    }

    #[test]
    fn generated_verifiers_are_valid_and_distinct() {
        let a = CodeVerifier::generate().unwrap();
        let b = CodeVerifier::generate().unwrap();
        assert_eq!(a.secret().len(), 86);
        assert!(validate(a.secret()).is_ok());
        assert_ne!(a.secret(), b.secret());
        assert_eq!(a.challenge().len(), 43);
    }

    #[test]
    fn verifier_bounds_and_alphabet_are_enforced() {
        assert_eq!(validate(&"a".repeat(42)), Err(PkceError::TooShort));
        assert!(validate(&"a".repeat(43)).is_ok());
        assert!(validate(&"a".repeat(128)).is_ok());
        assert_eq!(validate(&"a".repeat(129)), Err(PkceError::TooLong));
        let illegal = format!("{}+", "a".repeat(50));
        assert_eq!(validate(&illegal), Err(PkceError::IllegalCharacter));
        let unicode = format!("{}é", "a".repeat(50));
        assert_eq!(validate(&unicode), Err(PkceError::IllegalCharacter));
        assert!(validate("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789-._~").is_ok());
    }

    #[test]
    fn a_badly_formed_verifier_does_not_deserialize() {
        let short = format!("\"{}\"", "a".repeat(42));
        let error = serde_json::from_str::<CodeVerifier>(&short).unwrap_err();
        assert!(
            error.to_string().starts_with("code_verifier is shorter"),
            "{error}"
        );
        let ok: CodeVerifier = serde_json::from_str(&format!("\"{RFC_VERIFIER}\"")).unwrap();
        assert_eq!(ok.secret(), RFC_VERIFIER);
    }

    #[test]
    fn verifier_debug_is_redacted() {
        let verifier = CodeVerifier::parse(RFC_VERIFIER.to_owned()).unwrap();
        let printed = format!("{verifier:?}");
        assert_eq!(printed, "CodeVerifier([redacted])");
        assert!(!printed.contains(RFC_VERIFIER));
    }
}
