//! Every way a session ends goes through [`SignOut`]: the person signing out (here,
//! everywhere, or another device of theirs), a provider saying so (webhook, back-channel
//! logout, a refused token), an allow-list re-check, and expiry. One place deletes the
//! session, revokes its provider tokens within one time bound, and records the one
//! audit event.

use shared::api::{AuditKind, SignOutReason, User};

use crate::audit::{Audit, Event};
use crate::providers::{Provider, ProviderError, Providers, TokenSet};
use crate::session::{Session, Sessions};
use crate::store::StoreError;

pub use crate::providers::REVOKE_TIMEOUT;
/// Sessions one person may have at once; signing in once more ends the oldest.
pub const SESSIONS_PER_PERSON: usize = 50;
/// Revocations of swept sessions running at once.
const REVOKE_CONCURRENCY: usize = 4;

/// What happens to the provider tokens of a session that ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revoke {
    /// Nothing: the provider already knows (it said so, or the tokens are dead).
    Nothing,
    /// This session's tokens.
    Tokens,
    /// The person's whole grant to this app (every token, every session's).
    Grant,
}

/// Why a session ends, and who ended it.
#[derive(Clone, Debug)]
pub struct Ending {
    pub reason: SignOutReason,
    pub revoke: Revoke,
    /// The address of whoever ended it, when a request did.
    pub client_ip: Option<String>,
}

impl Ending {
    /// Ended by the server or a provider, not by a request of the person.
    pub fn by_server(reason: SignOutReason, revoke: Revoke) -> Self {
        Self {
            reason,
            revoke,
            client_ip: None,
        }
    }
}

#[derive(Clone)]
pub struct SignOut {
    sessions: Sessions,
    providers: Providers,
    audit: Audit,
}

impl SignOut {
    pub fn new(sessions: Sessions, providers: Providers, audit: Audit) -> Self {
        Self {
            sessions,
            providers,
            audit,
        }
    }

    /// Ends `session` for `ending`. True when it still existed (ending is idempotent: a
    /// second call records nothing and revokes nothing).
    pub async fn end(&self, session: &Session, ending: &Ending) -> Result<bool, StoreError> {
        self.revoke(session, ending.revoke).await;
        let existed = self.sessions.delete(&session.key).await?;
        if existed {
            self.record(session, ending).await;
        }
        Ok(existed)
    }

    /// Ends `target`, another session of the person signed in at `actor`, and records
    /// that `actor` ended it.
    pub async fn end_other(
        &self,
        actor: &Session,
        target: &Session,
        ending: &Ending,
    ) -> Result<(), StoreError> {
        self.end(target, ending).await?;
        self.audit
            .record(Event {
                user_id: actor.user_id(),
                session_id: Some(target.public_id.to_string()),
                client_ip: ending.client_ip.clone(),
                device: actor.data.device.clone(),
                ..Event::new(AuditKind::SessionEnded)
            })
            .await;
        Ok(())
    }

    /// Ends every session of `user`. A [`Revoke::Grant`] is asked once, with the tokens
    /// of `current`, where the provider's grant covers every session's tokens (GitHub);
    /// elsewhere each session's tokens are revoked on their own.
    pub async fn end_everywhere(
        &self,
        current: &Session,
        user: &User,
        ending: &Ending,
    ) -> Result<usize, StoreError> {
        let whole_grant = self
            .providers
            .get(&user.provider)
            .is_some_and(|p| p.revokes_whole_grant());
        let each = match ending.revoke {
            Revoke::Grant if whole_grant => {
                self.revoke(current, Revoke::Grant).await;
                Revoke::Nothing
            }
            Revoke::Grant => Revoke::Tokens,
            other => other,
        };
        let each = Ending {
            revoke: each,
            ..ending.clone()
        };
        let ended = self.sessions.delete_all_for(user).await?;
        for session in &ended {
            self.revoke(session, each.revoke).await;
            self.record(session, &each).await;
        }
        Ok(ended.len())
    }

    /// Ends the oldest sessions of `user` past [`SESSIONS_PER_PERSON`] (after a sign-in).
    /// `counted` is their number when the sign-in's own write counted them.
    pub async fn keep_within_limit(
        &self,
        user: &User,
        counted: Option<usize>,
    ) -> Result<usize, StoreError> {
        // Nearly always within it: a count is one cheap read (or none), a listing reads
        // them all.
        let count = match counted {
            Some(count) => count,
            None => self.sessions.count_for(user).await?,
        };
        if count <= SESSIONS_PER_PERSON {
            return Ok(0);
        }
        let sessions = self.sessions.list_for(user).await?;
        let ending = Ending::by_server(SignOutReason::TooManySessions, Revoke::Tokens);
        let too_many = sessions.into_iter().skip(SESSIONS_PER_PERSON).collect();
        self.end_each(too_many, &ending).await
    }

    /// Ends every session of the person `provider` knows as `subject`.
    pub async fn end_person(
        &self,
        provider: &str,
        subject: &str,
        ending: &Ending,
    ) -> Result<usize, StoreError> {
        let sessions = self.sessions.list_for_person(provider, subject).await?;
        self.end_each(sessions, ending).await
    }

    /// Ends every session made in the provider's own session `sid` (OpenID Connect), of
    /// the person `provider` knows as `subject` when that is given.
    pub async fn end_provider_session(
        &self,
        provider: &str,
        sid: &str,
        subject: Option<&str>,
        ending: &Ending,
    ) -> Result<usize, StoreError> {
        let mut sessions = self.sessions.with_provider_sid(provider, sid).await?;
        if let Some(subject) = subject {
            sessions.retain(|s| s.user().is_some_and(|u| u.provider_user_id == subject));
        }
        self.end_each(sessions, ending).await
    }

    async fn end_each(&self, sessions: Vec<Session>, ending: &Ending) -> Result<usize, StoreError> {
        let mut ended = 0;
        for session in &sessions {
            ended += usize::from(self.end(session, ending).await?);
        }
        Ok(ended)
    }

    /// `old`, a signed-in session, was replaced at sign-in by a session of `by` (signing
    /// in again in the same browser): its tokens are of no use to anyone now. When `by`
    /// is someone else, the old person's session ending is recorded too.
    pub async fn replaced(&self, old: &Session, by: &User) {
        let Some(user) = old.user() else {
            return;
        };
        self.revoke(old, Revoke::Tokens).await;
        if user.provider != by.provider || user.provider_user_id != by.provider_user_id {
            let ending = Ending::by_server(SignOutReason::SwitchedAccount, Revoke::Tokens);
            self.record(old, &ending).await;
        }
    }

    /// The sweep removed `expired` already: records each ending and revokes their tokens
    /// (a classic OAuth App token never expires at GitHub, so a session that merely timed
    /// out here would otherwise leave a live credential behind). Returns how many
    /// revocations failed.
    pub async fn swept(&self, expired: &[Session]) -> usize {
        let ending = Ending::by_server(SignOutReason::Expired, Revoke::Tokens);
        for session in expired {
            self.record(session, &ending).await;
        }
        let mut failed = 0;
        for batch in expired.chunks(REVOKE_CONCURRENCY) {
            let results = futures_util::future::join_all(
                batch.iter().map(|s| self.revoke(s, Revoke::Tokens)),
            )
            .await;
            failed += results.into_iter().filter(|ok| !ok).count();
        }
        failed
    }

    /// Revokes `session`'s tokens as `revoke` says, bounded by [`REVOKE_TIMEOUT`]. True
    /// when it worked or there was nothing to do.
    async fn revoke(&self, session: &Session, revoke: Revoke) -> bool {
        if revoke == Revoke::Nothing {
            return true;
        }
        let Some(user) = session.user() else {
            return true;
        };
        let (Some(provider), Some(tokens)) = (
            self.providers.get(&user.provider),
            self.sessions.open_tokens(session),
        ) else {
            return true;
        };
        revoke_bounded(provider.as_ref(), &tokens, revoke).await
    }

    /// Records that `session` ended, if someone was signed in there.
    async fn record(&self, session: &Session, ending: &Ending) {
        let Some(user_id) = session.user_id() else {
            return;
        };
        self.audit
            .record(Event {
                reason: Some(ending.reason.as_str()),
                user_id: Some(user_id),
                session_id: Some(session.public_id.to_string()),
                client_ip: ending.client_ip.clone(),
                device: session.data.device.clone(),
                ..Event::new(AuditKind::SignedOut)
            })
            .await;
    }
}

/// Revokes `tokens` (or the whole grant) at `provider`, waiting at most
/// [`REVOKE_TIMEOUT`]. True when the provider confirmed it.
pub async fn revoke_bounded(provider: &dyn Provider, tokens: &TokenSet, revoke: Revoke) -> bool {
    let revocation = async {
        match revoke {
            Revoke::Nothing => Ok(()),
            Revoke::Tokens => provider.revoke(tokens).await,
            Revoke::Grant => provider.revoke_grant(tokens).await,
        }
    };
    let outcome: Result<Result<(), ProviderError>, _> =
        tokio::time::timeout(REVOKE_TIMEOUT, revocation).await;
    match outcome {
        Ok(Ok(())) => {
            tracing::info!("revoked at the provider");
            true
        }
        Ok(Err(e)) => {
            tracing::warn!(error = ?e, "revocation failed; the session ends here anyway");
            false
        }
        Err(_) => {
            tracing::warn!("revocation timed out; the session ends here anyway");
            false
        }
    }
}
