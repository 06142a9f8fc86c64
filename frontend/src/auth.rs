//! Who is signed in, kept in memory only (a signal in context). A reload asks the BFF
//! again: no browser storage is ever used.
//!
//! Tabs of the app keep each other in step through a `BroadcastChannel` (a message
//! bus between same-origin tabs, not storage): signing in or out in one tab moves every
//! other open tab to the same state.

use std::cell::RefCell;

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::User;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BroadcastChannel, MessageEvent};

use crate::api::{self, ApiError};
use crate::route::{self, Page};

/// The channel's name, and what goes over it.
const CHANNEL: &str = "repo-desk-auth";
const SIGNED_IN: &str = "signed-in";
const SIGNED_OUT: &str = "signed-out";

thread_local! {
    /// This tab's end of the channel (browser objects live on the one wasm thread).
    static TABS: RefCell<Option<BroadcastChannel>> = const { RefCell::new(None) };
    /// The auth state, for the API client: it reports every failed call (see [`notice`]).
    static CURRENT: std::cell::Cell<Option<Auth>> = const { std::cell::Cell::new(None) };
}

/// What a failed API call says about the session (a 401 or `session_expired`: it is
/// over). The API client calls this for every failure, so no page has to.
pub fn notice(error: &ApiError) {
    if let Some(auth) = CURRENT.with(std::cell::Cell::get) {
        auth.notice(error);
    }
}

/// Why nobody is signed in: it decides where a page that needs a person goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignedOutBy {
    /// Nobody was signed in when the app started.
    Nobody,
    /// The person pressed "Sign out" in this tab, or in another tab of this browser.
    ThisBrowser,
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
    /// Creates the context, joins the tabs' channel, and asks the BFF once whether a
    /// session exists. On `/callback` it does not ask: the callback itself decides, and a
    /// pre-auth session would only answer "signed out".
    pub fn provide() -> Self {
        let auth = Self(RwSignal::new(AuthState::Checking));
        provide_context(auth);
        CURRENT.with(|current| current.set(Some(auth)));
        auth.listen_to_other_tabs();
        if route::page_now() != Page::Callback {
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

    /// Signed in here; the other tabs follow.
    pub fn signed_in(self, user: User) {
        self.0.set(AuthState::SignedIn(user));
        tell_other_tabs(SIGNED_IN);
    }

    /// Signed out; when this browser did it, the other tabs follow.
    pub fn signed_out(self, by: SignedOutBy) {
        self.0.set(AuthState::SignedOut(by));
        if by == SignedOutBy::ThisBrowser {
            tell_other_tabs(SIGNED_OUT);
        }
    }

    /// "Sign out" succeeded here. When the provider ends its own session too (OpenID
    /// Connect), the browser goes to its logout page next, which sends it back home.
    pub fn signed_out_here(self, provider_logout: Option<String>) {
        self.signed_out(SignedOutBy::ThisBrowser);
        let Some(url) = provider_logout else {
            return;
        };
        if shared::return_to::is_followable(&url) {
            let _ = window().location().assign(&url);
        }
    }

    /// What an API error says about the session: a 401 or `session_expired` means it
    /// is over (the API client calls this through [`notice`]).
    fn notice(self, error: &ApiError) {
        let by = match error.code() {
            Some(shared::ErrorCode::Unauthenticated) => SignedOutBy::Server,
            Some(shared::ErrorCode::SessionExpired) => SignedOutBy::Expiry,
            _ => return,
        };
        // Responses of one page load can arrive in any order: an `unauthenticated` from a
        // request that came after the session ended must not hide the `session_expired`
        // that says why it ended.
        let current = self.0.get_untracked();
        let news = match current {
            AuthState::SignedIn(_) => true,
            AuthState::SignedOut(SignedOutBy::Server) => by == SignedOutBy::Expiry,
            _ => false,
        };
        if news {
            self.signed_out(by);
        }
    }

    /// Asks the BFF again. The answer is dropped if something newer (a finished
    /// callback, a sign-out) set the state while it was in flight.
    pub fn refresh(self) {
        self.0.set(AuthState::Checking);
        spawn_local(async move {
            let answer = match api::session().await {
                Ok(Some(user)) => AuthState::SignedIn(user),
                Ok(None) => AuthState::SignedOut(SignedOutBy::Nobody),
                Err(e) => AuthState::Unknown(e),
            };
            if self.0.get_untracked() == AuthState::Checking {
                self.0.set(answer);
            }
        });
    }

    /// Another tab signed in or out: follow it.
    fn listen_to_other_tabs(self) {
        let Ok(channel) = BroadcastChannel::new(CHANNEL) else {
            return; // Very old browsers: each tab finds out on its next request instead.
        };
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let current = self.0.get_untracked();
            match event.data().as_string().as_deref() {
                Some(SIGNED_OUT) if !matches!(current, AuthState::SignedOut(_)) => {
                    self.0.set(AuthState::SignedOut(SignedOutBy::ThisBrowser));
                }
                Some(SIGNED_IN) if !matches!(current, AuthState::SignedIn(_)) => self.refresh(),
                _ => {}
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The listener lives as long as the page.
        on_message.forget();
        TABS.with(|tabs| *tabs.borrow_mut() = Some(channel));
    }
}

fn tell_other_tabs(message: &str) {
    TABS.with(|tabs| {
        if let Some(channel) = tabs.borrow().as_ref() {
            let _ = channel.post_message(&JsValue::from_str(message));
        }
    });
}
