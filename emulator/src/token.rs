//! `POST /login/oauth/access_token`: code exchange with GitHub's HTTP-200 error bodies.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::faults::{self, Endpoint};
use crate::state::{EmulatorState, Grant, ACCESS_TTL, REFRESH_TTL};

#[derive(Deserialize, Default)]
struct TokenRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

#[derive(Serialize, Default)]
struct TokenAnswer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token_expires_in: Option<u64>,
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
            error: Some(code),
            error_description: Some(description),
            ..TokenAnswer::default()
        },
    )
}

/// The success answer for `grant`: with `expires_in` and a refresh token when the app's
/// tokens expire, without both otherwise (the two shapes GitHub answers with).
fn granted(req: &HttpRequest, grant: &Grant, scope: &str) -> HttpResponse {
    let expiring = grant.refresh.is_some();
    answer(
        req,
        &TokenAnswer {
            access_token: Some(&grant.access),
            expires_in: expiring.then_some(ACCESS_TTL.as_secs()),
            refresh_token: grant.refresh.as_deref(),
            refresh_token_expires_in: expiring.then_some(REFRESH_TTL.as_secs()),
            token_type: Some("bearer"),
            scope: Some(scope),
            ..TokenAnswer::default()
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

/// `POST /login/oauth/access_token`: the code exchange, or with
/// `grant_type=refresh_token` the refresh grant (rotation: the refresh token and its
/// access token die, a new pair is issued).
pub async fn exchange(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    body: web::Bytes,
) -> HttpResponse {
    let form = parse(&req, &body);
    let refreshing = form
        .as_ref()
        .is_some_and(|f| f.grant_type.as_deref() == Some("refresh_token"));
    let endpoint = if refreshing {
        Endpoint::Refresh
    } else {
        Endpoint::Token
    };
    if let Some(response) = faults::apply(state.fault(endpoint)).await {
        return response;
    }
    let Some(form) = form else {
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
    if refreshing {
        return match form
            .refresh_token
            .as_deref()
            .and_then(|r| state.use_refresh(r))
        {
            Some(grant) => granted(&req, &grant, ""),
            None => error(
                &req,
                "bad_refresh_token",
                "The refresh token passed is incorrect or expired.",
            ),
        };
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
    let grant = state.issue_grant(issued.login);
    // GitHub Apps answer an empty scope; OAuth Apps the granted scopes, comma separated.
    let scope = if app.expiring_tokens {
        String::new()
    } else {
        issued.scope.replace(' ', ",")
    };
    granted(&req, &grant, &scope)
}
