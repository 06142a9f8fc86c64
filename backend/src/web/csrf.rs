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
//! own, registered ahead of the guarded ones (`web/mod.rs`): whatever reaches a handler
//! through a guarded scope was checked, however its path was spelled, because the
//! router itself decided where it goes.

use std::future::{ready, Ready};

use actix_web::body::EitherBody;
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::{header, Method};
use actix_web::{web, Error, ResponseError};
use futures_util::future::{Either, LocalBoxFuture, MapOk};
use futures_util::TryFutureExt as _;
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

/// The middleware of the browser-facing scopes: [`check`], and a refusal recorded against
/// the session that sent it, if the browser has one. `Guard(Body::Json)` guards the
/// built-in routes, `Guard(Body::Any)` the upstream APIs.
///
/// Written out as a `Transform` rather than with `from_fn` (which boxes two futures per
/// request): a read, the bulk of traffic, goes straight to the inner service.
#[derive(Clone, Copy)]
pub struct Guard(pub Body);

impl<S, B> Transform<S, ServiceRequest> for Guard
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = GuardService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(GuardService {
            service,
            body: self.0,
        }))
    }
}

pub struct GuardService<S> {
    service: S,
    body: Body,
}

type Passed<F, B> = MapOk<F, fn(ServiceResponse<B>) -> ServiceResponse<EitherBody<B>>>;
type Refused<B> = LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<B>>, Error>>;

impl<S, B> Service<ServiceRequest> for GuardService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Either<Passed<S::Future, B>, Refused<B>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let pass = |service: &S, req| -> Self::Future {
            Either::Left(
                service
                    .call(req)
                    .map_ok(ServiceResponse::map_into_left_body as _),
            )
        };
        if matches!(*req.method(), Method::GET | Method::HEAD) {
            return pass(&self.service, req);
        }
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            let error = ApiError::Internal(anyhow::anyhow!("no application state"));
            let response = req
                .into_response(error.error_response())
                .map_into_right_body();
            return Either::Right(Box::pin(ready(Ok(response))));
        };
        match check(req.method(), req.headers(), &state.public_origin, self.body) {
            Ok(()) => pass(&self.service, req),
            Err(refusal) => Either::Right(Box::pin(async move {
                refuse::record(req.request(), &state, AuditKind::CsrfRefused, None).await;
                Ok(req
                    .into_response(refusal.error_response())
                    .map_into_right_body())
            })),
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
