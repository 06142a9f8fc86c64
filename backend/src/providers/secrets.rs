//! Credentials that pass through the BFF: redacted `Debug`, no `Display`, explicit
//! accessor, and wiped from memory when dropped.

macro_rules! secret_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: String) -> Self {
                Self(value)
            }

            /// The raw value, for the one request that needs it.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_newtype!(
    /// A provider access token (`gho_…`). Only ever stored sealed.
    AccessToken
);
secret_newtype!(
    /// An OAuth authorization code: single use, so not `Clone`.
    AuthorizationCode
);
secret_newtype!(
    /// A refresh token (`ghr_…`): single use at GitHub, only ever stored sealed.
    RefreshToken
);
secret_newtype!(
    /// An OpenID Connect ID token: checked at sign-in and refresh, then dropped (never
    /// stored: RP-initiated logout names the client instead of hinting with it).
    IdToken
);

secret_newtype!(
    /// The OAuth `state` (RFC 6749 §10.12): a fresh random value per sign-in that the
    /// provider sends back, binding its answer to the browser that started the sign-in.
    CsrfToken
);
secret_newtype!(
    /// The OpenID Connect `nonce` (Core §3.1.2.1): a fresh random value per sign-in that
    /// the ID token must carry back.
    Nonce
);

impl CsrfToken {
    /// 32 random bytes.
    #[must_use]
    pub fn new_random() -> Self {
        Self::new(crate::crypto::random_base64url(32))
    }
}

impl Nonce {
    /// 32 random bytes.
    #[must_use]
    pub fn new_random() -> Self {
        Self::new(crate::crypto::random_base64url(32))
    }
}

/// What a token request gave us, in plaintext, on its way to being sealed.
#[derive(Debug)]
pub struct TokenSet {
    pub access: AccessToken,
    /// Unix seconds; `None` when the token does not expire.
    pub access_expires_at: Option<i64>,
    pub refresh: Option<RefreshToken>,
    pub refresh_expires_at: Option<i64>,
    pub id_token: Option<IdToken>,
}

impl TokenSet {
    /// A token that never expires and cannot be refreshed (a classic OAuth App).
    pub fn access_only(access: AccessToken) -> Self {
        Self {
            access,
            access_expires_at: None,
            refresh: None,
            refresh_expires_at: None,
            id_token: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}

    #[test]
    fn every_credential_is_wiped_from_memory_when_dropped() {
        wiped_on_drop::<AccessToken>();
        wiped_on_drop::<AuthorizationCode>();
        wiped_on_drop::<RefreshToken>();
        wiped_on_drop::<IdToken>();
        wiped_on_drop::<CsrfToken>();
        wiped_on_drop::<Nonce>();
        wiped_on_drop::<shared::pkce::CodeVerifier>();
        wiped_on_drop::<zeroize::Zeroizing<String>>();
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(
            format!("{:?}", AccessToken::new("gho_x".into())),
            "AccessToken([redacted])"
        );
        assert_eq!(
            format!("{:?}", AuthorizationCode::new("abc".into())),
            "AuthorizationCode([redacted])"
        );
    }
}
