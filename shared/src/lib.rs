//! Types shared by the SPA and the BFF: the JSON API contract, its error codes and PKCE.
//!
//! This crate has no server or browser framework dependency so that it builds for
//! `wasm32-unknown-unknown` and native alike.

pub mod api;
pub mod error_code;
pub mod pkce;
pub mod return_to;

pub use error_code::ErrorCode;

/// Compares without an early exit, so the time taken says nothing about how much of a
/// guessed secret (a state, a challenge, an id) matched.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
