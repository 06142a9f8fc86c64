//! The periodic clean-up: expired sessions removed (their provider tokens revoked,
//! best effort and bounded) and idle rate-limit entries forgotten.

use std::time::Duration;

use actix_web::web;
use futures_util::StreamExt as _;

use crate::state::AppState;

/// How often the sweep runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(300);
/// Sessions removed per sweep at most; the rest wait for the next one.
const BATCH: usize = 500;
/// Revocations running at once, and how long each may take.
const REVOKE_CONCURRENCY: usize = 4;
const REVOKE_TIMEOUT: Duration = Duration::from_secs(3);

/// Runs [`sweep_once`] every [`SWEEP_EVERY`] until the task is aborted.
pub async fn run(state: web::Data<AppState>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tick.tick().await;
        sweep_once(&state).await;
    }
}

/// One pass. Tokens of expired sessions are revoked at the provider: a classic OAuth
/// App token never expires at GitHub, so a session that merely timed out here would
/// otherwise leave a live credential behind.
pub async fn sweep_once(state: &AppState) {
    match state.sessions.delete_expired(BATCH).await {
        Ok(removed) => {
            if !removed.is_empty() {
                tracing::info!(removed = removed.len(), "expired sessions removed");
            }
            let tokens: Vec<_> = removed
                .iter()
                .filter_map(|s| state.sessions.open_tokens(s))
                .collect();
            let revoked = futures_util::stream::iter(tokens)
                .map(|t| async move {
                    matches!(
                        tokio::time::timeout(REVOKE_TIMEOUT, state.github.revoke(&t.access)).await,
                        Ok(Ok(()))
                    )
                })
                .buffer_unordered(REVOKE_CONCURRENCY)
                .filter(|ok| std::future::ready(!ok))
                .count()
                .await;
            if revoked > 0 {
                tracing::warn!(
                    failed = revoked,
                    "some expired sessions' tokens could not be revoked"
                );
            }
        }
        Err(e) => tracing::warn!(error = ?e, "expired-session sweep failed"),
    }
    state.login_limiter.forget_idle_clients();
    state.callback_limiter.forget_idle_clients();
    state.preauth_limiter.forget_idle_clients();
}
