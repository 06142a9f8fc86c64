//! CSRF and body-size guard.
//!
//! Every request with an unsafe method (anything but GET and HEAD) must carry `X-CSRF: 1`
//! and `Content-Type: application/json`: a cross-site form can send neither without a
//! CORS preflight, which this server never grants. An `Origin` header, when present, must
//! be our own origin, and `Sec-Fetch-Site: cross-site` is refused outright.
//!
//! The rule is decided by the method alone, never by the path: the router decodes
//! percent-escapes and merges slashes before matching, so any decision taken on the raw
//! path can be dodged by spelling it differently (`/%61pi/auth/logout`). The few routes
//! that other servers call (webhooks, back-channel logout) are exempt by their
//! normalised path and check a signature instead.

use actix_web::dev::ServiceRequest;
use actix_web::http::{header, Method};

use super::MAX_BODY;
use crate::error::ApiError;

/// Refuses what the server must never accept (see the module doc).
pub fn check(req: &ServiceRequest, public_origin: &str) -> Result<(), ApiError> {
    let declared_len = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared_len.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    if matches!(*req.method(), Method::GET | Method::HEAD) {
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

/// True when the request says its body is `application/json` (parameters allowed).
pub fn is_json(headers: &header::HeaderMap) -> bool {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("application/json")
}
