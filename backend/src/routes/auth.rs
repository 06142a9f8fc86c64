//! The sign-in API: providers, login (start), callback (finish), logout.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use shared::api::{
    CallbackRequest, CallbackResponse, LoginRequest, LoginResponse, ProviderInfo,
    ProvidersResponse, GITHUB,
};
use shared::pkce;
use shared::return_to;

use super::json::read_json;
use crate::error::ApiError;
use crate::oauth::{AuthorizationCode, ProviderError, TokenSet};
use crate::session::{removal_cookie, session_cookie, NewLogin, SessionKey};
use crate::state::AppState;

/// Logout waits at most this long for GitHub to revoke the token; the user is signed out
/// here either way.
const REVOKE_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest `state` or `code` looked at; GitHub's codes are 20 characters.
const MAX_PARAM_LEN: usize = 512;

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
    let body: LoginRequest = read_json(&req, payload).await?;
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
    let existing = state.sessions.load(&req).await?;
    if existing.is_none() {
        // Each pre-auth session is a row someone else pays for: bound how many one
        // client can make.
        state.preauth_limiter.check(&req)?;
    }
    let (oauth_state, cookie) = state
        .sessions
        .start_login(
            existing.as_ref(),
            NewLogin {
                provider: GITHUB.to_owned(),
                verifier: body.code_verifier,
                nonce: None,
                return_to: return_to::sanitize(body.return_to.as_deref()),
            },
        )
        .await?;
    let mut response = HttpResponse::Ok();
    if let Some(cookie) = cookie {
        response.cookie(cookie);
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

#[tracing::instrument(name = "callback", skip_all)]
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    state.callback_limiter.check(&req)?;
    let body: CallbackRequest = read_json(&req, payload).await?;
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

    // The state must belong to a sign-in started in this very browser session; it is
    // spent before anything else can fail.
    let key = session_cookie(&req).and_then(SessionKey::from_cookie_value);
    let taken = state.sessions.take_pending(key, &oauth_state).await?;
    let code = match outcome {
        Ok(code) => code,
        Err(error) if error == "access_denied" => return Err(ApiError::AccessDenied),
        Err(_) => {
            return Err(ApiError::ProviderError(
                "GitHub reported an authorization error".into(),
            ))
        }
    };

    let token = state.github.exchange(code, taken.verifier).await?;
    let profile = state.github.profile(&token).await.map_err(|e| match e {
        ProviderError::Revoked => {
            ApiError::ProviderError("GitHub rejected a token it just issued".into())
        }
        other => other.into(),
    })?;
    let user = state.users.upsert(&profile, state.sessions.now()).await?;
    let (_, cookie) = state
        .sessions
        .sign_in(
            Some(taken.session),
            user.clone(),
            &TokenSet::access_only(token),
            None,
            None,
        )
        .await?;
    tracing::info!(user_id = user.id, "signed in");
    Ok(HttpResponse::Ok().cookie(cookie).json(CallbackResponse {
        user,
        return_to: taken.return_to,
    }))
}

#[tracing::instrument(name = "logout", skip_all)]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(session) = state.sessions.load(&req).await? {
        if let Some(tokens) = state.sessions.open_tokens(&session) {
            match tokio::time::timeout(REVOKE_TIMEOUT, state.github.revoke(&tokens.access)).await {
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
