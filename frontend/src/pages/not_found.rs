//! Any path the router does not know.

use leptos::prelude::*;

use crate::route::{Link, Page};

/// "Page not found" with a way home.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <Link to=Page::Home class="btn">"Go to the start page"</Link>
        </section>
    }
}
