//! One request to an upstream API, streamed both ways: the request body goes up as it
//! arrives (counted against `max_body_bytes`, never gathered in memory), and the answer
//! comes back as the upstream writes it, so an event stream reaches the browser event by
//! event. The upstream's own answers, errors included, pass through unchanged; only a
//! failure to get one is answered by the BFF (502 `upstream_unavailable`, 504
//! `upstream_timeout`).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError as _};
use futures_util::StreamExt as _;

use super::{caller, headers, identity, path, socket, upstream_headers, UpstreamApi};
use crate::web::error::ApiError;
use crate::web::refuse::enter;
use crate::web::state::AppState;

/// Chunks of a request body in flight between the browser and the upstream: the
/// backpressure that keeps an upload's memory bounded.
const BODY_CHUNKS_IN_FLIGHT: usize = 4;

/// Any path under an API's prefix.
pub async fn forward(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    api: web::Data<UpstreamApi>,
) -> HttpResponse {
    let started = Instant::now();
    // Boxed, as are the upstream request and the WebSocket relay inside it: the answer's
    // state machine is kilobytes, and actix moves the handler's future by value (into
    // its own box, among others), a copy of all of it on every request. A pointer moves
    // instead (BENCHMARKS.md).
    let response = match Box::pin(answer(&req, payload, &state, &api)).await {
        Ok(response) => response,
        Err(e) => e.error_response(),
    };
    crate::metrics::api_request(
        &api.settings.prefix,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

async fn answer(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    api: &UpstreamApi,
) -> Result<HttpResponse, ApiError> {
    if !api.allows(req.method()) {
        return Err(ApiError::MethodNotAllowed);
    }
    let rest = path::rest_of(req.uri().path(), &api.settings.prefix).ok_or(ApiError::NotFound)?;
    if socket::is_upgrade(req) {
        if !api.settings.websocket || req.method() != Method::GET {
            return Err(ApiError::NotFound);
        }
        return Box::pin(socket::open(req, payload, state, api, rest)).await;
    }
    let caller = caller(req, state, api).await?;
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // Unsafe methods count against the session's budget, like calls to GitHub: a stolen
    // page cannot flood the team's API through the BFF.
    let _slot = match (&caller, writes) {
        (Some(session), true) => Some(enter(req, state, &state.limits.api_writes, session).await?),
        _ => None,
    };
    let declared = declared_length(req)?;
    if declared.is_some_and(|n| n > api.settings.max_body_bytes as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let has_body =
        declared.is_some_and(|n| n > 0) || req.headers().contains_key(header::TRANSFER_ENCODING);
    let authorization = identity(state, api, caller.as_ref()).await?;
    let headers = upstream_headers(req, state, authorization);
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes())
        .map_err(|_| ApiError::MethodNotAllowed)?;
    let target = path::target(&api.settings.upstream, rest, req.uri().query());
    let mut request = api.client.get().request(method, target).headers(headers);
    let too_large = Arc::new(AtomicBool::new(false));
    if has_body {
        request = request.body(streamed(
            payload,
            api.settings.max_body_bytes,
            too_large.clone(),
        ));
    }
    let prefix = &api.settings.prefix;
    let upstream = match tokio::time::timeout(api.settings.timeout, Box::pin(request.send())).await
    {
        Ok(Ok(response)) => response,
        Ok(Err(_)) if too_large.load(Ordering::SeqCst) => return Err(ApiError::PayloadTooLarge),
        Ok(Err(e)) if e.is_timeout() => {
            crate::metrics::api_upstream_error(prefix, "timeout");
            return Err(ApiError::UpstreamTimeout);
        }
        Ok(Err(e)) => {
            crate::metrics::api_upstream_error(prefix, "unreachable");
            tracing::warn!(api = %prefix, error = %e, "upstream API unreachable");
            return Err(ApiError::UpstreamUnavailable(e.into()));
        }
        Err(_) => {
            crate::metrics::api_upstream_error(prefix, "timeout");
            tracing::warn!(api = %prefix, "upstream API did not answer in time");
            return Err(ApiError::UpstreamTimeout);
        }
    };
    let status =
        StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = HttpResponse::build(status);
    let mut length = None;
    for (name, value) in upstream.headers() {
        let name = name.as_str();
        if name == "content-length" {
            length = value.to_str().ok().and_then(|v| v.parse::<u64>().ok());
        }
        if !headers::passes_down(name) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            response.append_header((name, value));
        }
    }
    if let Some(length) = length {
        response.no_chunking(length);
    }
    let api_name = prefix.clone();
    let body = upstream.bytes_stream().map(move |chunk| {
        chunk.map_err(|e| {
            crate::metrics::api_upstream_error(&api_name, "stream");
            io::Error::other(e)
        })
    });
    Ok(match caller {
        // A long answer (an event stream) ends with the session that asked for it.
        Some(session) => {
            let mut watch = state.auth.sessions.watch(session.key);
            let ended = Box::pin(async move { watch.ended().await });
            response.streaming(body.take_until(ended))
        }
        None => response.streaming(body),
    })
}

/// The declared `Content-Length`, if any; a malformed one is refused.
fn declared_length(req: &HttpRequest) -> Result<Option<u64>, ApiError> {
    match req.headers().get(header::CONTENT_LENGTH) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map(Some)
            .ok_or_else(|| ApiError::InvalidRequest("Content-Length is not a number.".into())),
    }
}

/// The browser's body as a stream for the upstream request. A local task moves the
/// chunks across (the payload lives on this worker's thread; the upstream client needs a
/// stream it can send), a few at a time; past `limit` bytes it stops, flags `too_large`
/// and fails the upstream request.
fn streamed(mut payload: web::Payload, limit: usize, too_large: Arc<AtomicBool>) -> reqwest::Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, io::Error>>(BODY_CHUNKS_IN_FLIGHT);
    actix_web::rt::spawn(async move {
        let mut seen = 0usize;
        while let Some(chunk) = payload.next().await {
            let item = match chunk {
                Ok(bytes) => {
                    seen += bytes.len();
                    if seen > limit {
                        too_large.store(true, Ordering::SeqCst);
                        Err(io::Error::other(
                            "the request body is larger than the API accepts",
                        ))
                    } else {
                        Ok(bytes)
                    }
                }
                Err(e) => Err(io::Error::other(e.to_string())),
            };
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                return;
            }
        }
    });
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    reqwest::Body::wrap_stream(chunks)
}
