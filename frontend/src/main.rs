//! Entry point: replaces the page's static shell with the app, mounted on `<body>`.

mod api;
mod app;
mod auth;
mod components;
mod fetch;
mod format;
mod marks;
mod messages;
mod pages;
mod route;

/// The element of `index.html` shown while this module loads.
const SHELL_ID: &str = "shell";

fn main() {
    // Removed and mounted in the same task: no frame shows neither.
    if let Some(shell) = leptos::prelude::document().get_element_by_id(SHELL_ID) {
        shell.remove();
    }
    leptos::mount::mount_to_body(app::App);
}
