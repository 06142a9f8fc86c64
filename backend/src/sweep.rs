//! The periodic clean-up: expired sessions removed (their provider tokens revoked,
//! best effort and bounded) and idle rate-limit entries forgotten.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;

use crate::oauth::{Provider, TokenSet};
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
            let tokens: Vec<(Arc<dyn Provider>, TokenSet)> = removed
                .iter()
                .filter_map(|s| {
                    let provider = state.providers.get(&s.user()?.provider)?.clone();
                    Some((provider, state.sessions.open_tokens(s)?))
                })
                .collect();
            let mut failed = 0;
            for batch in tokens.chunks(REVOKE_CONCURRENCY) {
                let results = futures_util::future::join_all(
                    batch.iter().map(|(p, t)| revoke(p.as_ref(), t)),
                )
                .await;
                failed += results.into_iter().filter(|ok| !ok).count();
            }
            if failed > 0 {
                tracing::warn!(failed, "some expired sessions' tokens could not be revoked");
            }
        }
        Err(e) => tracing::warn!(error = ?e, "expired-session sweep failed"),
    }
    match state
        .sessions
        .audit()
        .forget_older_than(state.audit_retention_days)
        .await
    {
        Ok(n) if n > 0 => tracing::info!(removed = n, "old audit events removed"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = ?e, "audit retention sweep failed"),
    }
    let cutoff = state.sessions.now() - state.audit_retention_days as i64 * 24 * 3600;
    if let Err(e) = state.users.forget_provider_sessions_before(cutoff).await {
        tracing::warn!(error = ?e, "provider session sweep failed");
    }
    state.login_limiter.forget_idle_clients();
    state.callback_limiter.forget_idle_clients();
    state.preauth_limiter.forget_idle_clients();
}

/// Revokes one expired session's tokens, bounded in time; true when it worked.
async fn revoke(provider: &dyn Provider, tokens: &TokenSet) -> bool {
    matches!(
        tokio::time::timeout(REVOKE_TIMEOUT, provider.revoke(tokens)).await,
        Ok(Ok(()))
    )
}
