//! Headers every response carries unless a handler set its own (the SPA sets its own CSP
//! and cache policy).

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

/// The API serves no markup, so its CSP forbids everything.
pub const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const DEFAULTS: [(&str, &str); 7] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("content-security-policy", API_CSP),
    ("cache-control", "no-store"),
];

/// Two years, the preload list's minimum; subdomains included, as `__Host-` cookies
/// assume.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Adds each default header the response does not already have, and
/// `Strict-Transport-Security` when the public origin is https.
pub fn apply(headers: &mut HeaderMap, https: bool) {
    for (name, value) in DEFAULTS {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if https {
        headers.insert(
            HeaderName::from_static("strict-transport-security"),
            HeaderValue::from_static(HSTS),
        );
    }
}
