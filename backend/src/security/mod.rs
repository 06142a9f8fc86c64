//! Request guards: CSRF, body-size limits, security headers, rate limits.

pub mod client_ip;
pub mod csrf;
pub mod headers;
pub mod rate_limit;

/// Largest request body accepted (64 KiB); larger gets 413 `payload_too_large`.
pub const MAX_BODY: usize = 64 * 1024;
