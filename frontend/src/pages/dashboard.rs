//! `/dashboard`: the signed-in person and their repositories, and "Sign out".

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use shared::api::{Repo, User};
use shared::ErrorCode;

use crate::api::{self, ApiError};
use crate::auth::{Auth, AuthState};
use crate::components::error_panel::ErrorPanel;
use crate::components::spinner::Spinner;

/// The dashboard. Signed out, it sends the person to sign in and back here.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let auth = Auth::get();
    let navigate = use_navigate();
    let signing_out = RwSignal::new(false);
    Effect::new(move |_| {
        if auth.0.get() == AuthState::SignedOut && !signing_out.get_untracked() {
            navigate(
                "/?return_to=/dashboard",
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    move || {
        match auth.0.get() {
        AuthState::Checking | AuthState::SignedOut => view! { <section class="card"><Spinner label="Checking your session…"/></section> }.into_any(),
        AuthState::Unknown(error) => view! {
            <section class="card"><ErrorPanel error on_retry=Callback::new(move |_| auth.refresh())/></section>
        }.into_any(),
        AuthState::SignedIn(user) => view! {
            <Profile user signing_out/>
            <Repos/>
        }.into_any(),
    }
    }
}

/// Avatar, names, email and the sign-out button.
#[component]
fn Profile(
    /// The signed-in person.
    user: User,
    /// Set while signing out, so the page does not bounce to sign-in on the way.
    signing_out: RwSignal<bool>,
) -> impl IntoView {
    let auth = Auth::get();
    let navigate = use_navigate();
    let sign_out = Action::new_local(move |_: &()| {
        let navigate = navigate.clone();
        async move {
            signing_out.set(true);
            let result = api::logout().await;
            if result.is_ok() {
                auth.0.set(AuthState::SignedOut);
                navigate(
                    "/",
                    NavigateOptions {
                        replace: true,
                        ..Default::default()
                    },
                );
            }
            signing_out.set(false);
            result
        }
    });
    let display_name = user.name.clone().unwrap_or_else(|| user.login.clone());
    let avatar_alt = format!("Avatar of {}", user.login);
    view! {
        <section class="card profile">
            {user.avatar_url.clone().map(|src| view! { <img class="avatar" src=src alt=avatar_alt width="72" height="72"/> })}
            <div class="identity">
                <h1 class="name">{display_name}</h1>
                <p class="login">
                    {match user.profile_url.clone() {
                        Some(url) => view! { <a href=url rel="noopener noreferrer" target="_blank">{format!("@{}", user.login)}</a> }.into_any(),
                        None => view! { <span>{format!("@{}", user.login)}</span> }.into_any(),
                    }}
                </p>
                <p class="email">
                    {match user.email.clone() {
                        Some(email) => view! { <span>{email}</span> }.into_any(),
                        None => view! { <span class="muted">"No public email"</span> }.into_any(),
                    }}
                </p>
            </div>
            <button class="btn" disabled=move || sign_out.pending().get() on:click=move |_| { sign_out.dispatch(()); }>
                {move || if sign_out.pending().get() { "Signing out…" } else { "Sign out" }}
            </button>
            {move || sign_out.value().get().and_then(Result::err).map(|error| view! {
                <ErrorPanel error on_retry=Callback::new(move |_| { sign_out.dispatch(()); })/>
            })}
        </section>
    }
}

/// The repository list, loaded once the profile is on screen.
#[component]
fn Repos() -> impl IntoView {
    let auth = Auth::get();
    let repos = LocalResource::new(api::repos);
    // The provider no longer honours our token (revoked on GitHub): that session is over.
    Effect::new(move |_| {
        if let Some(Err(ApiError::Api {
            code: ErrorCode::Unauthenticated,
            ..
        })) = repos.get()
        {
            auth.0.set(AuthState::SignedOut);
        }
    });
    view! {
        <section class="card">
            <h2>"Repositories"</h2>
            {move || match repos.get() {
                None => view! { <Spinner label="Loading your repositories…"/> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel error on_retry=Callback::new(move |_| repos.refetch())/> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="muted">"No repositories yet."</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="repos">{list.into_iter().map(|repo| view! { <RepoItem repo/> }).collect_view()}</ul>
                }.into_any(),
            }}
        </section>
    }
}

/// One repository row.
#[component]
fn RepoItem(
    /// The repository.
    repo: Repo,
) -> impl IntoView {
    view! {
        <li class="repo">
            <div class="repo-head">
                <a href=repo.html_url rel="noopener noreferrer" target="_blank">{repo.full_name}</a>
                {repo.private.then(|| view! { <span class="badge">"Private"</span> })}
            </div>
            {repo.description.map(|d| view! { <p class="repo-desc">{d}</p> })}
            <p class="repo-meta"><span aria-label="stars">{format!("★ {}", repo.stargazers_count)}</span></p>
        </li>
    }
}
