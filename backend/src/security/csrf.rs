//! CSRF and body-size guard.
//!
//! Every request with an unsafe method (anything but GET and HEAD) must carry `X-CSRF: 1`
//! and `Content-Type: application/json`: a cross-site form can send neither without a
//! CORS preflight, which this server never grants. An `Origin` header, when present, must
//! be our own origin, and `Sec-Fetch-Site: cross-site` is refused outright.
//!
//! The rule is decided by the method alone, never by the raw path: the router decodes
//! percent-escapes and merges slashes before matching, so any decision taken on the raw
//! path can be dodged by spelling it differently (`/%61pi/auth/logout`). The few routes
//! that other servers call (GitHub's webhook, OpenID Connect back-channel logout) are
//! exempt, matched on the path normalised at least as hard as the router does, and
//! check a signature instead; a spelling that normalises to an exempt path but routes
//! elsewhere finds nothing there (404).

use actix_web::dev::ServiceRequest;
use actix_web::http::{header, Method};

use super::MAX_BODY;
use crate::error::ApiError;
use crate::routes::webhooks::MAX_DELIVERY;

/// Routes other servers call: no browser, no cookie, a signature instead of the CSRF
/// rule, and a larger body limit.
const SERVER_TO_SERVER: &[&str] = &["/api/webhooks/github", "/api/auth/backchannel-logout/"];

/// Refuses what the server must never accept (see the module doc).
pub fn check(req: &ServiceRequest, public_origin: &str) -> Result<(), ApiError> {
    let exempt = is_server_to_server(req.path());
    let limit = if exempt { MAX_DELIVERY } else { MAX_BODY };
    let declared_len = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared_len.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    if matches!(*req.method(), Method::GET | Method::HEAD) || exempt {
        return Ok(());
    }
    let headers = req.headers();
    if headers
        .get(shared::api::CSRF_HEADER)
        .is_none_or(|v| v != "1")
    {
        return Err(ApiError::CsrfFailed("missing X-CSRF header"));
    }
    if !is_json(headers) {
        return Err(ApiError::CsrfFailed("content type is not application/json"));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        if origin.as_bytes() != public_origin.as_bytes() {
            return Err(ApiError::CsrfFailed("foreign Origin"));
        }
    }
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v == "cross-site")
    {
        return Err(ApiError::CsrfFailed("cross-site request"));
    }
    Ok(())
}

/// True when the path, normalised, is one of [`SERVER_TO_SERVER`] (an entry ending in
/// `/` takes exactly one more segment).
fn is_server_to_server(raw: &str) -> bool {
    let path = normalise(raw);
    SERVER_TO_SERVER
        .iter()
        .any(|exempt| match exempt.strip_suffix('/') {
            Some(prefix) => path
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|last| !last.is_empty() && !last.contains('/')),
            None => path == *exempt,
        })
}

/// The path with percent-escapes decoded, letters lowered, empty and `.` segments
/// dropped and `..` applied: at least as much as any router does.
fn normalise(raw: &str) -> String {
    let mut bytes = Vec::with_capacity(raw.len());
    let raw = raw.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            raw[i],
            raw.get(i + 1).and_then(|b| hex(*b)),
            raw.get(i + 2).and_then(|b| hex(*b)),
        ) {
            (b'%', Some(h), Some(l)) => {
                bytes.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    let decoded = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split(['/', '\\']) {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    format!("/{}", segments.join("/"))
}

/// True when the request says its body is `application/json` (parameters allowed).
pub fn is_json(headers: &header::HeaderMap) -> bool {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_to_server_routes_are_recognised_however_spelled() {
        for path in [
            "/api/webhooks/github",
            "/%61pi/webhooks/github",
            "//api/webhooks//github",
            "/api/x/../webhooks/github",
            "/API/Webhooks/GitHub",
            "/api/auth/backchannel-logout/okta",
        ] {
            assert!(is_server_to_server(path), "{path}");
        }
        for path in [
            "/api/auth/logout",
            "/api/webhooks/github/x",
            "/api/webhooks/github/../../auth/logout",
            "/api/auth/backchannel-logout/",
            "/api/auth/backchannel-logout/a/b",
            "/api/auth/backchannel-logout/../logout",
            "/api/webhooks",
        ] {
            assert!(!is_server_to_server(path), "{path}");
        }
    }
}
