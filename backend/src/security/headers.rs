//! Headers every response carries unless a handler set its own (the SPA sets its own CSP
//! and cache policy).

use actix_web::middleware::DefaultHeaders;

/// The API serves no markup, so its CSP forbids everything.
pub const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub fn default_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("x-content-type-options", "nosniff"))
        .add(("referrer-policy", "no-referrer"))
        .add(("x-frame-options", "DENY"))
        .add(("cross-origin-opener-policy", "same-origin"))
        .add(("cross-origin-resource-policy", "same-origin"))
        .add(("content-security-policy", API_CSP))
        .add(("cache-control", "no-store"))
}
