//! Client-side navigation without a router crate. The address is one signal; the app's
//! pages are one enum ([`Page`]), named by it everywhere a route is meant; links and
//! redirects go through `history.pushState` / `replaceState`, and the back and forward
//! buttons through `popstate`. For three routes a router crate cost about 5% of the
//! `.wasm` (BENCHMARKS.md).

use std::cell::Cell;

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// Every page of the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// `/`: sign in.
    Home,
    /// `/callback`: where the provider sends the browser back.
    Callback,
    /// `/dashboard`: the signed-in person.
    Dashboard,
    /// Any other path.
    NotFound,
}

impl Page {
    /// The page at `path`.
    pub fn from_path(path: &str) -> Self {
        match path {
            "/" => Self::Home,
            "/callback" => Self::Callback,
            "/dashboard" => Self::Dashboard,
            _ => Self::NotFound,
        }
    }

    /// The page's path (the start page for [`Page::NotFound`], which has none).
    pub fn href(self) -> &'static str {
        match self {
            Self::Home | Self::NotFound => "/",
            Self::Callback => "/callback",
            Self::Dashboard => "/dashboard",
        }
    }

    /// The start page, asking to come back to this page after sign-in.
    pub fn after_sign_in(self) -> String {
        format!("/?return_to={}", self.href())
    }
}

thread_local! {
    /// The address signal (browser objects and signals live on the one wasm thread).
    static ADDRESS: Cell<Option<RwSignal<Address>>> = const { Cell::new(None) };
}

/// The path and the query string (`?a=b`, or empty) of the current address.
#[derive(Clone, Debug, PartialEq)]
struct Address {
    path: String,
    search: String,
}

fn read_address() -> Address {
    let location = window().location();
    Address {
        path: location.pathname().unwrap_or_else(|_| "/".into()),
        search: location.search().unwrap_or_default(),
    }
}

fn address() -> RwSignal<Address> {
    ADDRESS
        .with(Cell::get)
        .expect("route::start runs before anything navigates")
}

/// Starts following the address (call once, first thing in the app).
pub fn start() {
    let signal = RwSignal::new(read_address());
    ADDRESS.with(|slot| slot.set(Some(signal)));
    let on_pop = Closure::<dyn Fn()>::new(move || signal.set(read_address()));
    let _ = window().add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
    // Listens for the page's lifetime.
    on_pop.forget();
}

/// The current page (tracked only when the page changes, not the query).
pub fn page() -> Memo<Page> {
    let signal = address();
    Memo::new(move |_| signal.with(|a| Page::from_path(&a.path)))
}

/// The page the browser shows now, read from the address bar (before the app started).
pub fn page_now() -> Page {
    Page::from_path(&read_address().path)
}

/// A parameter of the current query string (tracked).
pub fn query(name: &str) -> Option<String> {
    address().with(|a| {
        web_sys::UrlSearchParams::new_with_str(&a.search)
            .ok()?
            .get(name)
    })
}

/// Goes to `to` (a path on this origin, with a query if any) without reloading. With
/// `replace` the current history entry is replaced rather than a new one added.
pub fn navigate(to: &str, replace: bool) {
    if let Ok(history) = window().history() {
        let _ = if replace {
            history.replace_state_with_url(&JsValue::NULL, "", Some(to))
        } else {
            history.push_state_with_url(&JsValue::NULL, "", Some(to))
        };
    }
    let now = read_address();
    let signal = address();
    // Only a real change notifies: a page whose effect navigates must not wake itself.
    if signal.with_untracked(|current| *current != now) {
        signal.set(now);
    }
}

/// Goes to `page` without reloading (see [`navigate`]).
pub fn go(page: Page, replace: bool) {
    navigate(page.href(), replace);
}

/// An in-app link: a real `<a href>` (so "open in new tab" works) that navigates without
/// a reload on a plain left click.
#[component]
pub fn Link(
    /// Where it goes.
    to: Page,
    /// The `class` attribute.
    #[prop(optional)]
    class: &'static str,
    children: Children,
) -> impl IntoView {
    let href = to.href();
    let on_click = move |event: web_sys::MouseEvent| {
        let modified = event.ctrl_key() || event.meta_key() || event.shift_key() || event.alt_key();
        if event.button() == 0 && !modified {
            event.prevent_default();
            navigate(href, false);
        }
    };
    view! { <a href=href class=class on:click=on_click>{children()}</a> }
}
