//! Talking to a token endpoint (RFC 6749 §3.2): code exchange and refresh, for GitHub and
//! OpenID Connect providers alike.
//!
//! GitHub reports token errors with HTTP 200 and some clients see them as 400: the body
//! is read whatever the status, and an `error` field is an error wherever it appears.

use crate::providers::http::SendTraced as _;
use anyhow::anyhow;
use reqwest::{Client, StatusCode};
use serde::Deserialize;
use url::Url;

use super::error::{ProviderError, TokenErrorCode};
use super::http::{parse_json, read_body, transport};
use super::{AccessToken, IdToken, RefreshToken, TokenSet};

#[derive(Deserialize)]
struct Answer {
    access_token: Option<String>,
    /// Seconds; absent (or 0) when the token does not expire.
    expires_in: Option<i64>,
    refresh_token: Option<String>,
    /// GitHub's addition: seconds until the refresh token expires.
    refresh_token_expires_in: Option<i64>,
    id_token: Option<String>,
    error: Option<String>,
}

/// How the client proves who it is (RFC 6749 §2.3.1).
pub enum ClientAuth<'a> {
    /// `client_id` and `client_secret` in the form (GitHub's way).
    Form { id: &'a str, secret: &'a str },
    /// HTTP Basic (`client_secret_basic`, the OpenID Connect default).
    Basic { id: &'a str, secret: &'a str },
}

/// POSTs a token request and turns the answer into tokens with absolute expiry times
/// (`now` is the current Unix time).
pub async fn request(
    http: &Client,
    url: Url,
    client: ClientAuth<'_>,
    params: &[(&str, &str)],
    now: i64,
    what: &str,
) -> Result<TokenSet, ProviderError> {
    let mut form: Vec<(&str, &str)> = params.to_vec();
    let mut request = http
        .post(url)
        .header(reqwest::header::ACCEPT, "application/json");
    match client {
        ClientAuth::Form { id, secret } => {
            form.push(("client_id", id));
            form.push(("client_secret", secret));
        }
        ClientAuth::Basic { id, secret } => {
            // RFC 6749 §2.3.1: the id and secret are form-encoded before Basic encoding.
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            request = request.basic_auth(enc(id), Some(enc(secret)));
            form.push(("client_id", id));
        }
    }
    let response = request
        .form(&form)
        .send_traced(what)
        .await
        .map_err(|e| transport(e, what))?;
    let status = response.status();
    if status.is_server_error() {
        return Err(ProviderError::unavailable(anyhow!(
            "the provider answered {status} to {what}"
        )));
    }
    let body = read_body(response, what).await?;
    let answer: Answer = match parse_json(&body, what) {
        Ok(answer) => answer,
        Err(_) if status == StatusCode::UNAUTHORIZED => {
            return Err(ProviderError::TokenRefused(
                TokenErrorCode::IncorrectClientCredentials,
            ))
        }
        Err(e) => return Err(e),
    };
    if let Some(error) = answer.error {
        return Err(ProviderError::TokenRefused(TokenErrorCode::parse(&error)));
    }
    match answer.access_token {
        Some(access) if !access.is_empty() && status.is_success() => Ok(TokenSet {
            access: AccessToken::new(access),
            access_expires_at: answer.expires_in.filter(|s| *s > 0).map(|s| now + s),
            refresh_expires_at: answer
                .refresh_token
                .as_ref()
                .and(answer.refresh_token_expires_in)
                .filter(|s| *s > 0)
                .map(|s| now + s),
            refresh: answer
                .refresh_token
                .filter(|r| !r.is_empty())
                .map(RefreshToken::new),
            id_token: answer.id_token.map(IdToken::new),
        }),
        _ if !status.is_success() => Err(ProviderError::Refused(format!("{what} ({status})"))),
        _ => Err(ProviderError::BadAnswer(anyhow!(
            "the answer to {what} has no access_token and no error"
        ))),
    }
}
