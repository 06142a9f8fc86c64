//! The sign-in API: providers, login (start), callback (finish), logout.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use shared::api::{
    CallbackRequest, CallbackResponse, LoginRequest, LoginResponse, ProviderInfo,
    ProvidersResponse, GITHUB,
};
use shared::pkce::{self, CodeVerifier};
use shared::return_to;

use super::json::read_json;
use crate::error::ApiError;
use crate::oauth::{AccessToken, AuthorizationCode};
use crate::session::{
    random_token, removal_cookie, PendingLogin, SessionData, MAX_PENDING, PENDING_TTL_SECS,
};
use crate::state::AppState;

/// Logout waits at most this long for GitHub to revoke the token; the user is signed out
/// here either way.
const REVOKE_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest `state` or `code` looked at; GitHub's codes are 20 characters.
const MAX_PARAM_LEN: usize = 512;
const VERIFIER_PURPOSE: &str = "code_verifier";
const TOKEN_PURPOSE: &str = "access_token";

pub async fn providers(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(ProvidersResponse {
        providers: vec![ProviderInfo {
            id: GITHUB.to_owned(),
            name: "GitHub".to_owned(),
        }],
        dev_mode: state.dev_mode,
    })
}

#[tracing::instrument(name = "login", skip_all)]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    state.login_limiter.check(&req)?;
    let body: LoginRequest = read_json(payload).await?;
    if body.provider != GITHUB {
        return Err(ApiError::UnknownProvider);
    }
    if body.code_challenge_method != pkce::S256 {
        return Err(ApiError::InvalidRequest(
            "code_challenge_method must be S256.".into(),
        ));
    }
    pkce::validate(body.code_verifier.secret())
        .map_err(|e| ApiError::InvalidRequest(format!("{e}.")))?;
    if !pkce::verify_s256(body.code_verifier.secret(), &body.code_challenge) {
        return Err(ApiError::InvalidRequest(
            "code_challenge is not the S256 challenge of code_verifier.".into(),
        ));
    }
    let now = state.sessions.now();
    let oauth_state = random_token();
    let pending = PendingLogin {
        state: oauth_state.clone(),
        sealed_verifier: state
            .keys
            .seal(VERIFIER_PURPOSE, body.code_verifier.secret()),
        provider: GITHUB.to_owned(),
        return_to: return_to::sanitize(body.return_to.as_deref()),
        created_at: now,
    };
    let mut response = HttpResponse::Ok();
    match state.sessions.load(&req).await? {
        Some(mut session) => {
            let pending_logins = &mut Arc::make_mut(&mut session.data).pending;
            pending_logins.retain(|p| now - p.created_at <= PENDING_TTL_SECS);
            pending_logins.push(pending);
            // Oldest first, so the oldest attempt makes room.
            let excess = pending_logins.len().saturating_sub(MAX_PENDING);
            pending_logins.drain(..excess);
            state.sessions.save(&session).await?;
        }
        None => {
            let data = SessionData {
                pending: vec![pending],
                ..SessionData::default()
            };
            let (_, cookie) = state.sessions.create(data).await?;
            response.cookie(cookie);
        }
    }
    tracing::info!("sign-in started");
    Ok(response.json(LoginResponse {
        authorize_url: state
            .github
            .authorize_url(&oauth_state, &body.code_challenge),
    }))
}

/// A value from the redirect: present, not empty, printable ASCII, not absurdly long.
fn param(value: Option<String>, name: &str) -> Result<String, ApiError> {
    match value {
        Some(v)
            if !v.is_empty()
                && v.len() <= MAX_PARAM_LEN
                && v.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(v)
        }
        Some(_) => Err(ApiError::InvalidRequest(format!("{name} is malformed."))),
        None => Err(ApiError::InvalidRequest(format!("{name} is required."))),
    }
}

/// Compares without an early exit, so timing says nothing about how much of a guessed
/// state matched.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[tracing::instrument(name = "callback", skip_all)]
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    state.callback_limiter.check(&req)?;
    let body: CallbackRequest = read_json(payload).await?;
    let oauth_state = param(body.state, "state")?;
    let outcome = match (body.code, body.error) {
        (Some(code), None) => Ok(AuthorizationCode::new(param(Some(code), "code")?)),
        (None, Some(error)) => Err(param(Some(error), "error")?),
        _ => {
            return Err(ApiError::InvalidRequest(
                "Exactly one of code and error is required.".into(),
            ))
        }
    };

    // The state must belong to a sign-in started in this very browser session.
    let mut session = state
        .sessions
        .load(&req)
        .await?
        .ok_or(ApiError::InvalidState)?;
    let index = session
        .data
        .pending
        .iter()
        .position(|p| same(&p.state, &oauth_state))
        .ok_or(ApiError::InvalidState)?;
    let pending = Arc::make_mut(&mut session.data).pending.remove(index);
    // Single use: the state is gone before anything else can fail.
    state.sessions.save(&session).await?;
    let now = state.sessions.now();
    if now - pending.created_at > PENDING_TTL_SECS {
        return Err(ApiError::StateExpired);
    }
    let code = match outcome {
        Ok(code) => code,
        Err(error) if error == "access_denied" => return Err(ApiError::AccessDenied),
        Err(_) => {
            return Err(ApiError::ProviderError(
                "GitHub reported an authorization error".into(),
            ))
        }
    };

    let verifier = state
        .keys
        .open(VERIFIER_PURPOSE, &pending.sealed_verifier)
        .map_err(|e| {
            ApiError::Internal(anyhow::anyhow!(e).context("Failed to open the stored verifier"))
        })
        .and_then(|v| CodeVerifier::parse(v).map_err(|_| ApiError::InvalidState))?;
    let token = state.github.exchange(code, verifier).await?;
    let profile = state.github.profile(&token).await.map_err(|e| match e {
        ApiError::Unauthenticated => {
            ApiError::ProviderError("GitHub rejected a token it just issued".into())
        }
        other => other,
    })?;
    let user = state.users.upsert(&profile, now).await?;

    // Renew the session id at the privilege change (session fixation defence).
    state.sessions.delete(&session.key).await?;
    let data = SessionData {
        user: Some(user.clone()),
        sealed_token: Some(state.keys.seal(TOKEN_PURPOSE, token.secret())),
        pending: std::mem::take(&mut Arc::make_mut(&mut session.data).pending),
    };
    let (_, cookie) = state.sessions.create(data).await?;
    tracing::info!(user_id = user.id, "signed in");
    Ok(HttpResponse::Ok().cookie(cookie).json(CallbackResponse {
        user,
        return_to: pending.return_to,
    }))
}

#[tracing::instrument(name = "logout", skip_all)]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(session) = state.sessions.load(&req).await? {
        let token = session
            .data
            .sealed_token
            .as_deref()
            .and_then(|sealed| state.keys.open(TOKEN_PURPOSE, sealed).ok())
            .map(AccessToken::new);
        if let Some(token) = token {
            match tokio::time::timeout(REVOKE_TIMEOUT, state.github.revoke(&token)).await {
                Ok(Ok(())) => tracing::info!("token revoked at the provider"),
                Ok(Err(e)) => {
                    tracing::warn!(error = ?e, "token revocation failed; signing out anyway")
                }
                Err(_) => tracing::warn!("token revocation timed out; signing out anyway"),
            }
        }
        state.sessions.delete(&session.key).await?;
        tracing::info!("signed out");
    }
    Ok(HttpResponse::NoContent().cookie(removal_cookie()).finish())
}
