//! Error codes turned into sentences for people. The `match` is exhaustive on purpose:
//! a new error code does not compile until it has a sentence.

use shared::ErrorCode;

use crate::api::ApiError;

/// A headline and an explanation.
pub struct Message {
    pub title: &'static str,
    pub detail: &'static str,
}

pub fn for_error(error: &ApiError) -> Message {
    match error {
        ApiError::Network => Message {
            title: "We can't reach the server",
            detail: "Check your connection and try again.",
        },
        ApiError::Unreadable { .. } => Message {
            title: "The server's answer didn't make sense",
            detail: "Please reload the page and try again.",
        },
        ApiError::Api { code, .. } => for_code(*code),
    }
}

/// The sentence for an error code.
pub fn for_code(code: ErrorCode) -> Message {
    match code {
        ErrorCode::AccessDenied => Message {
            title: "Sign-in was cancelled",
            detail: "You chose not to give this app access to your account. Nothing was shared.",
        },
        ErrorCode::StateExpired => Message {
            title: "That sign-in took too long",
            detail: "For your safety, sign-in links expire after ten minutes. Please start again.",
        },
        ErrorCode::InvalidState => Message {
            title: "This sign-in link has already been used",
            detail: "It may have been opened twice, or in another browser. Please start again.",
        },
        ErrorCode::ProviderUnavailable => Message {
            title: "The sign-in provider isn't answering right now",
            detail: "This is usually brief. Please try again in a moment.",
        },
        ErrorCode::ProviderError => Message {
            title: "The sign-in provider didn't accept the sign-in",
            detail: "Please start again. If it keeps happening, the app's provider settings may need attention.",
        },
        ErrorCode::NotAllowed => Message {
            title: "Your account isn't allowed to use this app",
            detail: "This app only lets in people its owners have listed. Ask them to add you, or sign in with another account.",
        },
        ErrorCode::RateLimited => Message {
            title: "Too many attempts",
            detail: "Please wait a minute before trying again.",
        },
        ErrorCode::SessionExpired => Message {
            title: "Your sign-in expired. Sign in again.",
            detail: "Your sign-in provider asks you to confirm it's you from time to time.",
        },
        ErrorCode::Unauthenticated => Message {
            title: "You're signed out",
            detail: "Your session has ended. Please sign in again.",
        },
        ErrorCode::CsrfFailed | ErrorCode::InvalidRequest | ErrorCode::PayloadTooLarge => Message {
            title: "Something about that request wasn't right",
            detail: "Please reload the page and try again.",
        },
        ErrorCode::UnknownProvider => Message {
            title: "That sign-in option isn't available",
            detail: "Please choose another way to sign in.",
        },
        ErrorCode::Unavailable => Message {
            title: "We're having a short hiccup",
            detail: "Part of the service is briefly unavailable. Please try again in a moment.",
        },
        ErrorCode::UpstreamUnavailable | ErrorCode::UpstreamTimeout => Message {
            title: "The service behind this app isn't answering",
            detail: "This is usually brief. Please try again in a moment.",
        },
        ErrorCode::NotFound | ErrorCode::MethodNotAllowed | ErrorCode::Internal => Message {
            title: "Something went wrong on our side",
            detail: "Please try again. If it keeps happening, let us know.",
        },
    }
}
