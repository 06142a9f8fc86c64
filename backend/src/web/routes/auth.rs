//! The sign-in API: providers, login (start), callback (finish), the session check,
//! logout. The rules live in `auth::sign_in` and `auth::sign_out`; this file reads the
//! request and writes the answer.

use actix_web::{web, HttpRequest, HttpResponse};
use shared::api::{
    AuditKind, CallbackRequest, CallbackResponse, LoginRequest, LoginResponse, LogoutRequest,
    LogoutResponse, SessionStatus, SignOutReason,
};

use crate::auth::{Caller, Ending, Revoke};
use crate::device;
use crate::web::body::{read_json, read_json_or_default};
use crate::web::cookie::{removal_cookie, session_cookie_for, session_key};
use crate::web::error::ApiError;
use crate::web::extract::{ClientIp, CurrentSession};
use crate::web::refuse::{self, enforce, enforce_all};
use crate::web::state::AppState;

#[utoipa::path(get, path = "/api/auth/providers", tag = "sign-in",
    responses((status = 200, description = "The sign-in providers, whether this is dev mode, and the prefixes of the APIs behind the BFF", body = shared::api::ProvidersResponse)))]
pub async fn providers(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.providers_answer.clone())
}

#[utoipa::path(post, path = "/api/auth/login", tag = "sign-in", request_body = shared::api::LoginRequest,
    responses(
        (status = 200, description = "Where the browser goes next (the provider's authorize page)", body = shared::api::LoginResponse),
        (status = 400, description = "`invalid_request`, `unknown_provider`", body = shared::api::ErrorBody),
        (status = 403, description = "`csrf_failed`", body = shared::api::ErrorBody),
        (status = 429, description = "`rate_limited` (with `Retry-After`)", body = shared::api::ErrorBody)))]
#[tracing::instrument(name = "login", skip_all)]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let limits = &state.limits;
    // Each pre-auth session is a row someone else pays for: bound how many one client,
    // and all clients together, can hold. Without a session cookie this request makes
    // one for sure, so all three limits are counted at once (one store round trip).
    let cookie = session_key(&req);
    if cookie.is_none() {
        enforce_all(
            &req,
            &state,
            &[&limits.login, &limits.preauth, &limits.preauth_total],
        )
        .await?;
    } else {
        enforce(&req, &state, &limits.login).await?;
    }
    let body: LoginRequest = read_json(&req, payload).await?;
    let plan = state.auth.plan_sign_in(body)?;
    let existing = state.auth.current(cookie).await?;
    if existing.is_none() && cookie.is_some() {
        // The cookie named no live session: a new pre-auth one is made after all.
        enforce_all(&req, &state, &[&limits.preauth, &limits.preauth_total]).await?;
    }
    let started = state.auth.start_sign_in(existing.as_ref(), plan).await?;
    let mut response = HttpResponse::Ok();
    if let Some(issued) = &started.issued {
        response.cookie(session_cookie_for(issued));
    }
    Ok(response.json(LoginResponse {
        authorize_url: started.authorize_url,
    }))
}

#[utoipa::path(post, path = "/api/auth/callback", tag = "sign-in", request_body = shared::api::CallbackRequest,
    responses(
        (status = 200, description = "Signed in: the person and where to go; sets the session cookie", body = shared::api::CallbackResponse),
        (status = 400, description = "`invalid_request`, `invalid_state`, `state_expired`", body = shared::api::ErrorBody),
        (status = 403, description = "`access_denied`, `not_allowed`, `csrf_failed`", body = shared::api::ErrorBody),
        (status = 502, description = "`provider_error` (also a refused ID token or a wrong or missing `iss`)", body = shared::api::ErrorBody),
        (status = 503, description = "`provider_unavailable`", body = shared::api::ErrorBody),
        (status = 504, description = "`provider_unavailable` (timed out)", body = shared::api::ErrorBody)))]
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
            refuse::record(
                &req,
                &state,
                AuditKind::SignInFailed,
                Some(e.code().as_str()),
            )
            .await;
        }
    }
    result
}

/// The callback's work: the rate limit, the body, then `auth::sign_in`.
async fn finish_sign_in(
    req: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    enforce(req, state, &state.limits.callback).await?;
    let body: CallbackRequest = read_json(req, payload).await?;
    let caller = Caller {
        device: device::label(
            req.headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok()),
        ),
        client_ip: ClientIp::of(req, state).0,
    };
    let finished = state
        .auth
        .finish_sign_in(session_key(req), body, caller)
        .await?;
    Ok(HttpResponse::Ok()
        .cookie(session_cookie_for(&finished.issued))
        .json(CallbackResponse {
            user: finished.user,
            return_to: finished.return_to,
        }))
}

/// `GET /api/auth/session`: who is signed in, or `null`. The SPA's start-up check:
/// never 401, so a signed-out visit logs no failed request in the browser.
#[utoipa::path(get, path = "/api/auth/session", tag = "session",
    responses((status = 200, description = "The signed-in person, or `null` (never 401: the SPA's start-up check)", body = shared::api::SessionStatus)))]
pub async fn session(current: CurrentSession) -> HttpResponse {
    HttpResponse::Ok().json(SessionStatus {
        user: current.0.and_then(|s| s.data.user.clone()),
    })
}

/// `POST /api/auth/logout`: this session (`{}`), or every session of the person and the
/// whole grant at the provider (`{"everywhere": true}`). Idempotent; 204 either way.
#[utoipa::path(post, path = "/api/auth/logout", tag = "session", request_body(content = shared::api::LogoutRequest, description = "`{}`, or `{\"everywhere\": true}`"),
    responses(
        (status = 204, description = "Signed out (idempotent)"),
        (status = 200, description = "Signed out; the provider's logout page comes next", body = shared::api::LogoutResponse),
        (status = 403, description = "`csrf_failed`", body = shared::api::ErrorBody)))]
#[tracing::instrument(name = "logout", skip_all)]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentSession,
    client_ip: ClientIp,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body: LogoutRequest = read_json_or_default(&req, payload).await?;
    let mut provider_logout = None;
    if let Some(session) = current.0 {
        let auth = &state.auth;
        // OpenID Connect: the provider's own session ends too, in the browser.
        if let (Some(provider), Some(tokens)) = (
            session.user().and_then(|u| auth.providers.get(&u.provider)),
            auth.sessions.open_tokens(&session),
        ) {
            let back_home = format!("{}/", state.public_origin);
            provider_logout = provider.logout_url(&tokens, &back_home);
        }
        match (body.everywhere, session.user()) {
            (true, Some(user)) => {
                let ending = Ending {
                    reason: SignOutReason::Everywhere,
                    revoke: Revoke::Grant,
                    client_ip: client_ip.0,
                };
                let ended = auth
                    .sign_out
                    .end_everywhere(&session, user, &ending)
                    .await?;
                tracing::info!(user_id = user.id, ended, "signed out everywhere");
            }
            _ => {
                let ending = Ending {
                    reason: SignOutReason::ItSelf,
                    revoke: Revoke::Tokens,
                    client_ip: client_ip.0,
                };
                auth.sign_out.end(&session, &ending).await?;
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
