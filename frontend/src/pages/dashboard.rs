//! `/dashboard`: the signed-in person, their GitHub repositories, and "Sign out".

use leptos::prelude::*;
use shared::api::{Repo, User};

use crate::api;
use crate::auth::{Auth, AuthState, SignedOutBy};
use crate::components::activity::Activity;
use crate::components::devices::Devices;
use crate::components::error_panel::ErrorPanel;
use crate::components::spinner::Spinner;
use crate::fetch::Fetched;
use crate::marks;
use crate::route;

/// The dashboard. Signed out, it sends the person to sign in and back here.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let auth = Auth::get();
    // The one place that decides where a signed-out visitor of this page goes.
    Effect::new(move |_| {
        let target = match auth.state() {
            AuthState::SignedOut(SignedOutBy::Nobody) => "/?return_to=/dashboard",
            AuthState::SignedOut(SignedOutBy::ThisBrowser) => "/",
            _ => return,
        };
        route::navigate(target, true);
    });
    move || match auth.state() {
        AuthState::Checking
        | AuthState::SignedOut(SignedOutBy::Nobody | SignedOutBy::ThisBrowser) => {
            view! { <section class="card"><Spinner label="Checking your session…"/></section> }
                .into_any()
        }
        AuthState::SignedOut(by) => view! { <SignedOutNotice by/> }.into_any(),
        AuthState::Unknown(error) => view! {
            <section class="card"><ErrorPanel error on_retry=move |_| auth.refresh()/></section>
        }
        .into_any(),
        AuthState::SignedIn(user) => {
            let changes = RwSignal::new(0u32);
            // Repositories are GitHub's: people from another provider have none here.
            let from_github = user.provider == "github";
            view! {
                <Profile user/>
                {from_github.then(|| view! { <Repos/> })}
                <Devices on_change=move |_| changes.update(|n| *n += 1)/>
                <Activity revision=changes/>
            }
            .into_any()
        }
    }
}

/// Shown in place of the dashboard when the session ended while the page was open.
#[component]
fn SignedOutNotice(
    /// Who ended it.
    by: SignedOutBy,
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
            <button class="btn primary" on:click=move |_| route::navigate("/?return_to=/dashboard", true)>
                "Sign in again"
            </button>
        </section>
    }
}

/// Avatar, names, email and the sign-out button.
#[component]
fn Profile(
    /// The signed-in person.
    user: User,
) -> impl IntoView {
    let auth = Auth::get();
    let sign_out = Action::new_local(move |_: &()| async move {
        let result = api::logout(false).await;
        match result {
            Ok(provider_logout) => {
                auth.signed_out_here(provider_logout);
                Ok(())
            }
            Err(error) => Err(error),
        }
    });
    // Runs once the profile is on screen.
    Effect::new(|_| marks::mark(marks::DASHBOARD_READY));
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
                <ErrorPanel error on_retry=move |_| { sign_out.dispatch(()); }/>
            })}
        </section>
    }
}

/// The repository list, loaded once the profile is on screen.
#[component]
fn Repos() -> impl IntoView {
    let auth = Auth::get();
    let repos = Fetched::new(api::repos);
    // A 401 here means the session is over (ended elsewhere, or the grant was revoked).
    Effect::new(move |_| {
        if let Some(Err(error)) = repos.get() {
            auth.notice(&error);
        }
    });
    view! {
        <section class="card">
            <h2>"Repositories"</h2>
            {move || match repos.get() {
                None => view! { <Spinner label="Loading your repositories…"/> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel error on_retry=move |_| repos.refetch()/> }.into_any(),
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
