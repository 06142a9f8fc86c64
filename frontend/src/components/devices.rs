//! "Devices": every session of the signed-in person, with a way to end the others.

use leptos::prelude::*;
use shared::api::DeviceSession;

use crate::api;
use crate::auth::Auth;
use crate::components::error_panel::ErrorPanel;
use crate::components::spinner::Spinner;
use crate::fetch::Fetched;
use crate::format::local_time;

/// The devices list and its sign-out buttons.
#[component]
pub fn Devices(
    /// Told after every session this list ends (the activity log then has news).
    #[prop(into)]
    on_change: Callback<()>,
) -> impl IntoView {
    let auth = Auth::get();
    let sessions = Fetched::new(api::sessions);
    let end = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move {
            let result = api::end_session(&id).await;
            sessions.refetch();
            on_change.run(());
            result
        }
    });
    let end_others = Action::new_local(move |others: &Vec<String>| {
        let others = others.clone();
        async move {
            let mut result = Ok(());
            for id in others {
                if let Err(error) = api::end_session(&id).await {
                    result = Err(error);
                    break;
                }
            }
            sessions.refetch();
            on_change.run(());
            result
        }
    });
    let everywhere = Action::new_local(move |_: &()| async move {
        let provider_logout = api::logout(true).await?;
        auth.signed_out_here(provider_logout);
        Ok(())
    });
    let busy =
        move || end.pending().get() || end_others.pending().get() || everywhere.pending().get();
    let failed = move || {
        end.value()
            .get()
            .and_then(Result::err)
            .or_else(|| end_others.value().get().and_then(Result::err))
            .or_else(|| everywhere.value().get().and_then(Result::err))
    };

    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Devices"</h2>
                <button class="btn small" disabled=busy on:click=move |_| sessions.refetch()>"Refresh"</button>
            </div>
            {move || match sessions.get() {
                None => view! { <Spinner label="Loading your devices…"/> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel error on_retry=move |_| sessions.refetch()/> }.into_any(),
                Some(Ok(list)) => {
                    let others: Vec<String> =
                        list.iter().filter(|s| !s.current).map(|s| s.id.clone()).collect();
                    let has_others = !others.is_empty();
                    view! {
                        <ul class="rows">
                            {list.into_iter().map(|session| view! { <DeviceRow session end/> }).collect_view()}
                        </ul>
                        <div class="actions">
                            {has_others.then(|| view! {
                                <button class="btn" disabled=busy
                                    on:click=move |_| { end_others.dispatch(others.clone()); }>
                                    "Sign out everywhere else"
                                </button>
                            })}
                            <button class="btn danger" disabled=busy on:click=move |_| { everywhere.dispatch(()); }>
                                "Sign out everywhere"
                            </button>
                        </div>
                    }.into_any()
                }
            }}
            {move || failed().map(|error| view! { <ErrorPanel error on_retry=move |_| sessions.refetch()/> })}
        </section>
    }
}

/// One session: where, when, and "This device" or a sign-out button.
#[component]
fn DeviceRow(
    /// The session shown.
    session: DeviceSession,
    /// Ends a session by id.
    end: Action<String, Result<(), api::ApiError>>,
) -> impl IntoView {
    let id = session.id.clone();
    let label = format!("Sign out {}", session.device);
    view! {
        <li class="row">
            <div>
                <p class="row-title">
                    {session.device.clone()}
                    {session.current.then(|| view! { <span class="badge current">"This device"</span> })}
                </p>
                <p class="muted small">
                    {format!("Signed in {} · last active {}", local_time(session.signed_in_at), local_time(session.last_seen_at))}
                </p>
            </div>
            {(!session.current).then(|| view! {
                <button class="btn small" aria-label=label disabled=move || end.pending().get()
                    on:click=move |_| { end.dispatch(id.clone()); }>
                    "Sign out"
                </button>
            })}
        </li>
    }
}
