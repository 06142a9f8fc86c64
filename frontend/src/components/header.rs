//! The top bar: product name, and who is signed in.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::auth::{Auth, AuthState};

/// The app's header.
#[component]
pub fn Header() -> impl IntoView {
    let auth = Auth::get();
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">
                <span class="logo" aria-hidden="true"></span>
                "Repo Desk"
            </A>
            {move || match auth.state() {
                AuthState::SignedIn(user) => Some(view! { <span class="who">{format!("@{}", user.login)}</span> }),
                _ => None,
            }}
        </header>
    }
}
