//! Extractors: what a handler may ask for instead of reading the request itself.
//! - [`SignedIn`]: the live session and its person, or 401. A handler that takes it
//!   cannot forget the check. When the person's access is due for its re-check
//!   (`MEMBERSHIP_RECHECK_SECS`), getting one asks the provider first (in a span named
//!   `access_recheck`, so the call shows in traces).
//! - [`CurrentSession`]: the live session if there is one (signed in or pre-auth).
//! - [`ClientIp`]: the client's address, through trusted proxies.

use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::{Either, LocalBoxFuture};
use shared::api::User;
use tracing::Instrument as _;

use super::cookie::session_key;
use super::error::ApiError;
use super::state::AppState;
use crate::session::Session;

/// A signed-in request: its live session and the person it belongs to.
#[derive(Debug)]
pub struct SignedIn {
    pub session: Session,
}

impl SignedIn {
    pub fn user(&self) -> &User {
        self.session
            .user()
            .expect("a SignedIn session always has a user")
    }
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no application state")))
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future =
        Either<Ready<Result<Self, ApiError>>, LocalBoxFuture<'static, Result<Self, ApiError>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = session_key(req);
        // Nearly every read: the session is cached and nothing is due, so the answer is
        // known now, without a boxed future or a span.
        if let (Some(key), Some(state)) = (&key, req.app_data::<web::Data<AppState>>()) {
            if let Some(session) = state.auth.signed_in_cached(key) {
                return Either::Left(ready(Ok(Self { session })));
            }
        }
        let state = state(req);
        Either::Right(Box::pin(async move {
            let state = state?;
            let session = state
                .auth
                .signed_in(key)
                .instrument(tracing::debug_span!("access_recheck"))
                .await?;
            Ok(Self { session })
        }))
    }
}

/// The browser's live session, if it has one.
pub struct CurrentSession(pub Option<Session>);

impl FromRequest for CurrentSession {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = session_key(req);
        let state = state(req);
        Box::pin(async move { Ok(Self(state?.auth.current(key).await?)) })
    }
}

/// The client's address (through `TRUSTED_PROXIES`), as text for audit events.
pub struct ClientIp(pub Option<String>);

impl ClientIp {
    pub fn of(req: &HttpRequest, state: &AppState) -> Self {
        Self(super::client_ip::client_ip(req, &state.trusted_proxies).map(|ip| ip.to_string()))
    }
}

impl FromRequest for ClientIp {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state(req).map(|state| Self::of(req, &state)))
    }
}
