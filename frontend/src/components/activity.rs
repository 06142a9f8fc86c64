//! "Recent activity": the signed-in person's last security events, as sentences.

use leptos::prelude::*;

use crate::api;
use crate::components::error_panel::ErrorPanel;
use crate::components::spinner::Spinner;
use crate::fetch::Fetched;
use crate::format::{activity_sentence, local_time};

/// The activity list, newest first.
#[component]
pub fn Activity(
    /// Bumped when something on the page changed the log; the list reloads.
    #[prop(into)]
    revision: Signal<u32>,
) -> impl IntoView {
    let events = Fetched::new(api::activity);
    // Something on the page changed the log: load it again.
    Effect::watch(
        move || revision.get(),
        move |_, _, _| events.refetch(),
        false,
    );
    view! {
        <section class="card">
            <h2>"Recent activity"</h2>
            {move || match events.get() {
                None => view! { <Spinner label="Loading your activity…"/> }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel error on_retry=move |_| events.refetch()/> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="muted">"Nothing yet."</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="rows">
                        {list.into_iter().map(|event| view! {
                            <li class="row">
                                <p>{activity_sentence(&event)}</p>
                                <p class="muted small">
                                    {local_time(event.at)}
                                    {event.client_ip.map(|ip| format!(" · from {ip}"))}
                                </p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}
