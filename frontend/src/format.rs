//! Times and events as people read them.

use shared::api::{AuditEvent, AuditKind};
use shared::ErrorCode;

use crate::messages;

/// A Unix time in the browser's own time zone and language ("27/11/2026, 18:04:00").
pub fn local_time(unix_secs: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_secs as f64 * 1000.0));
    String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}

/// One audit event as a sentence.
pub fn activity_sentence(event: &AuditEvent) -> String {
    let on = event
        .device
        .as_deref()
        .map(|d| format!(" on {d}"))
        .unwrap_or_default();
    let reason = event.reason.as_deref().unwrap_or("");
    match event.kind {
        AuditKind::SignInSucceeded => format!("Signed in{on}"),
        AuditKind::SignInFailed => {
            let why = serde_json::from_value::<ErrorCode>(serde_json::Value::String(reason.into()))
                .map(|code| messages::for_code(code).title)
                .unwrap_or("it did not go through");
            format!("A sign-in failed: {why}")
        }
        AuditKind::SignedOut => match reason {
            "self" => format!("Signed out{on}"),
            "everywhere" => format!("Signed out everywhere{on}"),
            "from_another_device" => format!("Signed out{on} from another device"),
            "expired" => format!("Session{on} expired"),
            "revoked_at_provider" => format!("Signed out{on}: access was revoked at the provider"),
            "renewal_refused" => format!("Signed out{on}: the provider asked to sign in again"),
            "provider_logout" => format!("Signed out{on} by the identity provider"),
            "not_allowed" => format!("Signed out{on}: the account is no longer on the allow-list"),
            "access_unconfirmed" => {
                format!("Signed out{on}: your access could not be confirmed for too long")
            }
            "switched_account" => format!("Signed out{on}: another account signed in here"),
            "too_many_sessions" => format!("Signed out{on}: too many sessions, the oldest ends"),
            _ => format!("Signed out{on}"),
        },
        AuditKind::SessionEnded => format!("Ended another session{on}"),
        AuditKind::CsrfRefused => "Blocked a request that did not come from this app".into(),
        AuditKind::RateLimited => "Slowed down too many sign-in attempts".into(),
    }
}
