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
    /// Creates the context and asks the BFF once whether a session exists. On `/callback`
    /// it does not ask: the callback itself decides, and a pre-auth session would only
    /// answer "signed out".
    pub fn provide() -> Self {
        let auth = Self(RwSignal::new(AuthState::Checking));
        provide_context(auth);
        let on_callback = window()
            .location()
            .pathname()
            .is_ok_and(|p| p == "/callback");
        if !on_callback {
            auth.refresh();
        }
        auth
    }

    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// Asks `/api/me` again. The answer is dropped if something newer (a finished
    /// callback, a sign-out) set the state while it was in flight.
    pub fn refresh(self) {
        self.0.set(AuthState::Checking);
        spawn_local(async move {
            let answer = match api::me().await {
                Ok(Some(user)) => AuthState::SignedIn(user),
                Ok(None) => AuthState::SignedOut,
                Err(e) => AuthState::Unknown(e),
            };
            if self.0.get_untracked() == AuthState::Checking {
                self.0.set(answer);
            }
        });
    }
}
