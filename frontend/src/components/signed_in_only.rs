//! The one owner of "signed out → leave": a page that needs a person wraps its content
//! in [`SignedInOnly`], which decides what a visitor without a session sees and where
//! they go.

use leptos::prelude::*;
use shared::api::User;

use crate::auth::{Auth, AuthState, SignedOutBy};
use crate::components::error_panel::ErrorPanel;
use crate::components::spinner::Spinner;
use crate::route::{self, Page};

/// Shows `content` with the signed-in person. Otherwise: a spinner while the session is
/// checked; nobody signed in, the start page (coming back to `page` afterwards); signed
/// out in this browser, the start page; the session ended by the server, a notice with
/// a way back in; the check failed, the error.
#[component]
pub fn SignedInOnly<F, V>(
    /// The page this guards, to come back to after sign-in.
    page: Page,
    /// What the signed-in person sees.
    content: F,
) -> impl IntoView
where
    F: Fn(User) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let auth = Auth::get();
    Effect::new(move |_| match auth.state() {
        AuthState::SignedOut(SignedOutBy::Nobody) => route::navigate(&page.after_sign_in(), true),
        AuthState::SignedOut(SignedOutBy::ThisBrowser) => route::go(Page::Home, true),
        _ => {}
    });
    move || match auth.state() {
        AuthState::Checking
        | AuthState::SignedOut(SignedOutBy::Nobody | SignedOutBy::ThisBrowser) => {
            view! { <section class="card"><Spinner label="Checking your session…"/></section> }
                .into_any()
        }
        AuthState::SignedOut(by) => view! { <SignedOutNotice by page/> }.into_any(),
        AuthState::Unknown(error) => view! {
            <section class="card"><ErrorPanel error on_retry=move |_| auth.refresh()/></section>
        }
        .into_any(),
        AuthState::SignedIn(user) => content(user).into_any(),
    }
}

/// Shown in place of the page when the session ended while it was open.
#[component]
fn SignedOutNotice(
    /// Who ended it.
    by: SignedOutBy,
    /// Where to come back to after signing in again.
    page: Page,
) -> impl IntoView {
    let (title, detail) = if by == SignedOutBy::Expiry {
        (
            "Your sign-in expired. Sign in again.",
            "Your sign-in provider asks you to confirm it's you from time to time. You'll come back to this page.",
        )
    } else {
        (
            "You were signed out",
            "Your session ended, perhaps from another device or after a long pause.",
        )
    };
    view! {
        <section class="card error" role="alert">
            <h2>{title}</h2>
            <p>{detail}</p>
            <button class="btn primary" on:click=move |_| route::navigate(&page.after_sign_in(), true)>
                "Sign in again"
            </button>
        </section>
    }
}
