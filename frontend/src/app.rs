//! Every route of the app in one place.

use leptos::prelude::*;

use crate::auth::Auth;
use crate::components::header::Header;
use crate::pages::callback::CallbackPage;
use crate::pages::dashboard::DashboardPage;
use crate::pages::home::HomePage;
use crate::pages::not_found::NotFoundPage;
use crate::route;

/// The whole app: auth context, header, and the routed page.
#[component]
pub fn App() -> impl IntoView {
    route::start();
    Auth::provide();
    let path = route::path();
    view! {
        <Header/>
        <main class="container">
            {move || match path.get().as_str() {
                "/" => view! { <HomePage/> }.into_any(),
                "/callback" => view! { <CallbackPage/> }.into_any(),
                "/dashboard" => view! { <DashboardPage/> }.into_any(),
                _ => view! { <NotFoundPage/> }.into_any(),
            }}
        </main>
    }
}
