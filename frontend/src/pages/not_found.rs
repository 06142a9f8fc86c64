//! Any path the router does not know.

use leptos::prelude::*;
use leptos_router::components::A;

/// "Page not found" with a way home.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <A href="/" attr:class="btn">"Go to the start page"</A>
        </section>
    }
}
