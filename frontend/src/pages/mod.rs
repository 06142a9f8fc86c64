//! One module per route.

pub mod callback;
pub mod dashboard;
pub mod home;
pub mod not_found;
