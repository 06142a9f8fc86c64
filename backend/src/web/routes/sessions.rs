//! Sessions people can see and end: `GET /api/me/sessions`, `DELETE
//! /api/me/sessions/{id}` and `GET /api/me/activity`.

use actix_web::{web, HttpResponse};
use shared::api::{DeviceSession, SignOutReason};
use shared::constant_time_eq;

use crate::auth::{Ending, Revoke};
use crate::web::cookie::removal_cookie;
use crate::web::error::ApiError;
use crate::web::extract::{ClientIp, SignedIn};
use crate::web::state::AppState;

/// Shown when a session has no device label (made before labels existed).
const UNKNOWN_DEVICE: &str = "Unknown browser";

/// The person's live sessions, newest first, the caller's own marked `current`.
#[utoipa::path(get, path = "/api/me/sessions", tag = "session", security(("session" = [])),
    responses(
        (status = 200, description = "Every session of the person, newest first", body = Vec<shared::api::DeviceSession>),
        (status = 401, description = "`unauthenticated`", body = shared::api::ErrorBody)))]
pub async fn list(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let sessions = state.auth.sessions.list_for(signed_in.user()).await?;
    let list: Vec<DeviceSession> = sessions
        .iter()
        .map(|s| DeviceSession {
            id: s.public_id.to_string(),
            device: s
                .data
                .device
                .clone()
                .unwrap_or_else(|| UNKNOWN_DEVICE.to_owned()),
            signed_in_at: s.created_at,
            // To the minute: the exact second of someone's last request is nobody's
            // business, not even the list's.
            last_seen_at: s.last_seen - s.last_seen.rem_euclid(60),
            current: s.key == signed_in.session.key,
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

/// Ends one session of the caller's. Another person's id and an unknown one get the same
/// 404, so ids cannot be probed. Ending one's own current session is a sign-out.
#[utoipa::path(delete, path = "/api/me/sessions/{id}", tag = "session", security(("session" = [])),
    params(("id" = String, Path, description = "A session's public id (from `GET /api/me/sessions`)")),
    responses(
        (status = 204, description = "That session ended at once (its token revoked)"),
        (status = 401, description = "`unauthenticated`", body = shared::api::ErrorBody),
        (status = 403, description = "`csrf_failed`", body = shared::api::ErrorBody),
        (status = 404, description = "`not_found` (unknown, or someone else's: the same answer)", body = shared::api::ErrorBody)))]
#[tracing::instrument(name = "end_session", skip_all)]
pub async fn end(
    signed_in: SignedIn,
    state: web::Data<AppState>,
    client_ip: ClientIp,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let auth = &state.auth;
    let target = auth
        .sessions
        .list_for(signed_in.user())
        .await?
        .into_iter()
        .find(|s| constant_time_eq(&s.public_id, &id))
        .ok_or(ApiError::NotFound)?;
    let itself = target.key == signed_in.session.key;
    let ending = Ending {
        reason: if itself {
            SignOutReason::ItSelf
        } else {
            SignOutReason::FromAnotherDevice
        },
        revoke: Revoke::Tokens,
        client_ip: client_ip.0,
    };
    if itself {
        auth.sign_out.end(&target, &ending).await?;
        return Ok(HttpResponse::NoContent().cookie(removal_cookie()).finish());
    }
    auth.sign_out
        .end_other(&signed_in.session, &target, &ending)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The person's last security events, newest first.
#[utoipa::path(get, path = "/api/me/activity", tag = "session", security(("session" = [])),
    responses(
        (status = 200, description = "The person's last 50 security events, newest first", body = Vec<shared::api::AuditEvent>),
        (status = 401, description = "`unauthenticated`", body = shared::api::ErrorBody)))]
pub async fn activity(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let events = state.auth.audit.recent(signed_in.user().id).await?;
    Ok(HttpResponse::Ok().json(events))
}
