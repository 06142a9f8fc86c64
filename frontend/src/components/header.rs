//! The top bar: product name, and who is signed in.

use leptos::prelude::*;

use crate::auth::{Auth, AuthState};
use crate::route::{Link, Page};

/// The app's header.
#[component]
pub fn Header() -> impl IntoView {
    let auth = Auth::get();
    view! {
        <header class="topbar">
            <Link to=Page::Home class="brand">
                <span class="logo" aria-hidden="true"></span>
                "Repo Desk"
            </Link>
            {move || match auth.state() {
                AuthState::SignedIn(user) => Some(view! { <span class="who">{format!("@{}", user.login)}</span> }),
                _ => None,
            }}
        </header>
    }
}
