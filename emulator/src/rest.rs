//! The REST API subset: `/user`, `/user/emails`, `/user/repos`, token revocation.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use crate::faults::{self, Endpoint};
use crate::fixtures::{self, FixtureUser};
use crate::state::EmulatorState;

const DOCS: &str = "https://docs.github.com/rest";

fn with_rate_headers(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header(("x-ratelimit-limit", "5000"))
        .insert_header(("x-ratelimit-remaining", "4999"))
        .insert_header(("x-ratelimit-reset", "1900000000"))
        .insert_header(("x-github-media-type", "github.v3; format=json"));
    builder
}

fn bad_credentials() -> HttpResponse {
    HttpResponse::Unauthorized()
        .json(json!({"message": "Bad credentials", "documentation_url": DOCS}))
}

/// Common preamble: injected fault, User-Agent rule, bearer token -> fixture user.
async fn authenticate(
    req: &HttpRequest,
    state: &EmulatorState,
    endpoint: Endpoint,
) -> Result<&'static FixtureUser, HttpResponse> {
    if let Some(response) = faults::apply(state.fault(endpoint)).await {
        return Err(response);
    }
    if !req.headers().contains_key(header::USER_AGENT) {
        return Err(HttpResponse::Forbidden().json(json!({
            "message": "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.",
            "documentation_url": DOCS,
        })));
    }
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("token "))
        })
        .ok_or_else(|| {
            HttpResponse::Unauthorized()
                .json(json!({"message": "Requires authentication", "documentation_url": DOCS}))
        })?;
    state
        .token_owner(token)
        .and_then(fixtures::find)
        .ok_or_else(bad_credentials)
}

pub async fn user(req: HttpRequest, state: web::Data<EmulatorState>) -> HttpResponse {
    match authenticate(&req, &state, Endpoint::User).await {
        Ok(user) => {
            with_rate_headers(HttpResponse::Ok()).json(fixtures::user_json(user, &state.base_url))
        }
        Err(response) => response,
    }
}

pub async fn emails(req: HttpRequest, state: web::Data<EmulatorState>) -> HttpResponse {
    match authenticate(&req, &state, Endpoint::Emails).await {
        Ok(user) => with_rate_headers(HttpResponse::Ok()).json(fixtures::emails_json(user)),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub struct ReposQuery {
    per_page: Option<usize>,
}

pub async fn repos(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    query: Option<web::Query<ReposQuery>>,
) -> HttpResponse {
    let per_page = query.and_then(|q| q.per_page).unwrap_or(30).clamp(1, 100);
    match authenticate(&req, &state, Endpoint::Repos).await {
        Ok(user) => with_rate_headers(HttpResponse::Ok()).json(fixtures::repos_json(
            user,
            &state.base_url,
            per_page,
        )),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub struct RevokeBody {
    access_token: String,
}

/// `DELETE /applications/{client_id}/token` with Basic `client_id:client_secret`.
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(response) = faults::apply(state.fault(Endpoint::Revoke)).await {
        return response;
    }
    let app = &state.app;
    let expected = format!("{}:{}", app.client_id, app.client_secret);
    let authorized = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .is_some_and(|raw| raw == expected.as_bytes());
    if !authorized || path.into_inner() != app.client_id {
        return HttpResponse::NotFound()
            .json(json!({"message": "Not Found", "documentation_url": DOCS}));
    }
    let Ok(body) = serde_json::from_slice::<RevokeBody>(&body) else {
        return HttpResponse::UnprocessableEntity()
            .json(json!({"message": "Invalid request.", "documentation_url": DOCS}));
    };
    if state.revoke(&body.access_token) {
        HttpResponse::NoContent().finish()
    } else {
        HttpResponse::NotFound().json(json!({"message": "Not Found", "documentation_url": DOCS}))
    }
}
