//! The sign-in API: providers, login (start), callback (finish), logout.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use shared::api::{
    AuditKind, CallbackRequest, CallbackResponse, LoginRequest, LoginResponse, LogoutRequest,
    LogoutResponse, ProviderInfo, ProvidersResponse, SessionStatus, SignOutReason,
};
use shared::pkce;
use shared::return_to;

use super::json::{read_json, read_json_or_default};
use crate::error::ApiError;
use crate::oauth::{AllowCheck, AuthorizationCode, AuthorizationResponse, AuthorizeRequest};
use crate::session::{random_token, removal_cookie, session_cookie, NewLogin, SessionKey};
use crate::state::AppState;
use crate::{audit, device};

/// Logout waits at most this long for GitHub to revoke the token; the user is signed out
/// here either way.
const REVOKE_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest `state` or `code` looked at; GitHub's codes are 20 characters.
const MAX_PARAM_LEN: usize = 512;

pub async fn providers(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(ProvidersResponse {
        providers: state
            .providers
            .iter()
            .map(|p| ProviderInfo {
                id: p.id().to_owned(),
                name: p.name().to_owned(),
            })
            .collect(),
        dev_mode: state.dev_mode,
    })
}

#[tracing::instrument(name = "login", skip_all)]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    state.limit(&req, &state.login_limiter).await?;
    let body: LoginRequest = read_json(&req, payload).await?;
    let provider = state
        .providers
        .get(&body.provider)
        .ok_or(ApiError::UnknownProvider)?
        .clone();
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
        state.limit(&req, &state.preauth_limiter).await?;
    }
    let nonce = provider.wants_nonce().then(random_token);
    let (oauth_state, cookie) = state
        .sessions
        .start_login(
            existing.as_ref(),
            NewLogin {
                provider: provider.id().to_owned(),
                verifier: body.code_verifier,
                nonce: nonce.clone(),
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
        authorize_url: provider.authorize_url(&AuthorizeRequest {
            state: &oauth_state,
            code_challenge: &body.code_challenge,
            nonce: nonce.as_deref(),
        }),
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
    let result = finish_sign_in(&req, &state, payload).await;
    crate::metrics::sign_in(result.as_ref().map(|_| ()).map_err(|e| e.code().as_str()));
    if let Err(e) = &result {
        // Rate limiting records its own event.
        if !matches!(e, ApiError::RateLimited { .. }) {
            state
                .record_refusal(&req, AuditKind::SignInFailed, Some(e.code().as_str()))
                .await;
        }
    }
    result
}

/// The callback's work: take the pending sign-in, exchange the code, start the session.
async fn finish_sign_in(
    req: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    state.limit(req, &state.callback_limiter).await?;
    let body: CallbackRequest = read_json(req, payload).await?;
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
    let key = session_cookie(req).and_then(SessionKey::from_cookie_value);
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

    // The provider the sign-in was started with, never one the request names (mix-up
    // defence, RFC 9700 §4.4).
    let provider = state
        .providers
        .get(&taken.provider)
        .ok_or(ApiError::InvalidState)?;
    // RFC 9207: the response must come from the issuer the sign-in went to.
    state
        .providers
        .check_response(provider.as_ref(), &AuthorizationResponse { iss: body.iss })?;
    let signed = provider
        .exchange(code, taken.verifier, taken.nonce.as_deref())
        .await?;
    let who = AllowCheck {
        login: &signed.profile.login,
        provider_user_id: &signed.profile.provider_user_id,
    };
    if !provider.allows(&signed.tokens.access, &who).await? {
        tracing::info!(
            provider = provider.id(),
            "sign-in refused by the allow-list"
        );
        // The token is of no use to anyone now.
        revoke_bounded(provider.revoke(&signed.tokens)).await;
        return Err(ApiError::NotAllowed);
    }
    let user = state
        .users
        .upsert(&signed.profile, state.sessions.now())
        .await?;
    if let Some(sid) = &signed.provider_sid {
        state
            .users
            .link_provider_session(provider.id(), sid, user.id, state.sessions.now())
            .await?;
    }
    let device = device::label(
        req.headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    );
    let (session, cookie) = state
        .sessions
        .sign_in(
            Some(taken.session),
            user.clone(),
            &signed.tokens,
            Some(device.clone()),
            signed.provider_sid,
        )
        .await?;
    tracing::info!(user_id = user.id, "signed in");
    state
        .sessions
        .audit()
        .record(audit::Event {
            user_id: Some(user.id),
            session_id: Some(session.public_id.to_string()),
            client_ip: state.client_ip(req),
            device: Some(device),
            ..audit::Event::new(AuditKind::SignInSucceeded)
        })
        .await;
    Ok(HttpResponse::Ok().cookie(cookie).json(CallbackResponse {
        user,
        return_to: taken.return_to,
    }))
}

/// `GET /api/auth/session`: who is signed in, or `null`. The SPA's start-up check:
/// never 401, so a signed-out visit logs no failed request in the browser.
pub async fn session(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let session = state.sessions.load(&req).await?;
    Ok(HttpResponse::Ok().json(SessionStatus {
        user: session.and_then(|s| s.data.user.clone()),
    }))
}

/// `POST /api/auth/logout`: this session (`{}`), or every session of the person and the
/// whole grant at the provider (`{"everywhere": true}`). Idempotent; 204 either way.
#[tracing::instrument(name = "logout", skip_all)]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body: LogoutRequest = read_json_or_default(&req, payload).await?;
    let mut provider_logout = None;
    if let Some(session) = state.sessions.load(&req).await? {
        let provider = session
            .user()
            .and_then(|u| state.providers.get(&u.provider))
            .cloned();
        let tokens = state.sessions.open_tokens(&session);
        let client_ip = state.client_ip(&req);
        // OpenID Connect: the provider's own session ends too, in the browser.
        if let (Some(provider), Some(tokens)) = (&provider, &tokens) {
            let back_home = format!("{}/", state.public_origin);
            provider_logout = provider.logout_url(tokens, &back_home);
        }
        match (body.everywhere, session.user_id) {
            (true, Some(user_id)) => {
                if let (Some(provider), Some(tokens)) = (&provider, &tokens) {
                    revoke_bounded(provider.revoke_grant(tokens)).await;
                }
                let ended = state
                    .sessions
                    .end_all_for_user(user_id, SignOutReason::Everywhere, client_ip)
                    .await?;
                tracing::info!(user_id, ended = ended.len(), "signed out everywhere");
            }
            _ => {
                if let (Some(provider), Some(tokens)) = (&provider, &tokens) {
                    revoke_bounded(provider.revoke(tokens)).await;
                }
                state
                    .sessions
                    .end(&session, SignOutReason::ItSelf, client_ip)
                    .await?;
                tracing::info!("signed out");
            }
        }
    }
    Ok(match provider_logout {
        Some(url) => HttpResponse::Ok()
            .cookie(removal_cookie())
            .json(LogoutResponse {
                logout_url: url.into(),
            }),
        None => HttpResponse::NoContent().cookie(removal_cookie()).finish(),
    })
}

/// Waits at most [`REVOKE_TIMEOUT`] for a revocation; the person is signed out here
/// whatever the provider answers.
async fn revoke_bounded(
    revocation: impl std::future::Future<Output = Result<(), crate::oauth::ProviderError>>,
) {
    match tokio::time::timeout(REVOKE_TIMEOUT, revocation).await {
        Ok(Ok(())) => tracing::info!("revoked at the provider"),
        Ok(Err(e)) => tracing::warn!(error = ?e, "revocation failed; signing out anyway"),
        Err(_) => tracing::warn!("revocation timed out; signing out anyway"),
    }
}
