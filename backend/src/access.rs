//! Access over time: a person let in by an allow-list (GitHub organisation, team or
//! user list) is checked again, with their own token, at most every
//! `MEMBERSHIP_RECHECK_SECS` while their session is used. Someone removed from the
//! organisation is signed out on their next request after that. OpenID Connect
//! sessions are checked the same way at the provider's userinfo endpoint, so a grant
//! revoked there (or a refresh token no longer honoured) ends the session too.

use shared::api::SignOutReason;

use crate::error::ApiError;
use crate::oauth::AllowCheck;
use crate::session::{Modified, Session};
use crate::state::AppState;

/// Asks the provider again when the last check is older than the re-check interval.
/// A provider that cannot be asked right now does not block the request: the check is
/// tried again on the next one.
pub async fn recheck_if_due(state: &AppState, session: &Session) -> Result<(), ApiError> {
    let Some(user) = session.user() else {
        return Ok(());
    };
    let Some(provider) = state.providers.get(&user.provider) else {
        return Ok(());
    };
    if !provider.rechecks_access() {
        return Ok(());
    }
    let now = state.sessions.now();
    let due = session
        .data
        .membership_checked_at
        .is_none_or(|at| now - at >= state.membership_recheck_secs as i64);
    if !due {
        return Ok(());
    }
    let who = AllowCheck {
        login: &user.login,
        provider_user_id: &user.provider_user_id,
    };
    let verdict = state
        .tokens
        .with_token(session, |access| {
            let who = &who;
            async move { provider.still_allowed(&access, who).await }
        })
        .await;
    match verdict {
        Ok(true) => {
            let noted = state
                .sessions
                .modify(&session.key, |data, _| {
                    data.membership_checked_at = Some(now);
                    Some(())
                })
                .await?;
            if let Modified::Gone = noted {
                return Err(ApiError::Unauthenticated);
            }
            Ok(())
        }
        Ok(false) => {
            tracing::info!(
                user_id = user.id,
                "no longer on the allow-list; ending the session"
            );
            state
                .sessions
                .end(session, SignOutReason::NotAllowed, None)
                .await?;
            Err(ApiError::NotAllowed)
        }
        Err(e @ (ApiError::Unauthenticated | ApiError::SessionExpired)) => Err(e),
        Err(e) => {
            tracing::warn!(error = ?e, "could not re-check the allow-list; trying again later");
            Ok(())
        }
    }
}
