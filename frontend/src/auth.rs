//! Who is signed in, kept in memory only (a signal in context). A reload asks the BFF
//! again: no browser storage is ever used.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::User;

use crate::api::{self, ApiError};

/// Why nobody is signed in: it decides where a page that needs a person goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignedOutBy {
    /// Nobody was signed in when the app started.
    Nobody,
    /// The person pressed "Sign out" in this tab.
    ThisTab,
    /// The BFF ended the session (signed out elsewhere, expired, revoked).
    Server,
    /// The provider refused to renew the sign-in: sign in again.
    Expiry,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AuthState {
    /// The BFF has not answered yet.
    Checking,
    SignedOut(SignedOutBy),
    SignedIn(User),
    /// The check failed for another reason than "signed out".
    Unknown(ApiError),
}

/// The auth state context.
#[derive(Clone, Copy)]
pub struct Auth(RwSignal<AuthState>);

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

    /// The current state (tracked: a view or effect reading it re-runs on change).
    pub fn state(self) -> AuthState {
        self.0.get()
    }

    pub fn signed_in(self, user: User) {
        self.0.set(AuthState::SignedIn(user));
    }

    pub fn signed_out(self, by: SignedOutBy) {
        self.0.set(AuthState::SignedOut(by));
    }

    /// What an API error says about the session: a 401 or `session_expired` means it
    /// is over. Pages call this with every failed request.
    pub fn notice(self, error: &ApiError) {
        let by = match error.code() {
            Some(shared::ErrorCode::Unauthenticated) => SignedOutBy::Server,
            Some(shared::ErrorCode::SessionExpired) => SignedOutBy::Expiry,
            _ => return,
        };
        if matches!(self.0.get_untracked(), AuthState::SignedIn(_)) {
            self.signed_out(by);
        }
    }

    /// Asks the BFF again. The answer is dropped if something newer (a finished
    /// callback, a sign-out) set the state while it was in flight.
    pub fn refresh(self) {
        self.0.set(AuthState::Checking);
        spawn_local(async move {
            let answer = match api::me().await {
                Ok(Some(user)) => AuthState::SignedIn(user),
                Ok(None) => AuthState::SignedOut(SignedOutBy::Nobody),
                Err(e) => AuthState::Unknown(e),
            };
            if self.0.get_untracked() == AuthState::Checking {
                self.0.set(answer);
            }
        });
    }
}
