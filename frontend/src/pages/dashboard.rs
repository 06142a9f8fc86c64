//! `/dashboard`: the signed-in person, their GitHub repositories, and "Sign out".

use leptos::prelude::*;
use shared::api::{Repo, User};

use crate::api;
use crate::auth::Auth;
use crate::components::activity::Activity;
use crate::components::devices::Devices;
use crate::components::error_panel::ErrorPanel;
use crate::components::signed_in_only::SignedInOnly;
use crate::components::spinner::Spinner;
use crate::components::your_api::YourApi;
use crate::fetch::Fetched;
use crate::marks;
use crate::route::Page;

/// The dashboard. Signed out, it sends the person to sign in and back here.
#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <SignedInOnly page=Page::Dashboard content=|user: User| {
            let changes = RwSignal::new(0u32);
            // Repositories are GitHub's: people from another provider have none here.
            let from_github = user.provider == "github";
            view! {
                <Profile user/>
                {from_github.then(|| view! { <Repos/> })}
                <YourApi/>
                <Devices on_change=move |_| changes.update(|n| *n += 1)/>
                <Activity revision=changes/>
            }
        }/>
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
    let repos = Fetched::new(api::repos);
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
