//! A loading indicator with a text label (screen readers announce it).

use leptos::prelude::*;

/// Shown while a request is in flight.
#[component]
pub fn Spinner(
    /// What is being waited for, e.g. "Loading your repositories…".
    label: &'static str,
) -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span>{label}</span>
        </div>
    }
}
