//! The sign-in page: one button per provider, and the PKCE start of the redirect flow.

use leptos::prelude::*;
use shared::api::LoginRequest;
use shared::pkce::{CodeVerifier, S256};
use shared::return_to::ReturnTo;

use crate::api::{self, ApiError};
use crate::auth::{Auth, AuthState};
use crate::components::error_panel::ErrorPanel;
use crate::components::spinner::Spinner;
use crate::fetch::Fetched;
use crate::marks;
use crate::route::{self, Page};

/// Makes the verifier here (the platform CSPRNG), hands it to the BFF with its challenge,
/// and leaves for the provider. The verifier lives only in this function's memory and the
/// BFF's session: nothing is written to browser storage.
async fn start_sign_in(provider: String, return_to: ReturnTo) -> Result<(), ApiError> {
    let verifier = CodeVerifier::generate().map_err(|_| ApiError::Network)?;
    let request = LoginRequest {
        provider,
        code_challenge: verifier.challenge(),
        code_verifier: verifier,
        code_challenge_method: S256.to_owned(),
        return_to: Some(return_to),
    };
    let answer = api::login(&request).await?;
    window()
        .location()
        .assign(&answer.authorize_url)
        .map_err(|_| ApiError::Network)
}

/// The start page.
#[component]
pub fn HomePage() -> impl IntoView {
    let auth = Auth::get();
    // A value from the address bar: anyone can craft it, so it goes through the one
    // rule. Refused values (and `/`, this page) mean the dashboard.
    let return_to = move || match ReturnTo::new(route::query("return_to").as_deref()) {
        path if path.is_default() => ReturnTo::new(Some(Page::Dashboard.href())),
        path => path,
    };

    // Already signed in (say, after a reload): carry on to where they were going.
    Effect::new(move |_| {
        if let AuthState::SignedIn(_) = auth.state() {
            route::navigate(untrack(return_to).as_str(), true);
        }
    });

    // The page came with them (see `api::providers`): the first render has the buttons.
    let providers = Fetched::known_or(api::inline_providers(), api::providers);
    Effect::new(move |_| {
        if let Some(Ok(_)) = providers.get() {
            marks::mark(marks::SIGN_IN_READY);
        }
    });
    let start =
        Action::new_local(move |provider: &String| start_sign_in(provider.clone(), return_to()));
    // After a successful start the page is being replaced; keep showing progress until then.
    let leaving = move || start.pending().get() || matches!(start.value().get(), Some(Ok(())));

    view! {
        <section class="card hero">
            <h1>"Sign in"</h1>
            <p class="lead">"See your profile, your repositories and your sessions in one place."</p>
            {move || match providers.get() {
                None => view! { <Spinner label="Loading sign-in options…"/> }.into_any(),
                Some(Err(error)) => view! {
                    <ErrorPanel error on_retry=move |_| providers.refetch()/>
                }.into_any(),
                Some(Ok(list)) => view! {
                    {list.dev_mode.then(|| view! {
                        <p class="banner" role="note">
                            <strong>"Development provider. "</strong>
                            "Sign-in goes to the built-in GitHub emulator, not github.com."
                        </p>
                    })}
                    <div class="providers">
                        {list.providers.into_iter().map(|p| {
                            let id = p.id.clone();
                            let label = format!("Sign in with {}", p.name);
                            view! {
                                <button class="btn primary" disabled=leaving
                                    on:click=move |_| { start.dispatch(id.clone()); }>
                                    <span class="mark" aria-hidden="true"></span>
                                    {label}
                                </button>
                            }
                        }).collect_view()}
                    </div>
                    <Show when=leaving>
                        <Spinner label="Taking you to sign in…"/>
                    </Show>
                }.into_any(),
            }}
            {move || start.value().get().and_then(Result::err).map(|error| view! {
                <ErrorPanel error on_retry=move |_| start.value().set(None)/>
            })}
        </section>
    }
}
