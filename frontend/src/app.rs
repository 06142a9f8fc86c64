//! The router: every route of the app in one place.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::auth::Auth;
use crate::components::header::Header;
use crate::pages::callback::CallbackPage;
use crate::pages::dashboard::DashboardPage;
use crate::pages::home::HomePage;
use crate::pages::not_found::NotFoundPage;

/// The whole app: auth context, header, and the routed page.
#[component]
pub fn App() -> impl IntoView {
    Auth::provide();
    view! {
        <Router>
            <Header/>
            <main class="container">
                <Routes fallback=|| view! { <NotFoundPage/> }>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=path!("/callback") view=CallbackPage/>
                    <Route path=path!("/dashboard") view=DashboardPage/>
                </Routes>
            </main>
        </Router>
    }
}
