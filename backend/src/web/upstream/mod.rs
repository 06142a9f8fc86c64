//! The team's own APIs behind the BFF (`[[api]]` tables): `/api/{prefix}/...` forwarded
//! to the upstream's base URL with the signed-in person's identity attached, the CSRF
//! rule and the per-session limits applied, bodies streamed both ways, WebSockets
//! relayed, and long-lived answers (event streams, sockets) closed when the session ends.
//!
//! - `path.rs`: which paths may go up (nothing may climb out of the prefix);
//! - `headers.rs`: which headers go up and come down;
//! - `forward.rs`: one HTTP request, streamed;
//! - `socket.rs`: one WebSocket, relayed.

mod forward;
mod headers;
mod path;
mod socket;

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::{web, HttpMessage as _, HttpRequest};

use super::cookie::session_key;
use super::csrf;
use super::error::ApiError;
use super::state::AppState;
use crate::config::{ApiSettings, Identity};
use crate::per_thread::PerThread;
use crate::session::Session;
use crate::telemetry::{traceparent, RequestId};

/// The longest wait for an upstream's TCP (and TLS) connection, within the API's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One upstream API, ready to forward to.
pub struct UpstreamApi {
    pub settings: ApiSettings,
    /// The identity token's `aud`.
    pub audience: Arc<str>,
    methods: Vec<Method>,
    /// A copy per HTTP worker (`per_thread`): each worker keeps its own connections to
    /// the upstream.
    client: PerThread<reqwest::Client>,
}

impl UpstreamApi {
    /// `public_url` (without a trailing slash) makes the default audience.
    pub fn new(settings: ApiSettings, public_url: &str) -> anyhow::Result<Self> {
        let audience = settings
            .audience
            .clone()
            .unwrap_or_else(|| format!("{public_url}/api/{}", settings.prefix));
        let methods = settings
            .methods
            .iter()
            .filter_map(|m| Method::from_bytes(m.as_bytes()).ok())
            .collect();
        let connect_timeout = CONNECT_TIMEOUT.min(settings.timeout);
        let client = PerThread::build(move || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(connect_timeout)
                .pool_idle_timeout(Duration::from_secs(60))
                .build()
        })?;
        Ok(Self {
            audience: Arc::from(audience),
            settings,
            methods,
            client,
        })
    }

    fn allows(&self, method: &Method) -> bool {
        self.methods.contains(method)
    }
}

/// True when `path` lies under one of `paths` (`/api/{prefix}` of each upstream API).
pub fn is_forwarded(paths: &[String], path: &str) -> bool {
    prefix_of(paths, path).is_some()
}

/// The upstream API prefix (`/api/notes`) `path` falls under, if any.
pub fn prefix_of<'a>(paths: &'a [String], path: &str) -> Option<&'a str> {
    paths
        .iter()
        .find(|prefix| {
            path.strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .map(String::as_str)
}

/// Registers every upstream API as a scope of its own, ahead of the built-in routes
/// (whose `/api` scope answers every other path).
pub fn configure(cfg: &mut web::ServiceConfig, apis: &[web::Data<UpstreamApi>]) {
    for api in apis {
        cfg.service(
            web::scope(&format!("/api/{}", api.settings.prefix))
                .app_data(api.clone())
                .wrap(csrf::Guard(csrf::Body::Any))
                .default_service(web::to(forward::forward)),
        );
    }
}

/// Who is calling: `None` for a public API; otherwise the signed-in session, if its
/// person may call this API (401 without a session, 403 when a rule refuses them).
async fn caller(
    req: &HttpRequest,
    state: &AppState,
    api: &UpstreamApi,
) -> Result<Option<Session>, ApiError> {
    if api.settings.public {
        return Ok(None);
    }
    let session = state.auth.signed_in(session_key(req)).await?;
    if state.auth.may_call(&session, &api.settings).await? {
        Ok(Some(session))
    } else {
        Err(ApiError::NotAllowed)
    }
}

/// The `Authorization` value the upstream receives, if its identity mode sends one.
async fn identity(
    state: &AppState,
    api: &UpstreamApi,
    caller: Option<&Session>,
) -> Result<Option<String>, ApiError> {
    let Some(session) = caller else {
        return Ok(None);
    };
    match api.settings.identity {
        Identity::None => Ok(None),
        Identity::Jwt => {
            let tokens = state.auth.identity.as_ref().ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("identity tokens are not configured"))
            })?;
            Ok(tokens
                .token_for(session, &api.audience)
                .map(|token| format!("Bearer {token}")))
        }
        Identity::AccessToken => {
            let (token, _) = state.auth.tokens.access_token(session).await?;
            Ok(Some(format!("Bearer {}", token.secret())))
        }
    }
}

/// The headers that go up with this request: the browser's that may pass
/// ([`headers::request_headers`]), and what the BFF adds: the forwarding headers, the
/// request id, the trace context and `authorization` (the identity).
fn upstream_headers(
    req: &HttpRequest,
    state: &AppState,
    authorization: Option<String>,
) -> reqwest::header::HeaderMap {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|id| id.as_str().to_owned());
    let traceparent = traceparent();
    let peer = req.peer_addr().map(|a| a.ip());
    let (proto, host) = state
        .public_origin
        .split_once("://")
        .unwrap_or(("http", state.public_origin.as_str()));
    let forwarding = headers::Forwarding {
        client: super::client_ip::client_ip(req, &state.trusted_proxies),
        peer,
        peer_trusted: peer.is_some_and(|p| state.trusted_proxies.contains(&p)),
        proto,
        host,
        request_id: request_id.as_deref(),
        traceparent: &traceparent,
        authorization,
    };
    headers::request_headers(req.headers(), &forwarding)
}
