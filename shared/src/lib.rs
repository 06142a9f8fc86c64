//! Types shared by the SPA and the BFF: the JSON API contract, its error codes and PKCE.
//!
//! This crate has no server or browser framework dependency so that it builds for
//! `wasm32-unknown-unknown` and native alike.

pub mod api;
pub mod error_code;
pub mod pkce;
pub mod return_to;

pub use error_code::ErrorCode;
