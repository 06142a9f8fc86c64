//! What a provider said, in the provider's terms. The web edge turns it into an HTTP
//! answer in one place (`web/error.rs`); code that needs to tell "the grant is gone" from
//! "try again later" matches on this instead of decoding HTTP errors.

/// OAuth token-endpoint error codes we act on (RFC 6749 §5.2 plus GitHub's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenErrorCode {
    BadVerificationCode,
    IncorrectClientCredentials,
    RedirectUriMismatch,
    UnverifiedUserEmail,
    /// The refresh token is expired, already used or revoked (GitHub gives one answer for all).
    BadRefreshToken,
    /// Standard OAuth `invalid_grant`: the code or refresh token is no good.
    InvalidGrant,
    /// Any other code. The provider's text is not kept: it is provider-controlled input.
    Other,
}

impl TokenErrorCode {
    pub fn parse(code: &str) -> Self {
        match code {
            "bad_verification_code" => Self::BadVerificationCode,
            "incorrect_client_credentials" | "invalid_client" | "unauthorized_client" => {
                Self::IncorrectClientCredentials
            }
            "redirect_uri_mismatch" => Self::RedirectUriMismatch,
            "unverified_user_email" => Self::UnverifiedUserEmail,
            "bad_refresh_token" => Self::BadRefreshToken,
            "invalid_grant" => Self::InvalidGrant,
            _ => Self::Other,
        }
    }

    /// True when the answer means the grant behind a refresh token is gone for good.
    pub fn ends_the_grant(self) -> bool {
        matches!(self, Self::BadRefreshToken | Self::InvalidGrant)
    }
}

#[derive(thiserror::Error, Debug)]
pub enum ProviderError {
    /// The API answered 401: the token is revoked, expired or unknown.
    #[error("the provider rejected the access token")]
    Revoked,
    /// The token endpoint answered with an OAuth error body.
    #[error("the token endpoint refused: {0:?}")]
    TokenRefused(TokenErrorCode),
    /// Another refusal: 403/404 or a 4xx the provider did not explain.
    #[error("the provider refused {0}")]
    Refused(String),
    /// The provider's rate limit is exhausted.
    #[error("the provider's rate limit is exhausted for {0}")]
    RateLimited(String),
    /// Transport failure, timeout or a 5xx.
    #[error("the provider is unavailable")]
    Unavailable {
        timed_out: bool,
        #[source]
        source: anyhow::Error,
    },
    /// The answer was too large, not JSON, or JSON of the wrong shape.
    #[error("the provider sent an unreadable answer")]
    BadAnswer(#[source] anyhow::Error),
    /// An ID token or logout token failed a check (signature, issuer, audience, expiry,
    /// nonce, ...): whatever sent it is not to be believed.
    #[error("a token from the provider was refused: {0}")]
    InvalidToken(&'static str),
    /// The authorization response came from another issuer than the one the sign-in
    /// went to, or lacked the `iss` the provider promised (RFC 9207).
    #[error("the authorization response's issuer does not match")]
    IssuerMismatch,
}

impl ProviderError {
    /// A short name of what happened, for metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::TokenRefused(_) | Self::Refused(_) => "refused",
            Self::RateLimited(_) => "rate_limited",
            Self::Unavailable {
                timed_out: true, ..
            } => "timeout",
            Self::Unavailable { .. } => "unavailable",
            Self::BadAnswer(_) => "bad_answer",
            Self::InvalidToken(_) => "invalid_token",
            Self::IssuerMismatch => "issuer_mismatch",
        }
    }

    /// [`ProviderError::outcome`] of a call's result (`ok` when it worked).
    pub fn outcome_of<T>(result: &Result<T, Self>) -> &'static str {
        match result {
            Ok(_) => "ok",
            Err(e) => e.outcome(),
        }
    }

    pub fn unavailable(source: anyhow::Error) -> Self {
        Self::Unavailable {
            timed_out: false,
            source,
        }
    }
}
