//! An error explained in sentences, with a way forward.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::messages;

/// A readable error and a "Try again" button.
#[component]
pub fn ErrorPanel(
    /// What went wrong.
    error: ApiError,
    /// What "Try again" does.
    #[prop(into)]
    on_retry: Callback<()>,
) -> impl IntoView {
    let message = messages::for_error(&error);
    view! {
        <section class="error" role="alert">
            <h2>{message.title}</h2>
            <p>{message.detail}</p>
            <button class="btn" on:click=move |_| on_retry.run(())>"Try again"</button>
        </section>
    }
}
