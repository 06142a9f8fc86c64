//! Talking to identity providers: GitHub's OAuth endpoints and REST API.

pub mod error;
pub mod github;
pub mod http;
pub mod secrets;

pub use error::{ProviderError, TokenErrorCode};
pub use github::GitHub;
pub use secrets::{AccessToken, AuthorizationCode, IdToken, RefreshToken, TokenSet};
