//! Sessions people can see and end: `GET /api/me/sessions`, `DELETE
//! /api/me/sessions/{id}` and `GET /api/me/activity`.

use actix_web::{web, HttpRequest, HttpResponse};
use shared::api::{AuditKind, DeviceSession, SignOutReason};
use shared::constant_time_eq;

use crate::audit;
use crate::error::ApiError;
use crate::session::{removal_cookie, Session, SignedIn};
use crate::state::AppState;

/// Shown when a session has no device label (made before labels existed).
const UNKNOWN_DEVICE: &str = "Unknown browser";

/// The person's live sessions, newest first, the caller's own marked `current`.
pub async fn list(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let sessions = state.sessions.list_for_user(signed_in.user_id()).await?;
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
#[tracing::instrument(name = "end_session", skip_all)]
pub async fn end(
    req: HttpRequest,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let target = state
        .sessions
        .list_for_user(signed_in.user_id())
        .await?
        .into_iter()
        .find(|s| constant_time_eq(&s.public_id, &id))
        .ok_or(ApiError::NotFound)?;
    revoke_tokens(&state, &target).await;
    let client_ip = state.client_ip(&req);
    if target.key == signed_in.session.key {
        state
            .sessions
            .end(&target, SignOutReason::ItSelf, client_ip)
            .await?;
        return Ok(HttpResponse::NoContent().cookie(removal_cookie()).finish());
    }
    state
        .sessions
        .end(&target, SignOutReason::FromAnotherDevice, client_ip.clone())
        .await?;
    state
        .sessions
        .audit()
        .record(audit::Event {
            user_id: Some(signed_in.user_id()),
            session_id: Some(target.public_id.to_string()),
            client_ip,
            device: signed_in.session.data.device.clone(),
            ..audit::Event::new(AuditKind::SessionEnded)
        })
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// The person's last security events, newest first.
pub async fn activity(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let events = state.sessions.audit().recent(signed_in.user_id()).await?;
    Ok(HttpResponse::Ok().json(events))
}

/// An ended session's provider token dies with it (bounded; it ends here either way).
async fn revoke_tokens(state: &AppState, session: &Session) {
    let provider = session
        .user()
        .and_then(|u| state.providers.get(&u.provider));
    if let (Some(provider), Some(tokens)) = (provider, state.sessions.open_tokens(session)) {
        let revoked =
            tokio::time::timeout(std::time::Duration::from_secs(3), provider.revoke(&tokens)).await;
        if !matches!(revoked, Ok(Ok(()))) {
            tracing::warn!("could not revoke an ended session's token; it is ended here anyway");
        }
    }
}
