//! Every route of the app in one place.

use leptos::prelude::*;

use crate::auth::Auth;
use crate::components::header::Header;
use crate::pages::callback::CallbackPage;
use crate::pages::dashboard::DashboardPage;
use crate::pages::home::HomePage;
use crate::pages::not_found::NotFoundPage;
use crate::route::{self, Page};

/// The whole app: auth context, header, and the routed page.
#[component]
pub fn App() -> impl IntoView {
    route::start();
    Auth::provide();
    let page = route::page();
    view! {
        <Header/>
        <main class="container">
            {move || match page.get() {
                Page::Home => view! { <HomePage/> }.into_any(),
                Page::Callback => view! { <CallbackPage/> }.into_any(),
                Page::Dashboard => view! { <DashboardPage/> }.into_any(),
                Page::NotFound => view! { <NotFoundPage/> }.into_any(),
            }}
        </main>
    }
}
