//! Talking to identity providers: the provider trait, GitHub's OAuth endpoints and REST
//! API, OpenID Connect, token endpoints in general. Own errors ([`ProviderError`]);
//! nothing here knows about HTTP answers to the browser.

pub mod error;
pub mod github;
pub mod http;
pub mod oidc;
pub mod provider;
pub mod secrets;
pub mod token_endpoint;

pub use error::{ProviderError, TokenErrorCode};
pub use github::GitHub;
pub use provider::{
    discard, Admission, AllowCheck, AuthorizationResponse, AuthorizeRequest, LogoutRequest,
    Provider, Providers, SignIn, REVOKE_TIMEOUT,
};
pub use secrets::{
    AccessToken, AuthorizationCode, CsrfToken, IdToken, Nonce, RefreshToken, TokenSet,
};
