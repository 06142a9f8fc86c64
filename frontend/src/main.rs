//! Entry point: mounts the app on `<body>`.

mod api;
mod app;
mod auth;
mod components;
mod format;
mod messages;
mod pages;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
