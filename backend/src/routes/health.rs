//! `/healthz` (the process answers) and `/readyz` (its stores answer too).

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::state::AppState;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let sessions = state.sessions.ping().await;
    let users = state.users.ping().await;
    match (sessions, users) {
        (Ok(()), Ok(())) => HttpResponse::Ok().json(json!({"status": "ok"})),
        (s, u) => {
            tracing::error!(sessions = ?s.err(), users = ?u.err(), "not ready");
            HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable"}))
        }
    }
}
