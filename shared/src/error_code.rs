//! The closed set of error codes the JSON API answers with (`{"error": CODE, "message": ...}`).

use serde::{Deserialize, Serialize};

/// Every error the API can report. Deliberately exhaustive: adding a code must break
/// each `match` that turns codes into sentences until the new code is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    CsrfFailed,
    UnknownProvider,
    InvalidState,
    StateExpired,
    AccessDenied,
    ProviderError,
    ProviderUnavailable,
    Unauthenticated,
    /// The provider refused to renew the sign-in (its refresh token expired or was
    /// revoked): sign in again.
    SessionExpired,
    RateLimited,
    /// An allow-list refused this person.
    NotAllowed,
    PayloadTooLarge,
    NotFound,
    /// The method is not one this route (an upstream API) forwards.
    MethodNotAllowed,
    /// An upstream API behind the BFF could not be reached (502).
    UpstreamUnavailable,
    /// An upstream API behind the BFF did not answer in time (504).
    UpstreamTimeout,
    /// A store (database, Redis) is unreachable: try again shortly.
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The wire spelling, as it appears in the `error` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::CsrfFailed => "csrf_failed",
            Self::UnknownProvider => "unknown_provider",
            Self::InvalidState => "invalid_state",
            Self::StateExpired => "state_expired",
            Self::AccessDenied => "access_denied",
            Self::ProviderError => "provider_error",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::Unauthenticated => "unauthenticated",
            Self::SessionExpired => "session_expired",
            Self::RateLimited => "rate_limited",
            Self::NotAllowed => "not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::UpstreamUnavailable => "upstream_unavailable",
            Self::UpstreamTimeout => "upstream_timeout",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_spelling_matches_as_str() {
        for code in [
            ErrorCode::InvalidRequest,
            ErrorCode::CsrfFailed,
            ErrorCode::UnknownProvider,
            ErrorCode::InvalidState,
            ErrorCode::StateExpired,
            ErrorCode::AccessDenied,
            ErrorCode::ProviderError,
            ErrorCode::ProviderUnavailable,
            ErrorCode::Unauthenticated,
            ErrorCode::SessionExpired,
            ErrorCode::RateLimited,
            ErrorCode::NotAllowed,
            ErrorCode::PayloadTooLarge,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::UpstreamUnavailable,
            ErrorCode::UpstreamTimeout,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
