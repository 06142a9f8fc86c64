//! The one HTTP error of the BFF, mapped 1:1 onto DESIGN.md's error codes, and the one
//! place each lower room's error becomes it (zero2prod's habit: an error per operation
//! below, one mapping at the edge).
//!
//! The response body carries a fixed sentence per code (plus a precise validation message
//! for `invalid_request`), never the text of an internal cause: causes go to the log.

use std::sync::{Arc, LazyLock};

use actix_web::http::header::HeaderValue;
use actix_web::http::{header, StatusCode};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, ResponseError};
use shared::api::ErrorBody;
use shared::ErrorCode;

use super::limit::Refused;
use crate::auth::{AccessError, CallError, EventError, SignInError, TokenError};
use crate::providers::ProviderError;
use crate::store::StoreError;

#[derive(thiserror::Error)]
pub enum ApiError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("CSRF check failed: {0}")]
    CsrfFailed(&'static str),
    #[error("unknown provider")]
    UnknownProvider,
    #[error("unknown or already used state")]
    InvalidState,
    #[error("sign-in attempt expired")]
    StateExpired,
    #[error("the user denied access")]
    AccessDenied,
    #[error("the provider refused: {0}")]
    ProviderError(String),
    #[error("the provider is unavailable")]
    ProviderUnavailable {
        timed_out: bool,
        #[source]
        source: anyhow::Error,
    },
    #[error("not signed in")]
    Unauthenticated,
    #[error("the provider refused to renew the sign-in")]
    SessionExpired,
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("an allow-list refused this person")]
    NotAllowed,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("the upstream API is unavailable")]
    UpstreamUnavailable(#[source] anyhow::Error),
    #[error("the upstream API did not answer in time")]
    UpstreamTimeout,
    #[error("a store is unavailable")]
    Unavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// Every store failure answers 503 `unavailable`: the request may well succeed once the
/// store is back.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::Unavailable(e)
    }
}

impl From<Refused> for ApiError {
    fn from(e: Refused) -> Self {
        Self::RateLimited {
            retry_after_secs: e.retry_after_secs,
        }
    }
}

impl From<ProviderError> for ApiError {
    fn from(e: ProviderError) -> Self {
        match e {
            ProviderError::Revoked => Self::Unauthenticated,
            ProviderError::TokenRefused(_)
            | ProviderError::Refused(_)
            | ProviderError::InvalidToken(_)
            | ProviderError::IssuerMismatch => Self::ProviderError(e.to_string()),
            ProviderError::RateLimited(_) | ProviderError::BadAnswer(_) => {
                Self::ProviderUnavailable {
                    timed_out: false,
                    source: e.into(),
                }
            }
            ProviderError::Unavailable { timed_out, source } => {
                Self::ProviderUnavailable { timed_out, source }
            }
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Expired => Self::SessionExpired,
            TokenError::Gone => Self::Unauthenticated,
            TokenError::Unavailable(source) => Self::ProviderUnavailable {
                timed_out: matches!(
                    &*source,
                    ProviderError::Unavailable {
                        timed_out: true,
                        ..
                    }
                ),
                source: anyhow::Error::new(Shared(source)),
            },
            TokenError::Store(source) => {
                Self::Unavailable(StoreError::Unavailable(anyhow::Error::new(Shared(source))))
            }
        }
    }
}

/// Carries an error shared by a refresh's single flight (behind an `Arc`) into `anyhow`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Shared<E: std::error::Error + 'static>(Arc<E>);

impl From<CallError> for ApiError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Token(e) => e.into(),
            CallError::Provider(e) => e.into(),
        }
    }
}

impl From<EventError> for ApiError {
    fn from(e: EventError) -> Self {
        match e {
            EventError::Store(e) => e.into(),
            EventError::Provider(e) => e.into(),
        }
    }
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::SignedOut => Self::Unauthenticated,
            AccessError::Expired => Self::SessionExpired,
            AccessError::NotAllowed => Self::NotAllowed,
            AccessError::Store(e) => e.into(),
        }
    }
}

impl From<SignInError> for ApiError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::InvalidRequest(message) => Self::InvalidRequest(message),
            SignInError::UnknownProvider => Self::UnknownProvider,
            SignInError::InvalidState => Self::InvalidState,
            SignInError::StateExpired => Self::StateExpired,
            SignInError::AccessDenied => Self::AccessDenied,
            SignInError::AuthorizationError => {
                Self::ProviderError("the provider reported an authorization error".into())
            }
            SignInError::Provider(e) => e.into(),
            SignInError::NotAllowed => Self::NotAllowed,
            SignInError::Store(e) => e.into(),
        }
    }
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidRequest(_) => ErrorCode::InvalidRequest,
            Self::CsrfFailed(_) => ErrorCode::CsrfFailed,
            Self::UnknownProvider => ErrorCode::UnknownProvider,
            Self::InvalidState => ErrorCode::InvalidState,
            Self::StateExpired => ErrorCode::StateExpired,
            Self::AccessDenied => ErrorCode::AccessDenied,
            Self::ProviderError(_) => ErrorCode::ProviderError,
            Self::ProviderUnavailable { .. } => ErrorCode::ProviderUnavailable,
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::SessionExpired => ErrorCode::SessionExpired,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::NotAllowed => ErrorCode::NotAllowed,
            Self::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            Self::NotFound => ErrorCode::NotFound,
            Self::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Self::UpstreamUnavailable(_) => ErrorCode::UpstreamUnavailable,
            Self::UpstreamTimeout => ErrorCode::UpstreamTimeout,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The JSON body: the code and its sentence.
    fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&ErrorBody {
            error: self.code(),
            message: self.message(),
        })
        .expect("an error body always serialises")
    }

    fn message(&self) -> String {
        match self {
            Self::InvalidRequest(detail) => detail.clone(),
            Self::CsrfFailed(_) => "This request did not come from the application itself.".into(),
            Self::UnknownProvider => "That sign-in provider is not configured.".into(),
            Self::InvalidState => {
                "This sign-in attempt is unknown or was already used. Please start again.".into()
            }
            Self::StateExpired => "This sign-in attempt took too long. Please start again.".into(),
            Self::AccessDenied => "Access was denied at the provider.".into(),
            Self::ProviderError(_) => "The provider did not accept the sign-in.".into(),
            Self::ProviderUnavailable { .. } => {
                "The sign-in provider is not answering right now. Please try again shortly.".into()
            }
            Self::Unauthenticated => "You are not signed in.".into(),
            Self::SessionExpired => {
                "Your sign-in with the provider expired. Please sign in again.".into()
            }
            Self::RateLimited { .. } => "Too many attempts. Please wait a moment.".into(),
            Self::NotAllowed => "This account is not allowed to use this app.".into(),
            Self::PayloadTooLarge => "The request body is too large.".into(),
            Self::NotFound => "There is nothing here.".into(),
            Self::MethodNotAllowed => "This method is not allowed here.".into(),
            Self::UpstreamUnavailable(_) => {
                "The service behind this app is not answering right now. Please try again shortly."
                    .into()
            }
            Self::UpstreamTimeout => {
                "The service behind this app took too long to answer. Please try again.".into()
            }
            Self::Unavailable(_) => {
                "The service is briefly unavailable. Please try again shortly.".into()
            }
            Self::Internal(_) => "Something went wrong on our side.".into(),
        }
    }
}

/// Debug prints the whole cause chain, for logs (zero2prod's habit).
impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{self}")?;
        let mut current = std::error::Error::source(self);
        while let Some(cause) = current {
            writeln!(f, "Caused by:\n\t{cause}")?;
            current = cause.source();
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_)
            | Self::UnknownProvider
            | Self::InvalidState
            | Self::StateExpired => StatusCode::BAD_REQUEST,
            Self::CsrfFailed(_) | Self::AccessDenied | Self::NotAllowed => StatusCode::FORBIDDEN,
            Self::ProviderError(_) => StatusCode::BAD_GATEWAY,
            Self::ProviderUnavailable {
                timed_out: true, ..
            } => StatusCode::GATEWAY_TIMEOUT,
            Self::ProviderUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unauthenticated | Self::SessionExpired => StatusCode::UNAUTHORIZED,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::UpstreamUnavailable(_) => StatusCode::BAD_GATEWAY,
            Self::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            _ if status.is_server_error() => {
                tracing::warn!(error = ?self, code = self.code().as_str(), "request failed")
            }
            Self::ProviderError(_) => {
                tracing::warn!(error = ?self, code = self.code().as_str(), "provider refused")
            }
            // Routine (a signed-out page load, a typo): the access log line says enough.
            Self::Unauthenticated | Self::NotFound => {
                tracing::debug!(code = self.code().as_str(), "request refused")
            }
            _ => tracing::info!(error = %self, code = self.code().as_str(), "request refused"),
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Self::RateLimited { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        // A signed-out page load's 401 is the commonest refusal by far: its body never
        // changes, so it is serialised once.
        static UNAUTHENTICATED: LazyLock<Bytes> =
            LazyLock::new(|| ApiError::Unauthenticated.body().into());
        let body = match self {
            Self::Unauthenticated => UNAUTHENTICATED.clone(),
            _ => self.body().into(),
        };
        response
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ))
            .body(body)
    }
}
