//! The CSRF rule for everything a browser calls.
//!
//! Every request with an unsafe method (anything but GET and HEAD) must carry `X-CSRF: 1`
//! and `Content-Type: application/json`: a cross-site form can send neither without a
//! CORS preflight, which this server never grants. An `Origin` header, when present, must
//! be our own origin, and `Sec-Fetch-Site: cross-site` is refused outright.
//!
//! Upstream APIs (`web/upstream/`) keep the same rule except the content type: they carry
//! uploads and whatever else the team's API accepts, and the custom header alone already
//! needs the preflight a cross-site page cannot get (RFC 10017 §6.1.3.3.2).
//!
//! The rule is decided by the method and headers alone, never by a path. The routes other
//! servers call (GitHub's webhook, OpenID Connect back-channel logout) are scopes of their
//! own, registered ahead of the guarded one (`web/mod.rs`): whatever reaches a handler
//! through the guarded scope was checked, however its path was spelled, because the
//! router itself decided where it goes.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, Error, ResponseError};
use shared::api::AuditKind;

use super::error::ApiError;
use super::refuse;
use super::state::AppState;

/// What an unsafe request's body must be.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `application/json`: every built-in route.
    Json,
    /// Anything: upstream APIs.
    Any,
}

/// Refuses what a browser must never get through (see the module doc).
pub fn check(
    method: &Method,
    headers: &header::HeaderMap,
    public_origin: &str,
    body: Body,
) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD) {
        return Ok(());
    }
    if headers
        .get(shared::api::CSRF_HEADER)
        .is_none_or(|v| v != "1")
    {
        return Err(ApiError::CsrfFailed("missing X-CSRF header"));
    }
    if body == Body::Json && !is_json(headers) {
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

/// The middleware of the browser-facing scope: [`check`], and a refusal recorded against
/// the session that sent it, if the browser has one.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    guard_with(req, next, Body::Json).await
}

/// [`guard`] for upstream APIs: any content type.
pub async fn guard_any_body(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    guard_with(req, next, Body::Any).await
}

async fn guard_with(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    body: Body,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.into_response(
            ApiError::Internal(anyhow::anyhow!("no application state")).error_response(),
        ));
    };
    match check(req.method(), req.headers(), &state.public_origin, body) {
        Ok(()) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body),
        Err(refusal) => {
            refuse::record(req.request(), &state, AuditKind::CsrfRefused, None).await;
            Ok(req.into_response(refusal.error_response()))
        }
    }
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
