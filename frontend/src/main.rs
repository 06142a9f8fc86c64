//! Entry point: mounts the app on `<body>`.

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

fn main() {
    leptos::mount::mount_to_body(app::App);
}
