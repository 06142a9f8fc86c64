//! Small building blocks shared by the pages.

pub mod activity;
pub mod devices;
pub mod error_panel;
pub mod header;
pub mod signed_in_only;
pub mod spinner;
pub mod your_api;
