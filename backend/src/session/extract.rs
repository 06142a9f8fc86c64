//! `SignedIn`: an extractor that yields the session and its person, or answers 401.
//! A handler that takes it cannot forget the check.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use shared::api::User;

use super::Session;
use crate::error::ApiError;
use crate::state::AppState;

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

    pub fn user_id(&self) -> i64 {
        self.user().id
    }
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no application state")))?;
            match state.sessions.load(&req).await? {
                Some(session) if session.user().is_some() => {
                    crate::access::recheck_if_due(state, &session).await?;
                    Ok(Self { session })
                }
                _ => Err(ApiError::Unauthenticated),
            }
        })
    }
}
