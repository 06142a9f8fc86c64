//! The one layer every request passes through: a request id and span, the access log
//! line, metrics, and the default security headers. (The CSRF rule guards the browser
//! scope: `csrf.rs`.)
//!
//! One layer rather than three: each actix middleware boxes a future per request, and on
//! a session read that overhead was measurable (BENCHMARKS.md).
//!
//! The access line records the path only, never the query string: the SPA's `/callback?code=…`
//! page load passes through here and the code must not reach a log line.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, Error, HttpMessage as _};
use tracing::field::Empty;
use tracing::Span;

use super::headers;
use super::state::AppState;
use crate::telemetry::RequestId;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The layer, as the app is wrapped in it: `App::new().wrap(Layer)`.
///
/// Written out as a `Transform` rather than with `from_fn`: that helper boxes two futures
/// per request (its own and the inner service's), and this one adds no allocation; the
/// response body passes through as it is, unboxed.
pub struct Layer;

impl<S, B> Transform<S, ServiceRequest> for Layer
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = LayerService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(LayerService { service }))
    }
}

pub struct LayerService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for LayerService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LayerFuture<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let id = RequestId::next();
        let state = req.app_data::<web::Data<AppState>>();
        let https = state.is_some_and(|s| s.public_origin.starts_with("https://"));
        // A request forwarded to an upstream API passes the id on (`X-Request-Id`); only
        // those carry it to the handler, as storing it costs an allocation on every other
        // request.
        if state.is_some_and(|s| super::upstream::is_forwarded(&s.upstream_paths, req.path())) {
            req.extensions_mut().insert(id);
        }
        let span = request_span(&req, id);
        let traced = crate::telemetry::traces::on();
        if traced {
            // A trace context is believed from a proxy we trust, never from a browser.
            let trusted = state.is_some_and(|s| {
                req.peer_addr()
                    .is_some_and(|peer| s.trusted_proxies.contains(&peer.ip()))
            });
            let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
            if let (true, Some(parent)) = (trusted, header("traceparent")) {
                crate::telemetry::traces::continue_trace(&span, parent, header("tracestate"));
            }
        }
        let started = Instant::now();
        let inner = {
            let _enter = span.enter();
            self.service.call(req)
        };
        LayerFuture {
            inner,
            span,
            id,
            https,
            traced,
            started,
        }
    }
}

/// Only the id in the span: formatting fields is the span's main cost, and the access
/// line carries the method and path. Writes (sign-in, sign-out, …) log their events at
/// info, so their span is at info and every line carries the id. Reads log nothing at
/// info unless something fails: their span is at debug, which costs nothing at the
/// default level (creating and formatting it on every read was the largest cost of
/// `GET /api/me` there: BENCHMARKS.md), and the layer's own lines name the id.
fn request_span(req: &ServiceRequest, id: RequestId) -> Span {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        tracing::debug_span!("request", id = %id, http.route = Empty, http.response.status_code = Empty)
    } else {
        tracing::info_span!("request", id = %id, http.route = Empty, http.response.status_code = Empty)
    }
}

pin_project_lite::pin_project! {
    /// The inner service's answer, run inside the request's span, then [`finish`]ed.
    pub struct LayerFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        id: RequestId,
        https: bool,
        traced: bool,
        started: Instant,
    }
}

impl<F, B> Future for LayerFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _enter = this.span.enter();
        let result = std::task::ready!(this.inner.poll(cx));
        Poll::Ready(finish(
            result,
            this.span,
            *this.id,
            *this.https,
            *this.traced,
            *this.started,
        ))
    }
}

/// The access line, the span's route and status, metrics, and the default headers.
fn finish<B>(
    result: Result<ServiceResponse<B>, Error>,
    span: &Span,
    id: RequestId,
    https: bool,
    traced: bool,
    started: Instant,
) -> Result<ServiceResponse<B>, Error> {
    let mut response = match result {
        Ok(response) => response,
        Err(e) => {
            tracing::warn!(request = %id, error = %e, "request failed before a response");
            return Err(e);
        }
    };
    let status = response.status();
    // Inside each line's macro: a field is only evaluated when its line is enabled, and
    // reading the clock for a line nobody writes cost about 60 instructions a request.
    let ms = || started.elapsed().as_secs_f64() * 1000.0;
    // Successful requests, 401 (a signed-out page load) and 404 are routine and the bulk
    // of traffic: logging each at info cost a third of the throughput of a session read
    // (BENCHMARKS.md). Other refusals and failures stay visible, and sign-in events are
    // logged by their handlers. RUST_LOG=debug shows them all.
    let routine = matches!(status.as_u16(), 401 | 404) || !status.is_client_error();
    let (method, path) = (response.request().method(), response.request().path());
    if status.is_server_error() {
        tracing::warn!(request = %id, %method, path, status = status.as_u16(), ms = ms(), "request finished");
    } else if routine {
        tracing::debug!(%method, path, status = status.as_u16(), ms = ms(), "request finished");
    } else {
        tracing::info!(request = %id, %method, path, status = status.as_u16(), ms = ms(), "request finished");
    }
    if traced {
        span.record("http.response.status_code", status.as_u16());
        let request = response.request();
        if let Some(route) = request.match_pattern() {
            span.record("http.route", route.as_str());
        } else if let Some(prefix) = request.app_data::<web::Data<AppState>>().and_then(|s| {
            super::upstream::prefix_of(&s.upstream_paths, request.path()).map(str::to_owned)
        }) {
            // An upstream API's scope has no pattern of its own: name it by its prefix.
            span.record("http.route", format!("{prefix}/*").as_str());
        }
    }
    if crate::metrics::enabled() {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "other".to_owned());
        crate::metrics::request(route, status.as_u16(), started.elapsed());
    }
    let out = response.headers_mut();
    headers::apply(out, https);
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        out.insert(X_REQUEST_ID, value);
    }
    Ok(response)
}
