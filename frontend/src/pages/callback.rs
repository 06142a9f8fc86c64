//! `/callback`: where the provider sends the browser back. The code, state and issuer
//! (`iss`, RFC 9207) are read, wiped from the address bar before anything else, and
//! handed to the BFF.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::CallbackRequest;
use shared::ErrorCode;
use wasm_bindgen::JsValue;

use crate::api::{self, ApiError};
use crate::auth::Auth;
use crate::components::error_panel::ErrorPanel;
use crate::components::spinner::Spinner;
use crate::route::{self, Page};

/// Reads the redirect's parameters and replaces the URL with a bare `/callback`, so the
/// code never sits in the address bar, the history or a bookmark.
fn take_redirect_params() -> CallbackRequest {
    let window = window();
    let search = window.location().search().unwrap_or_default();
    let _ = window
        .history()
        .and_then(|h| h.replace_state_with_url(&JsValue::NULL, "", Some(Page::Callback.href())));
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok();
    let get = |name: &str| params.as_ref().and_then(|p| p.get(name));
    CallbackRequest {
        code: get("code"),
        state: get("state"),
        error: get("error"),
        error_description: None,
        iss: get("iss"),
    }
}

/// Finishes sign-in, then goes where the person was headed.
#[component]
pub fn CallbackPage() -> impl IntoView {
    let auth = Auth::get();
    let failure = RwSignal::new(None::<ApiError>);
    let request = take_redirect_params();

    if request.state.is_none() || (request.code.is_none() && request.error.is_none()) {
        // Opened by hand, or a reload after the URL was wiped.
        failure.set(Some(ApiError::Api {
            code: ErrorCode::InvalidState,
            status: 400,
        }));
    } else {
        spawn_local(async move {
            match api::callback(&request).await {
                Ok(done) => {
                    auth.signed_in(done.user);
                    // A `ReturnTo` passed the same-origin rule when it was read, here too.
                    route::navigate(done.return_to.as_str(), true);
                }
                Err(error) => {
                    // Nobody was signed in by this; ask whether someone already was.
                    auth.refresh();
                    failure.set(Some(error));
                }
            }
        });
    }

    view! {
        <section class="card">
            {move || match failure.get() {
                None => view! { <Spinner label="Finishing sign-in…"/> }.into_any(),
                Some(error) => view! {
                    <ErrorPanel error on_retry=move |_| route::go(Page::Home, true)/>
                }.into_any(),
            }}
        </section>
    }
}
