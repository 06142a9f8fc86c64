//! One WebSocket through an upstream API: the browser's socket is accepted only after
//! the upstream accepted its own (so a refusal reaches the browser as the upstream's
//! HTTP answer), then messages are relayed both ways until either side closes, or the
//! session ends: then both sides get close code 1008 ("policy violation") with the reason
//! `session ended`, within moments on this instance and within `CHECK_EVERY` on others.
//!
//! A WebSocket has no CORS preflight, so the CSRF rule cannot protect it: the handshake
//! must carry our exact `Origin` (a foreign or missing one is 403). Messages are capped at
//! [`MAX_MESSAGE`] each way.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason};
use futures_util::{SinkExt as _, StreamExt as _};
use shared::api::AuditKind;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as UpCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message as Up};

use super::{caller, identity, path, upstream_headers, UpstreamApi};
use crate::session::Watch;
use crate::web::error::ApiError;
use crate::web::refuse;
use crate::web::state::AppState;

/// Largest message relayed, each way.
pub const MAX_MESSAGE: usize = 1024 * 1024;
/// The close reason both sides read when the session ended.
pub const SESSION_ENDED: &str = "session ended";

type Upstream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// True when the request asks to become a WebSocket.
pub fn is_upgrade(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Opens the upstream socket, then accepts the browser's and relays between them.
pub async fn open(
    req: &HttpRequest,
    payload: actix_web::web::Payload,
    state: &AppState,
    api: &UpstreamApi,
    rest: &str,
) -> Result<HttpResponse, ApiError> {
    let same_origin = req
        .headers()
        .get(header::ORIGIN)
        .is_some_and(|o| o.as_bytes() == state.public_origin.as_bytes());
    if !same_origin {
        refuse::record(req, state, AuditKind::CsrfRefused, Some("websocket_origin")).await;
        return Err(ApiError::CsrfFailed(
            "WebSocket from a foreign or missing Origin",
        ));
    }
    let caller = caller(req, state, api).await?;
    let authorization = identity(state, api, caller.as_ref()).await?;
    let target = path::target(&api.settings.upstream, rest, req.uri().query());
    let target = match target.as_str().split_once("://") {
        Some(("https", rest)) => format!("wss://{rest}"),
        Some((_, rest)) => format!("ws://{rest}"),
        None => return Err(ApiError::NotFound),
    };
    let mut request = target
        .into_client_request()
        .map_err(|e| ApiError::UpstreamUnavailable(e.into()))?;
    request
        .headers_mut()
        .extend(upstream_headers(req, state, authorization));
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let prefix = &api.settings.prefix;
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(config), false);
    let (upstream, answer) = match tokio::time::timeout(api.settings.timeout, connecting).await {
        Ok(Ok(connected)) => connected,
        // The upstream answered the handshake with a plain HTTP response: that is its
        // answer to the browser too.
        Ok(Err(tungstenite::Error::Http(refusal))) => {
            let status =
                StatusCode::from_u16(refusal.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut response = HttpResponse::build(status);
            if let Some(kind) = refusal.headers().get("content-type") {
                if let Ok(kind) = HeaderValue::from_bytes(kind.as_bytes()) {
                    response.insert_header((header::CONTENT_TYPE, kind));
                }
            }
            return Ok(response.body(refusal.into_body().unwrap_or_default()));
        }
        Ok(Err(e)) => {
            crate::metrics::api_upstream_error(prefix, "unreachable");
            tracing::warn!(api = %prefix, error = %e, "upstream WebSocket unreachable");
            return Err(ApiError::UpstreamUnavailable(e.into()));
        }
        Err(_) => {
            crate::metrics::api_upstream_error(prefix, "timeout");
            return Err(ApiError::UpstreamTimeout);
        }
    };
    let (mut response, browser, messages) = actix_ws::handle(req, payload)
        .map_err(|_| ApiError::InvalidRequest("This is not a valid WebSocket upgrade.".into()))?;
    if let Some(protocol) = answer.headers().get("sec-websocket-protocol") {
        if let Ok(protocol) = HeaderValue::from_bytes(protocol.as_bytes()) {
            response
                .headers_mut()
                .insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
        }
    }
    let messages = messages
        .max_frame_size(MAX_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_MESSAGE);
    let watch = caller.map(|session| state.auth.sessions.watch(session.key));
    let prefix = prefix.clone();
    crate::metrics::api_websockets(&prefix, 1);
    actix_web::rt::spawn(async move {
        relay(browser, messages, upstream, watch).await;
        crate::metrics::api_websockets(&prefix, -1);
    });
    Ok(response)
}

/// Why a relay stopped.
enum End {
    SessionEnded,
    /// The browser closed (with its reason) or went away.
    Browser(Option<CloseReason>),
    /// The upstream closed (with its frame) or went away.
    Upstream(Option<CloseFrame>),
}

async fn relay(
    mut browser: actix_ws::Session,
    mut from_browser: actix_ws::AggregatedMessageStream,
    upstream: Upstream,
    watch: Option<Watch>,
) {
    let (mut to_upstream, mut from_upstream) = upstream.split();
    let ended = async move {
        match watch {
            Some(mut watch) => watch.ended().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(ended);
    let end = loop {
        tokio::select! {
            () = &mut ended => break End::SessionEnded,
            message = from_browser.next() => {
                let up = match message {
                    Some(Ok(AggregatedMessage::Text(text))) => Up::text(text.to_string()),
                    Some(Ok(AggregatedMessage::Binary(bytes))) => Up::binary(bytes),
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        if browser.pong(&bytes).await.is_err() {
                            break End::Browser(None);
                        }
                        continue;
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => continue,
                    Some(Ok(AggregatedMessage::Close(reason))) => break End::Browser(reason),
                    Some(Err(_)) | None => break End::Browser(None),
                };
                if to_upstream.send(up).await.is_err() {
                    break End::Upstream(None);
                }
            }
            message = from_upstream.next() => {
                let sent = match message {
                    Some(Ok(Up::Text(text))) => browser.text(text.as_str().to_owned()).await,
                    Some(Ok(Up::Binary(bytes))) => browser.binary(bytes).await,
                    // Pings are answered by the upstream client itself.
                    Some(Ok(Up::Ping(_) | Up::Pong(_) | Up::Frame(_))) => Ok(()),
                    Some(Ok(Up::Close(frame))) => break End::Upstream(frame),
                    Some(Err(_)) | None => break End::Upstream(None),
                };
                if sent.is_err() {
                    break End::Browser(None);
                }
            }
        }
    };
    match end {
        End::SessionEnded => {
            let _ = to_upstream
                .send(Up::Close(Some(CloseFrame {
                    code: UpCode::Policy,
                    reason: SESSION_ENDED.into(),
                })))
                .await;
            let _ = browser
                .close(Some(CloseReason {
                    code: CloseCode::Policy,
                    description: Some(SESSION_ENDED.into()),
                }))
                .await;
        }
        End::Browser(reason) => {
            let frame = reason.map(|r| CloseFrame {
                code: UpCode::from(u16::from(r.code)),
                reason: r.description.unwrap_or_default().into(),
            });
            let _ = to_upstream.send(Up::Close(frame)).await;
        }
        End::Upstream(frame) => {
            let reason = match frame {
                Some(frame) => CloseReason {
                    code: CloseCode::from(u16::from(frame.code)),
                    description: Some(frame.reason.as_str().to_owned()),
                },
                None => CloseReason {
                    code: CloseCode::Error,
                    description: Some("the upstream API went away".into()),
                },
            };
            let _ = browser.close(Some(reason)).await;
        }
    }
}
