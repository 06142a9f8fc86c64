//! Injected misbehaviour: what a test can make each endpoint do instead of answering well.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use futures_util::StreamExt as _;
use serde_json::json;

/// The endpoints that can be made to misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// The code exchange at the token endpoint.
    Token,
    /// The refresh grant at the token endpoint.
    Refresh,
    User,
    Emails,
    Repos,
    /// `/user/orgs`, `/user/teams`, `/user/memberships/orgs/{org}`.
    Orgs,
    Revoke,
    /// `POST /applications/{client_id}/token`: is this token still valid?
    CheckToken,
}

/// A way to misbehave. Faults stay until cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally, but only after this long (provider timeouts).
    Delay(Duration),
    /// Answer with this HTTP status and a GitHub-like JSON message.
    Status(u16),
    /// Answer 200 with a body that is not JSON.
    Garbage,
    /// Token endpoint only: answer HTTP 200 with this OAuth `error` code.
    TokenError(String),
    /// Like `TokenError`, with another HTTP status (GitHub's refresh errors reach some
    /// clients as 400).
    TokenErrorStatus(String, u16),
    /// Answer like GitHub's exhausted rate limit: 403, `x-ratelimit-remaining: 0`.
    RateLimited,
    /// Answer 200 with a JSON-looking body that never ends (chunked, no length), like a
    /// broken or hostile upstream. Tests that the reader stops at its size cap.
    EndlessBody,
}

/// Applies the fault set for `endpoint`, if any: sleeps for a delay and returns `None`
/// (answer normally), or returns the response to send instead.
pub async fn apply(fault: Option<Fault>) -> Option<HttpResponse> {
    match fault? {
        Fault::Delay(d) => {
            tokio::time::sleep(d).await;
            None
        }
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(HttpResponse::build(status).json(json!({"message": "Server Error"})))
        }
        Fault::Garbage => Some(
            HttpResponse::Ok()
                .content_type("application/json")
                .body("<html><body>upstream hiccup {\"access_token\": </body>"),
        ),
        Fault::TokenError(code) => Some(token_error(&code, StatusCode::OK)),
        Fault::TokenErrorStatus(code, status) => Some(token_error(
            &code,
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        )),
        Fault::EndlessBody => {
            let chunk = web::Bytes::from(vec![b'x'; 64 * 1024]);
            let open = futures_util::stream::once(async {
                Ok::<_, actix_web::Error>(web::Bytes::from_static(b"{\"access_token\":\""))
            });
            let endless = futures_util::stream::repeat_with(move || Ok(chunk.clone()));
            Some(
                HttpResponse::Ok()
                    .content_type("application/json")
                    .streaming(open.chain(endless)),
            )
        }
        Fault::RateLimited => Some(
            HttpResponse::Forbidden()
                .insert_header(("x-ratelimit-limit", "5000"))
                .insert_header(("x-ratelimit-remaining", "0"))
                .insert_header(("x-ratelimit-reset", "1900000000"))
                .insert_header(("retry-after", "60"))
                .json(json!({
                    "message": "API rate limit exceeded for user.",
                    "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
                })),
        ),
    }
}

fn token_error(code: &str, status: StatusCode) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "error": code,
        "error_description": "Injected by the emulator.",
        "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors",
    }))
}
