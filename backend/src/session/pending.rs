//! Pending sign-ins: started by `POST /api/auth/login`, consumed exactly once by the
//! callback. The PKCE verifier is sealed and bound to the session and the state.

use shared::constant_time_eq;
use shared::pkce::CodeVerifier;
use shared::return_to::ReturnTo;

use super::{Issued, Modified, Session, SessionData, SessionKey, Sessions};
use crate::crypto::KeyRing;
use crate::providers::{CsrfToken, Nonce};
use crate::store::StoreError;

/// At most this many sign-ins may be pending in one browser (several tabs).
pub const MAX_PENDING: usize = 5;
/// A pending sign-in lives this long (GitHub's codes live ten minutes too).
pub const PENDING_TTL_SECS: i64 = 600;
const VERIFIER: &str = "code_verifier";

/// What `POST /api/auth/login` asks to remember.
pub struct NewLogin {
    pub provider: String,
    pub verifier: CodeVerifier,
    pub nonce: Option<Nonce>,
    pub return_to: ReturnTo,
}

/// Why no pending sign-in could be taken.
#[derive(thiserror::Error, Debug)]
pub enum PendingError {
    /// No sign-in with this state was started in this browser session (or it was used).
    #[error("unknown or already used state")]
    Unknown,
    /// It was started more than [`PENDING_TTL_SECS`] ago.
    #[error("the sign-in attempt expired")]
    Expired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A pending sign-in taken out of its session by the callback.
pub struct TakenLogin {
    /// The session it was taken from (already without it).
    pub session: Session,
    pub provider: String,
    pub verifier: CodeVerifier,
    pub nonce: Option<Nonce>,
    pub return_to: ReturnTo,
}

impl super::PendingLogin {
    /// The owner a verifier is sealed to: the session and the state it was made for.
    fn owner(session: &str, state: &str) -> String {
        format!("{session}/{state}")
    }

    /// The same pending sign-in, its verifier sealed for another session.
    pub(super) fn resealed(mut self, keys: &KeyRing, session: &str, verifier: &str) -> Self {
        self.sealed_verifier = keys.seal(VERIFIER, &Self::owner(session, &self.state), verifier);
        self
    }
}

impl Sessions {
    /// Remembers a new sign-in in `existing` (the browser's session), or in a new
    /// pre-auth session when there is none. Returns the `state` to send to the provider
    /// and, for a new session, its cookie. The oldest pending sign-in makes room when
    /// there are too many.
    pub async fn start_login(
        &self,
        existing: Option<&Session>,
        login: NewLogin,
    ) -> Result<(CsrfToken, Option<Issued>), StoreError> {
        let state = CsrfToken::new_random();
        let now = self.now();
        let pending = |owner: &str| super::PendingLogin {
            state: state.secret().to_owned(),
            sealed_verifier: self.keys.seal(
                VERIFIER,
                &super::PendingLogin::owner(owner, state.secret()),
                login.verifier.secret(),
            ),
            provider: login.provider.clone(),
            nonce: login.nonce.as_ref().map(|n| n.secret().to_owned()),
            return_to: login.return_to.clone(),
            created_at: now,
        };
        if let Some(session) = existing {
            let added = self
                .modify(&session.key, |data, owner| {
                    data.pending
                        .retain(|p| now - p.created_at <= PENDING_TTL_SECS);
                    data.pending.push(pending(owner));
                    // Oldest first, so the oldest attempt makes room.
                    let excess = data.pending.len().saturating_sub(MAX_PENDING);
                    data.pending.drain(..excess);
                    Some(())
                })
                .await?;
            if let Modified::Done(..) = added {
                return Ok((state, None));
            }
            // The session ended meanwhile: start a fresh one below.
        }
        let created = self
            .create_in_place_of(None, |owner| SessionData {
                pending: vec![pending(owner)],
                ..SessionData::default()
            })
            .await?;
        Ok((state, Some(created.issued)))
    }

    /// Takes the pending sign-in with `state` out of the session named by `key`, in one
    /// conditional write: of two concurrent callbacks with the same state, exactly one
    /// gets it. The state is spent even when it turns out to be expired.
    pub async fn take_pending(
        &self,
        key: Option<SessionKey>,
        state: &str,
    ) -> Result<TakenLogin, PendingError> {
        let key = key.ok_or(PendingError::Unknown)?;
        let outcome = self
            .modify(&key, |data, _| {
                let index = data
                    .pending
                    .iter()
                    .position(|p| constant_time_eq(&p.state, state))?;
                Some(data.pending.remove(index))
            })
            .await?;
        let (session, pending) = match outcome {
            Modified::Done(session, pending) => (session, pending),
            Modified::Gone | Modified::Unchanged => return Err(PendingError::Unknown),
        };
        if self.now() - pending.created_at > PENDING_TTL_SECS {
            return Err(PendingError::Expired);
        }
        let verifier = self
            .keys
            .open(
                VERIFIER,
                &super::PendingLogin::owner(&super::owner_of(&session.key), &pending.state),
                &pending.sealed_verifier,
            )
            .ok()
            .and_then(|v| CodeVerifier::parse(v.to_string()).ok())
            .ok_or(PendingError::Unknown)?;
        Ok(TakenLogin {
            session,
            provider: pending.provider,
            verifier,
            nonce: pending.nonce.map(Nonce::new),
            return_to: pending.return_to,
        })
    }

    /// The still-valid pending sign-ins of `session` with their verifiers opened (for
    /// carrying them into the session that replaces it).
    pub(super) fn open_pending(
        &self,
        session: &Session,
    ) -> Vec<(super::PendingLogin, zeroize::Zeroizing<String>)> {
        let now = self.now();
        session
            .data
            .pending
            .iter()
            .filter(|p| now - p.created_at <= PENDING_TTL_SECS)
            .filter_map(|p| {
                let owner = super::PendingLogin::owner(&super::owner_of(&session.key), &p.state);
                let verifier = self.keys.open(VERIFIER, &owner, &p.sealed_verifier).ok()?;
                Some((p.clone(), verifier))
            })
            .collect()
    }
}
