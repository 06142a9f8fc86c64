//! Credentials that pass through the BFF: redacted `Debug`, no `Display`, explicit accessor.

macro_rules! secret_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
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

#[cfg(test)]
mod tests {
    use super::*;

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
