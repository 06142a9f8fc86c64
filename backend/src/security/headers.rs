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

/// Adds each default header the response does not already have.
pub fn apply(headers: &mut HeaderMap) {
    for (name, value) in DEFAULTS {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}
