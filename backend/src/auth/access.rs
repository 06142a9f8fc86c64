//! Access over time: a person let in by an allow-list (GitHub organisation, team or
//! user list) is checked again, with their own token, at most every
//! `MEMBERSHIP_RECHECK_SECS` while their session is used. Someone removed from the
//! organisation is signed out on their next request after that. OpenID Connect
//! sessions are checked the same way at the provider's userinfo endpoint, so a grant
//! revoked there (or a refresh token no longer honoured) ends the session too.
//!
//! A provider that cannot answer (an outage, or the person's own exhausted rate limit)
//! is forgiven for [`GRACE_CHECKS`] re-check intervals since the last good check; then
//! the session ends (`access_unconfirmed`): access is never assumed forever.

use std::sync::Arc;

use shared::api::{SignOutReason, User};

use super::sign_out::{Ending, Revoke};
use super::tokens::{CallError, TokenError};
use super::Auth;
use crate::providers::{Admission, AllowCheck, Provider};
use crate::session::{Modified, Session};
use crate::store::StoreError;

/// How many re-check intervals may pass without a good check before the session ends.
pub const GRACE_CHECKS: i64 = 2;

/// Why a signed-in session may not go on.
#[derive(thiserror::Error, Debug)]
pub enum AccessError {
    /// Nobody is signed in (no session, or it ended).
    #[error("not signed in")]
    SignedOut,
    /// The provider refused to renew the sign-in: the person must sign in again.
    #[error("the provider refused to renew the sign-in")]
    Expired,
    /// An allow-list no longer lets the person in; the session has ended.
    #[error("an allow-list refused this person")]
    NotAllowed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Auth {
    /// Whether a provider's answer lets `who` in: a login entry lets in only the account
    /// it is tied to, the first one seen with that login (kept in the users store, so
    /// every instance agrees).
    pub(super) async fn admitted(
        &self,
        provider: &str,
        admission: Admission,
        who: &AllowCheck<'_>,
    ) -> Result<bool, StoreError> {
        Ok(match admission {
            Admission::Allowed => true,
            Admission::Refused => false,
            Admission::ByLogin(login) => {
                let owner = self
                    .users
                    .tie_login(provider, &login, who.provider_user_id)
                    .await?;
                if owner != who.provider_user_id {
                    tracing::warn!(
                        provider,
                        login = %login,
                        "an allow-listed login is claimed by another account than the one it is tied to"
                    );
                }
                owner == who.provider_user_id
            }
        })
    }

    /// Asks the provider again when the last check is older than the re-check interval.
    /// A provider that cannot be asked right now does not block the request: the check is
    /// tried again on the next one.
    pub(super) async fn recheck_if_due(&self, session: &Session) -> Result<(), AccessError> {
        let now = self.sessions.now();
        let Some((provider, user, since_good_check)) = self.recheck_due(session, now) else {
            return Ok(());
        };
        // Boxed: the re-check's future holds a provider call and is large; inline, every
        // signed-in request's future would carry (and move) its space.
        Box::pin(self.recheck(session, provider, user, now, since_good_check)).await
    }

    /// Whether `session`'s person is due for a re-check at `now`: then the provider to
    /// ask, the person, and how long it has been since the last good check.
    pub(super) fn recheck_due<'a>(
        &'a self,
        session: &'a Session,
        now: i64,
    ) -> Option<(&'a Arc<dyn Provider>, &'a User, i64)> {
        let user = session.user()?;
        let provider = self.providers.get(&user.provider)?;
        if !provider.rechecks_access() {
            return None;
        }
        let since_good_check = session
            .data
            .membership_checked_at
            .map_or(i64::MAX, |at| now - at);
        (since_good_check >= self.membership_recheck_secs as i64).then_some((
            provider,
            user,
            since_good_check,
        ))
    }

    /// The re-check itself, once it is due.
    async fn recheck(
        &self,
        session: &Session,
        provider: &Arc<dyn Provider>,
        user: &User,
        now: i64,
        since_good_check: i64,
    ) -> Result<(), AccessError> {
        let interval = self.membership_recheck_secs as i64;
        let who = AllowCheck {
            login: &user.login,
            provider_user_id: &user.provider_user_id,
        };
        let verdict = self
            .tokens
            .with_token(session, |access| {
                let who = &who;
                async move { provider.still_allowed(&access, who).await }
            })
            .await;
        let verdict = match verdict {
            Ok(admission) => Ok(self.admitted(provider.id(), admission, &who).await?),
            Err(e) => Err(e),
        };
        match verdict {
            Ok(true) => match self.sessions.confirm_access(&session.key, now).await? {
                Modified::Gone => Err(AccessError::SignedOut),
                _ => Ok(()),
            },
            Ok(false) => {
                tracing::info!(
                    user_id = user.id,
                    "no longer on the allow-list; ending the session"
                );
                self.sign_out
                    .end(
                        session,
                        &Ending::by_server(SignOutReason::NotAllowed, Revoke::Tokens),
                    )
                    .await?;
                Err(AccessError::NotAllowed)
            }
            Err(CallError::Token(TokenError::Gone)) => Err(AccessError::SignedOut),
            Err(CallError::Token(TokenError::Expired)) => Err(AccessError::Expired),
            Err(e) if since_good_check < GRACE_CHECKS * interval => {
                tracing::warn!(error = ?e, "could not re-check the allow-list; trying again later");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(
                    error = ?e,
                    user_id = user.id,
                    "the allow-list could not be re-checked for too long; ending the session"
                );
                self.sign_out
                    .end(
                        session,
                        &Ending::by_server(SignOutReason::AccessUnconfirmed, Revoke::Tokens),
                    )
                    .await?;
                Err(AccessError::Expired)
            }
        }
    }
}
