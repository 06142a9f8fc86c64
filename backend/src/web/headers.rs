//! Headers every response carries unless a handler set its own (the SPA sets its own CSP
//! and cache policy).

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// The API serves no markup, so its CSP forbids everything.
pub const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Headers no handler sets (an upstream API's own are dropped on the way down), so they are
/// inserted without looking first. A handler that must set one of these moves it to
/// [`DEFAULTS`]. Built at compile time: names and values are checked once, not per
/// response.
const ALWAYS: [(HeaderName, HeaderValue); 5] = [
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
    (
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    ),
];

/// Defaults a handler may replace with its own (the SPA's CSP and cache policy, an
/// upstream API's cache policy).
const DEFAULTS: [(HeaderName, HeaderValue); 2] = [
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(API_CSP),
    ),
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
];

/// Two years, the preload list's minimum; subdomains included, as `__Host-` cookies
/// assume.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=63072000; includeSubDomains");

/// Adds [`ALWAYS`], each of [`DEFAULTS`] the response does not already have, and
/// `Strict-Transport-Security` when the public origin is https. Looking before inserting
/// cost about 400 instructions a response for the headers no handler sets
/// (BENCHMARKS.md).
pub fn apply(headers: &mut HeaderMap, https: bool) {
    for (name, value) in ALWAYS {
        headers.insert(name, value);
    }
    for (name, value) in DEFAULTS {
        if !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    }
    if https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
}
