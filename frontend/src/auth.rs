//! Who is signed in, kept in memory only (a signal in context). A reload asks `/api/me`
//! again: no browser storage is ever used.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::User;

use crate::api::{self, ApiError};

#[derive(Clone, Debug, PartialEq)]
pub enum AuthState {
    /// `/api/me` has not answered yet.
    Checking,
    SignedOut,
    SignedIn(User),
    /// `/api/me` failed for another reason than "signed out".
    Unknown(ApiError),
}

/// The auth state context.
#[derive(Clone, Copy)]
pub struct Auth(pub RwSignal<AuthState>);

impl Auth {
    /// Creates the context and asks the BFF once whether a session exists.
    pub fn provide() -> Self {
        let auth = Self(RwSignal::new(AuthState::Checking));
        provide_context(auth);
        auth.refresh();
        auth
    }

    pub fn get() -> Self {
        expect_context::<Self>()
    }

    pub fn refresh(self) {
        self.0.set(AuthState::Checking);
        spawn_local(async move {
            self.0.set(match api::me().await {
                Ok(Some(user)) => AuthState::SignedIn(user),
                Ok(None) => AuthState::SignedOut,
                Err(e) => AuthState::Unknown(e),
            });
        });
    }
}
