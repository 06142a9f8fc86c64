//! The product's rules about who is signed in, with no HTTP in them: signing in
//! (`sign_in.rs`), every way of signing out (`sign_out.rs`), access re-checks
//! (`access.rs`), usable provider tokens (`tokens.rs`), and who may call an upstream
//! API (`api_access.rs`) with which identity token (`identity.rs`). Each operation has its own
//! error; the web edge maps each to the JSON error shape in one file.

mod access;
mod api_access;
pub mod identity;
mod provider_events;
mod refusals;
mod sign_in;
mod sign_out;
mod tokens;

use std::sync::Arc;

use shared::api::{AuditKind, SignOutReason, User};

pub use self::access::AccessError;
pub use self::api_access::ApiAccess;
pub use self::identity::IdentityTokens;
pub use self::provider_events::{EventError, Handled, DELIVERY_REMEMBER_SECS};
pub use self::sign_in::{Caller, Finished, LoginPlan, SignInError, Started};
pub use self::sign_out::{revoke_bounded, Ending, Revoke, SignOut, REVOKE_TIMEOUT};
pub use self::tokens::{CallError, TokenError, TokenService};

use crate::audit::{Audit, Event};
use crate::providers::{GitHub, Provider as _, Providers};
use crate::session::{Found, Session, SessionKey, Sessions};
use crate::store::{SeenIds, StoreError};
use crate::users::Users;

/// The services, built once at start-up.
pub struct Auth {
    pub sessions: Sessions,
    pub providers: Providers,
    /// GitHub, for what only GitHub offers (repositories, the API proxy, webhooks).
    pub github: Option<Arc<GitHub>>,
    pub users: Users,
    pub audit: Audit,
    pub tokens: TokenService,
    pub sign_out: SignOut,
    /// Ids acted on once (webhook deliveries, logout-token `jti`s).
    pub seen: Arc<dyn SeenIds>,
    /// `MEMBERSHIP_RECHECK_SECS`.
    pub membership_recheck_secs: u64,
    /// How many refusals each session may still have stored.
    pub refusals: refusals::RefusalBudget,
    /// Membership answers for upstream APIs that name GitHub organisations or teams.
    pub api_access: ApiAccess,
    /// Signs identity tokens for upstream APIs; `None` when no API asks for one.
    pub identity: Option<Arc<IdentityTokens>>,
}

impl Auth {
    /// The live session at `key`, if any. One found expired is ended on sight.
    pub async fn current(&self, key: Option<SessionKey>) -> Result<Option<Session>, StoreError> {
        let Some(key) = key else {
            return Ok(None);
        };
        match self.sessions.find(&key).await? {
            Some(Found::Live(session)) => Ok(Some(session)),
            Some(Found::Expired(session)) => {
                // Boxed, as every rare and large branch on the read path is: ending a
                // session may revoke tokens at the provider, and inline its future's
                // space would be carried by every read.
                Box::pin(self.sign_out.end(
                    &session,
                    &Ending::by_server(SignOutReason::Expired, Revoke::Tokens),
                ))
                .await?;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// The live, signed-in session at `key`, its access re-checked when that is due
    /// (which may ask the provider).
    pub async fn signed_in(&self, key: Option<SessionKey>) -> Result<Session, AccessError> {
        match self.current(key).await? {
            Some(session) if session.user().is_some() => {
                self.recheck_if_due(&session).await?;
                Ok(session)
            }
            _ => Err(AccessError::SignedOut),
        }
    }

    /// The signed-in session at `key` when that is known without awaiting anything (the
    /// session cached, live, not due for a touch nor for its access re-check): the path
    /// of nearly every read. `None` means "ask [`Auth::signed_in`]", not "signed out".
    pub fn signed_in_cached(&self, key: &SessionKey) -> Option<Session> {
        let now = self.sessions.now();
        let session = self.sessions.find_cached(key, now)?;
        session.user()?;
        if self.recheck_due(&session, now).is_some() {
            return None;
        }
        Some(session)
    }

    /// GitHub, for a person who signed in with GitHub. A session from another provider
    /// holds that provider's token, which must never be sent to GitHub.
    pub fn github_for(&self, user: &User) -> Option<&Arc<GitHub>> {
        self.github
            .as_ref()
            .filter(|github| github.id() == user.provider)
    }

    /// Records a refused request (CSRF, rate limit, failed sign-in): logged always,
    /// stored only against a signed-in session and a few times per window (see
    /// `refusals.rs`).
    pub async fn record_refusal(
        &self,
        session: Option<&Session>,
        kind: AuditKind,
        reason: Option<&'static str>,
        client_ip: Option<String>,
    ) {
        crate::metrics::refusal(crate::audit::kind_name(kind));
        let event = Event {
            reason,
            user_id: session.and_then(Session::user_id),
            session_id: session.map(|s| s.public_id.to_string()),
            client_ip,
            device: session.and_then(|s| s.data.device.clone()),
            ..Event::new(kind)
        };
        let stored = session.is_some_and(|s| {
            s.user().is_some() && self.refusals.admit(&s.key, self.sessions.now())
        });
        if stored {
            self.audit.record(event).await;
        } else {
            self.audit.log(&event);
        }
    }
}

/// An [`Auth`] over one in-memory store and no providers, for unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::clock::Clock;
    use crate::crypto::KeyRing;
    use crate::session::Lifetimes;
    use crate::store::memory::MemoryStore;

    pub fn auth(store: Arc<MemoryStore>) -> Auth {
        let clock = Clock::default();
        let sessions = Sessions::new(
            store.clone(),
            Arc::new(KeyRing::parse(&KeyRing::generate_key()).unwrap()),
            clock.clone(),
            Lifetimes {
                idle_secs: 3600,
                absolute_secs: 7200,
                cache_entries: 100,
            },
        );
        let providers = Providers::default();
        let audit = Audit::new(store.clone(), clock);
        let sign_out = SignOut::new(sessions.clone(), providers.clone(), audit.clone());
        let tokens = TokenService::new(
            sessions.clone(),
            providers.clone(),
            store.clone(),
            sign_out.clone(),
            300,
            Duration::from_secs(1),
        );
        Auth {
            sessions,
            providers,
            github: None,
            users: Users::new(store.clone()),
            audit,
            tokens,
            sign_out,
            seen: store,
            membership_recheck_secs: 3600,
            refusals: Default::default(),
            api_access: Default::default(),
            identity: None,
        }
    }
}
