//! Talking to identity providers: GitHub's OAuth endpoints and REST API.

pub mod github;
pub mod secrets;

pub use github::GitHub;
pub use secrets::{AccessToken, AuthorizationCode};
