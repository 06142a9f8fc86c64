//! The periodic clean-up: expired sessions removed (their ending recorded and their
//! provider tokens revoked, by `auth::SignOut`), seen ids and old audit events
//! forgotten, idle rate-limit entries dropped.

use std::time::Duration;

use actix_web::web;

use crate::web::state::AppState;

/// How often the sweep runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(300);
/// Sessions removed per store call; a sweep goes on until a batch comes back short.
const BATCH: usize = 500;
/// A sweep stops after this long even if more sessions are due (the next one goes on).
const BUDGET: Duration = Duration::from_secs(60);

/// Runs [`sweep_once`] every [`SWEEP_EVERY`] until the task is aborted.
pub async fn run(state: web::Data<AppState>, audit_retention_days: u64) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tick.tick().await;
        sweep_once(&state, audit_retention_days).await;
    }
}

/// One pass.
pub async fn sweep_once(state: &AppState, audit_retention_days: u64) {
    let auth = &state.auth;
    if let Some(identity) = &auth.identity {
        identity.forget_expired();
    }
    let started = std::time::Instant::now();
    let (mut removed_total, mut failed) = (0, 0);
    loop {
        match auth.sessions.delete_expired(BATCH).await {
            Ok(removed) => {
                removed_total += removed.len();
                failed += auth.sign_out.swept(&removed).await;
                if removed.len() < BATCH {
                    break;
                }
                if started.elapsed() > BUDGET {
                    tracing::info!("sweep stopped at its time budget; the next one goes on");
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(error = ?e, "expired-session sweep failed");
                break;
            }
        }
    }
    if removed_total > 0 {
        tracing::info!(removed = removed_total, "expired sessions removed");
    }
    if failed > 0 {
        tracing::warn!(failed, "some expired sessions' tokens could not be revoked");
    }
    if let Err(e) = auth.seen.forget_sightings(auth.sessions.now()).await {
        tracing::warn!(error = ?e, "forgetting old seen ids failed");
    }
    match auth.audit.forget_older_than(audit_retention_days).await {
        Ok(n) if n > 0 => tracing::info!(removed = n, "old audit events removed"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = ?e, "audit retention sweep failed"),
    }
    state.limits.forget_idle_clients();
}
