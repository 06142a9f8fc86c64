//! `GET/POST /login/oauth/authorize`: the consent page and the decision that redirects back.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::fixtures;
use crate::html::{consent_page, error_page, ConsentForm};
use crate::state::{EmulatorState, IssuedCode};

/// The authorize query (GET) and form (POST) share these fields.
#[derive(Deserialize)]
pub struct AuthorizeParams {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    state: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    login: Option<String>,
    decision: Option<String>,
}

/// The checked request: where to send the browser back to, and the PKCE challenge.
struct Checked {
    redirect_uri: String,
    challenge: Option<String>,
}

/// Checks the client and redirect URI. Errors render a page and never redirect: sending a
/// browser to an unregistered URI is exactly what an attacker would want.
fn check(state: &EmulatorState, p: &AuthorizeParams) -> Result<Checked, &'static str> {
    let app = &state.app;
    match p.client_id.as_deref() {
        Some(id) if id == app.client_id => {}
        _ => return Err("The client_id is not registered with this application."),
    }
    let redirect_uri = match p.redirect_uri.as_deref() {
        None | Some("") => app.callback_url.clone(),
        Some(uri) if uri == app.callback_url => uri.to_owned(),
        Some(_) => {
            return Err(
                "The redirect_uri MUST match the registered callback URL for this application.",
            )
        }
    };
    let challenge = match (
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref(),
    ) {
        (None, None) => None,
        (Some(c), None | Some("S256")) if c.len() == 43 => Some(c.to_owned()),
        (Some(_), None | Some("S256")) => {
            return Err("code_challenge must be a base64url SHA-256 digest.")
        }
        (_, Some(_)) => {
            return Err("code_challenge_method is not supported: only S256 is allowed.")
        }
    };
    Ok(Checked {
        redirect_uri,
        challenge,
    })
}

pub async fn show(
    state: web::Data<EmulatorState>,
    params: Result<web::Query<AuthorizeParams>, actix_web::Error>,
) -> HttpResponse {
    let Ok(web::Query(p)) = params else {
        return error_page("The authorization request is malformed.");
    };
    let checked = match check(&state, &p) {
        Ok(c) => c,
        Err(message) => return error_page(message),
    };
    let challenge_method = if checked.challenge.is_some() {
        "S256"
    } else {
        ""
    };
    let hidden = [
        ("client_id", state.app.client_id.as_str()),
        ("redirect_uri", checked.redirect_uri.as_str()),
        ("scope", p.scope.as_str()),
        ("state", p.state.as_str()),
        ("code_challenge", checked.challenge.as_deref().unwrap_or("")),
        ("code_challenge_method", challenge_method),
    ];
    consent_page(&ConsentForm {
        app_name: &state.app.name,
        hidden: &hidden,
        scopes: &p.scope,
        suggested_login: p.login.as_deref(),
    })
}

pub async fn decide(
    state: web::Data<EmulatorState>,
    form: Result<web::Form<AuthorizeParams>, actix_web::Error>,
) -> HttpResponse {
    let Ok(web::Form(mut p)) = form else {
        return error_page("The authorization form is malformed.");
    };
    // The form posts empty strings for an absent challenge; treat them as absent.
    if p.code_challenge.as_deref() == Some("") {
        p.code_challenge = None;
    }
    if p.code_challenge_method.as_deref() == Some("") {
        p.code_challenge_method = None;
    }
    let checked = match check(&state, &p) {
        Ok(c) => c,
        Err(message) => return error_page(message),
    };
    let mut target = match url::Url::parse(&checked.redirect_uri) {
        Ok(u) => u,
        Err(_) => return error_page("The registered callback URL is not a URL."),
    };
    match p.decision.as_deref() {
        Some("approve") => {
            let Some(user) = p.login.as_deref().and_then(fixtures::find) else {
                return error_page("Choose a user to sign in as.");
            };
            let code = state.issue_code(IssuedCode {
                client_id: state.app.client_id.clone(),
                redirect_uri: checked.redirect_uri.clone(),
                code_challenge: checked.challenge,
                login: user.login,
                scope: p.scope.clone(),
                issued_at: state.now(),
            });
            target
                .query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &p.state);
        }
        Some("deny") => {
            target
                .query_pairs_mut()
                .append_pair("error", "access_denied")
                .append_pair(
                    "error_description",
                    "The user has denied your application access.",
                )
                .append_pair(
                    "error_uri",
                    "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied",
                )
                .append_pair("state", &p.state);
        }
        _ => return error_page("The decision must be approve or deny."),
    }
    HttpResponse::Found()
        .insert_header(("location", target.as_str()))
        .finish()
}
