//! Request guards: CSRF for the JSON API, body-size limits, security headers, rate limits.

pub mod client_ip;
pub mod csrf;
pub mod headers;
pub mod rate_limit;
