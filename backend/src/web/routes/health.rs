//! `/healthz` (the process answers) and `/readyz` (each of its stores answers too).

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::web::state::AppState;

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process answers")))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 when every store answers, 503 otherwise; the body says which is which.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Every store answers: `{\"stores\": {\"sessions\": {\"kind\", \"ok\"}, ...}}`"),
        (status = 503, description = "A store does not answer (named in the body)")))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let (sessions, users) = tokio::join!(state.auth.sessions.ping(), state.auth.users.ping());
    let kinds = state.store_kinds;
    let body = json!({
        "status": if sessions.is_ok() && users.is_ok() { "ok" } else { "unavailable" },
        "stores": {
            "sessions": {"kind": kinds.sessions, "ok": sessions.is_ok()},
            "users": {"kind": kinds.users, "ok": users.is_ok()},
        },
    });
    if sessions.is_ok() && users.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        tracing::error!(sessions = ?sessions.err(), users = ?users.err(), "not ready");
        HttpResponse::ServiceUnavailable().json(body)
    }
}
