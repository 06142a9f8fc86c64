//! Performance marks: when the sign-in buttons and the dashboard are on screen. The page
//! load benchmark (`cargo xtask bench`) reads them from the Performance timeline, and so
//! can any real-user monitoring.

use leptos::prelude::window;

pub const SIGN_IN_READY: &str = "app:sign-in-ready";
pub const DASHBOARD_READY: &str = "app:dashboard-ready";

/// Marks `name` now (once per page load is what readers expect).
pub fn mark(name: &str) {
    if let Some(performance) = window().performance() {
        let _ = performance.mark(name);
    }
}
