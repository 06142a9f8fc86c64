//! `POST /login/oauth/access_token`: code exchange with GitHub's HTTP-200 error bodies.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::faults::{self, Endpoint};
use crate::state::EmulatorState;

#[derive(Deserialize, Default)]
struct TokenRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

#[derive(Serialize)]
struct TokenAnswer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<&'a str>,
}

fn error(req: &HttpRequest, code: &str, description: &str) -> HttpResponse {
    answer(
        req,
        &TokenAnswer {
            access_token: None,
            token_type: None,
            scope: None,
            error: Some(code),
            error_description: Some(description),
        },
    )
}

/// GitHub answers JSON only when asked (`Accept: application/json`), form-encoded otherwise,
/// and always with HTTP 200.
fn answer(req: &HttpRequest, body: &TokenAnswer<'_>) -> HttpResponse {
    let wants_json = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if wants_json {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::Ok()
            .content_type("application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(body).unwrap_or_default())
    }
}

/// Reads the body as JSON or form, whichever the content type says.
fn parse(req: &HttpRequest, body: &[u8]) -> Option<TokenRequest> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        serde_json::from_slice(body).ok()
    } else {
        serde_urlencoded::from_bytes(body).ok()
    }
}

pub async fn exchange(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(response) = faults::apply(state.fault(Endpoint::Token)).await {
        return response;
    }
    let Some(form) = parse(&req, &body) else {
        return HttpResponse::BadRequest().json(json!({"message": "Problems parsing request"}));
    };
    let app = &state.app;
    let secret_ok = form.client_secret.as_deref() == Some(app.client_secret.as_str());
    if form.client_id.as_deref() != Some(app.client_id.as_str()) || !secret_ok {
        return error(
            &req,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    let bad_code = || {
        error(
            &req,
            "bad_verification_code",
            "The code passed is incorrect or expired.",
        )
    };
    let Some(issued) = form.code.as_deref().and_then(|c| state.take_code(c)) else {
        return bad_code();
    };
    if issued.client_id != app.client_id {
        return bad_code();
    }
    if let Some(uri) = form.redirect_uri.as_deref() {
        if uri != issued.redirect_uri {
            return error(
                &req,
                "redirect_uri_mismatch",
                "The redirect_uri MUST match the registered callback URL for this application.",
            );
        }
    }
    if let Some(challenge) = issued.code_challenge.as_deref() {
        let verified = form.code_verifier.as_deref().is_some_and(|v| {
            shared::pkce::validate(v).is_ok() && shared::pkce::verify_s256(v, challenge)
        });
        if !verified {
            return bad_code();
        }
    }
    let token = state.issue_token(issued.login);
    let scope = issued.scope.replace(' ', ",");
    answer(
        &req,
        &TokenAnswer {
            access_token: Some(&token),
            token_type: Some("bearer"),
            scope: Some(&scope),
            error: None,
            error_description: None,
        },
    )
}
