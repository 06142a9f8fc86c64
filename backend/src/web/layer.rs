//! The one layer every request passes through: a request id and span, the access log
//! line, metrics, and the default security headers. (The CSRF rule guards the browser
//! scope: `csrf.rs`.)
//!
//! One layer rather than three: each actix middleware boxes a future per request, and on
//! a session read that overhead was measurable (BENCHMARKS.md).
//!
//! The access line records the path only, never the query string: the SPA's `/callback?code=…`
//! page load passes through here and the code must not reach a log line.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage as _};
use tracing::field::Empty;
use tracing::Instrument;

use super::headers;
use super::state::AppState;
use crate::telemetry::RequestId;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn layer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = RequestId::next();
    let state = req.app_data::<web::Data<AppState>>();
    let https = state.is_some_and(|s| s.public_origin.starts_with("https://"));
    // A request forwarded to an upstream API passes the id on (`X-Request-Id`); only those
    // carry it to the handler, as storing it costs an allocation on every other request.
    if state.is_some_and(|s| super::upstream::is_forwarded(&s.upstream_paths, req.path())) {
        req.extensions_mut().insert(id);
    }
    // Only the id in the span: formatting fields is the span's main cost, and the access
    // line below carries the method and path. Writes (sign-in, sign-out, …) log their
    // events at info, so their span is at info and every line carries the id. Reads log
    // nothing at info unless something fails: their span is at debug, which costs nothing
    // at the default level (creating and formatting it on every read was the largest cost
    // of `GET /api/me` there: BENCHMARKS.md), and the layer's own lines name the id.
    let span = if matches!(*req.method(), Method::GET | Method::HEAD) {
        tracing::debug_span!("request", id = %id, http.route = Empty, http.response.status_code = Empty)
    } else {
        tracing::info_span!("request", id = %id, http.route = Empty, http.response.status_code = Empty)
    };
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
    let result = next
        .call(req)
        .instrument(span.clone())
        .await
        .map(ServiceResponse::map_into_boxed_body);
    let _enter = span.enter();
    let mut response = match result {
        Ok(response) => response,
        Err(e) => {
            tracing::warn!(request = %id, error = %e, "request failed before a response");
            return Err(e);
        }
    };
    let status = response.status();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    // Successful requests, 401 (a signed-out page load) and 404 are routine and the bulk
    // of traffic: logging each at info cost a third of the throughput of a session read
    // (BENCHMARKS.md). Other refusals and failures stay visible, and sign-in events are
    // logged by their handlers. RUST_LOG=debug shows them all.
    let routine = matches!(status.as_u16(), 401 | 404) || !status.is_client_error();
    let (method, path) = (response.request().method(), response.request().path());
    if status.is_server_error() {
        tracing::warn!(request = %id, %method, path, status = status.as_u16(), ms, "request finished");
    } else if routine {
        tracing::debug!(%method, path, status = status.as_u16(), ms, "request finished");
    } else {
        tracing::info!(request = %id, %method, path, status = status.as_u16(), ms, "request finished");
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
