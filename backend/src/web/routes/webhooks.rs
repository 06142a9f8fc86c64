//! `POST /api/webhooks/github`: GitHub telling us something happened, above all that a
//! person revoked the app (`github_app_authorization`, `action: "revoked"`), which ends
//! the sessions of theirs whose tokens GitHub reports dead, on every instance sharing
//! the store (`auth::provider_events`).
//!
//! No browser calls this, so the CSRF rule does not apply; the signature is the check:
//! `X-Hub-Signature-256` is verified in constant time over the raw body before anything
//! is parsed. A delivery already acted on is answered 200 without acting again.

use actix_web::{web, HttpRequest, HttpResponse};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use serde::Deserialize;
use sha2::Sha256;

use crate::auth::Handled;
use crate::web::body::read_capped;
use crate::web::error::ApiError;
use crate::web::state::AppState;

/// Largest delivery read (GitHub caps payloads at 25 MB; the events we act on are tiny).
/// Declared with the route (`web/mod.rs`).
pub const MAX_DELIVERY: usize = 1024 * 1024;

#[derive(Deserialize)]
struct AppAuthorization {
    action: String,
    sender: Sender,
}

#[derive(Deserialize)]
struct Sender {
    id: i64,
}

#[utoipa::path(post, path = "/api/webhooks/github", tag = "server to server",
    params(("X-Hub-Signature-256" = String, Header, description = "`sha256=` HMAC of the body with `GITHUB_WEBHOOK_SECRET`"),
           ("X-GitHub-Delivery" = String, Header, description = "The delivery's id")),
    request_body(content = String, content_type = "application/json", description = "GitHub's event"),
    responses(
        (status = 204, description = "Acted on (or an event not acted on)"),
        (status = 200, description = "A delivery acted on before"),
        (status = 400, description = "`invalid_request`", body = shared::api::ErrorBody),
        (status = 401, description = "`unauthenticated` (signature)", body = shared::api::ErrorBody),
        (status = 404, description = "`not_found` (no secret set)", body = shared::api::ErrorBody),
        (status = 413, description = "`payload_too_large`", body = shared::api::ErrorBody),
        (status = 503, description = "`provider_unavailable` (GitHub could not confirm a revocation; it redelivers)", body = shared::api::ErrorBody)))]
#[tracing::instrument(name = "webhook", skip_all)]
pub async fn github(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Some(secret) = state.webhook_secret.as_ref() else {
        return Err(ApiError::NotFound);
    };
    let body = read_capped(&req, payload).await?;
    let signature = req
        .headers()
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !signature_is_valid(secret.expose_secret().as_bytes(), &body, signature) {
        tracing::warn!("webhook delivery with a missing or wrong signature refused");
        return Err(ApiError::Unauthenticated);
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
    };
    let delivery = header("x-github-delivery")
        .ok_or_else(|| ApiError::InvalidRequest("X-GitHub-Delivery is required.".into()))?;
    let event = header("x-github-event").unwrap_or("");
    if event != "github_app_authorization" {
        tracing::debug!(event, "webhook event not acted on");
        return Ok(HttpResponse::NoContent().finish());
    }
    let event: AppAuthorization = serde_json::from_slice(&body).map_err(|e| {
        ApiError::InvalidRequest(format!(
            "The delivery is malformed (line {}, column {}).",
            e.line(),
            e.column()
        ))
    })?;
    if event.action != "revoked" {
        return Ok(HttpResponse::NoContent().finish());
    }
    match state
        .auth
        .revoked_at_github(delivery, event.sender.id)
        .await?
    {
        Handled::SeenBefore => {
            tracing::info!(delivery, "webhook delivery acted on before; nothing done");
            Ok(HttpResponse::Ok().finish())
        }
        Handled::Acted { ended } => {
            tracing::info!(
                github_id = event.sender.id,
                ended,
                "grant revoked at GitHub; sessions with dead tokens ended"
            );
            Ok(HttpResponse::NoContent().finish())
        }
    }
}

/// `sha256=` + hex HMAC-SHA256 of the raw body, compared in constant time.
fn signature_is_valid(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_documented_signature_verifies_and_nothing_else_does() {
        let body = b"Hello, World!";
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let secret = b"It's a Secret to Everybody";
        assert!(signature_is_valid(secret, body, Some(good)));
        assert!(!signature_is_valid(b"another secret", body, Some(good)));
        assert!(!signature_is_valid(secret, b"Hello, World?", Some(good)));
        assert!(!signature_is_valid(secret, body, None));
        assert!(!signature_is_valid(secret, body, Some(&good[7..])));
        assert!(!signature_is_valid(secret, body, Some("sha256=zz")));
        assert!(!signature_is_valid(
            secret,
            body,
            Some(&good.replace("sha256", "sha1"))
        ));
    }
}
