//! "Give me a usable access token for this session": the one place that refreshes
//! expiring provider tokens.
//!
//! GitHub's refresh tokens are single use, and using one kills the old access token too,
//! so two refreshes of one session at once sign the person out. Refreshing is therefore
//! a single flight at two levels:
//! - within this process, concurrent requests of one session share one future;
//! - across instances that share the store, one lease per session (an atomic claim with
//!   an expiry longer than the provider timeout). The holder re-reads the session first
//!   and skips the refresh if someone already did it, and writes the successor only if
//!   the tokens it refreshed are still the stored ones (the token generation is the
//!   fence). Everyone else waits, bounded, for the new generation and uses it.
//!
//! The refresh and its write run as a detached task: a client that hangs up halfway
//! cannot lose the successor after GitHub has already rotated.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt, Shared};
use shared::api::SignOutReason;
use tracing::Instrument as _;

use super::sign_out::{revoke_bounded, Ending, Revoke, SignOut};
use crate::providers::{AccessToken, ProviderError, Providers, TokenSet};
use crate::session::{Modified, Session, SessionKey, Sessions};
use crate::store::{RefreshLeases, StoreError};

/// Why no usable token could be had.
#[derive(thiserror::Error, Debug, Clone)]
pub enum TokenError {
    /// The provider refused to renew the sign-in (refresh token expired, reused or
    /// revoked): the session is over and the person must sign in again.
    #[error("the provider refused to renew the sign-in")]
    Expired,
    /// The session no longer exists, or its tokens cannot be opened.
    #[error("the session is gone")]
    Gone,
    /// The provider could not be asked right now; the session and its tokens are kept.
    #[error("the provider could not renew the token right now: {0}")]
    Unavailable(Arc<ProviderError>),
    #[error("a store failed while renewing the token: {0}")]
    Store(Arc<StoreError>),
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        Self::Store(Arc::new(e))
    }
}

/// Why a call made with a session's token failed.
#[derive(thiserror::Error, Debug)]
pub enum CallError {
    /// No usable token (the session ended, or its renewal failed).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The provider refused or failed the call itself.
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl From<StoreError> for CallError {
    fn from(e: StoreError) -> Self {
        Self::Token(e.into())
    }
}

/// A refresh in flight: resolves to the token generation that is now current.
type Flight = Shared<BoxFuture<'static, Result<u64, TokenError>>>;

pub struct TokenService {
    inner: Arc<Inner>,
}

struct Inner {
    sessions: Sessions,
    providers: Providers,
    leases: Arc<dyn RefreshLeases>,
    sign_out: SignOut,
    /// Refresh when the access token expires within this many seconds.
    skew_secs: i64,
    /// How long a lease holds: longer than one provider call can take.
    lease: Duration,
    /// Who this instance is, in lease records.
    owner: String,
    flights: Mutex<HashMap<SessionKey, Flight>>,
}

/// How often a waiting instance looks for the successor another instance is writing.
const POLL: Duration = Duration::from_millis(25);

impl TokenService {
    pub fn new(
        sessions: Sessions,
        providers: Providers,
        leases: Arc<dyn RefreshLeases>,
        sign_out: SignOut,
        skew_secs: u64,
        provider_timeout: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                sessions,
                providers,
                leases,
                sign_out,
                skew_secs: skew_secs as i64,
                lease: provider_timeout + Duration::from_secs(2),
                owner: crate::session::random_token(),
                flights: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Runs `call` with a usable access token of `session`, refreshing first when it is
    /// about to expire. When the provider answers 401 to a token that should still be
    /// valid, the store is read once more (another request may have rotated it) and the
    /// call retried with the newer token; if there is none, the grant is gone and the
    /// session ends.
    pub async fn with_token<T, F, Fut>(&self, session: &Session, call: F) -> Result<T, CallError>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let (token, generation) = self.access_token(session).await?;
        match call(token).await {
            Err(ProviderError::Revoked) => {}
            other => return Ok(other?),
        }
        let sessions = &self.inner.sessions;
        if let Some(current) = sessions.load_fresh(&session.key).await? {
            if let Some(tokens) = sessions.open_tokens(&current) {
                if current.token_generation() != generation {
                    return call(tokens.access).await.map_err(|e| match e {
                        ProviderError::Revoked => TokenError::Gone.into(),
                        other => other.into(),
                    });
                }
            }
        }
        tracing::info!("provider token rejected; ending the session");
        self.inner
            .sign_out
            .end(
                session,
                &Ending::by_server(SignOutReason::RevokedAtProvider, Revoke::Nothing),
            )
            .await?;
        Err(TokenError::Gone.into())
    }

    /// A usable access token of `session` and its generation.
    pub async fn access_token(&self, session: &Session) -> Result<(AccessToken, u64), TokenError> {
        let inner = &self.inner;
        let tokens = inner
            .sessions
            .open_tokens(session)
            .ok_or(TokenError::Gone)?;
        if !inner.needs_refresh(&tokens) {
            return Ok((tokens.access, session.token_generation()));
        }
        let (flight, span) = self.flight(session.key);
        let generation = flight.instrument(span).await?;
        let (current, tokens) = inner.fresh(&session.key).await?;
        debug_assert!(current.token_generation() >= generation);
        Ok((tokens.access, current.token_generation()))
    }

    /// The in-process single flight: joins the refresh of `key` already running here, or
    /// starts one as a detached task. With it comes the span to wait in: the leader's
    /// work runs in a `token_refresh` span marked `leader` (its provider and store calls
    /// its children), a follower waits in one marked `follower`.
    fn flight(&self, key: SessionKey) -> (Flight, tracing::Span) {
        let mut flights = self.inner.flights.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(flight) = flights.get(&key) {
            let span = tracing::info_span!("token_refresh", role = "follower");
            return (flight.clone(), span);
        }
        let inner = self.inner.clone();
        let leader = tracing::info_span!("token_refresh", role = "leader");
        let task = tokio::spawn(
            async move {
                let result = inner.refresh_once(key).await;
                inner
                    .flights
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&key);
                result
            }
            .instrument(leader),
        );
        let flight = async move {
            task.await.unwrap_or_else(|e| {
                Err(TokenError::Unavailable(Arc::new(
                    ProviderError::unavailable(anyhow::anyhow!("the refresh task failed: {e}")),
                )))
            })
        }
        .boxed()
        .shared();
        flights.insert(key, flight.clone());
        (flight, tracing::Span::none())
    }
}

impl Inner {
    /// The session as the store has it now, with its tokens opened; `Gone` when it ended
    /// or its tokens no longer open.
    async fn fresh(&self, key: &SessionKey) -> Result<(Session, TokenSet), TokenError> {
        let session = self
            .sessions
            .load_fresh(key)
            .await?
            .ok_or(TokenError::Gone)?;
        let tokens = self
            .sessions
            .open_tokens(&session)
            .ok_or(TokenError::Gone)?;
        Ok((session, tokens))
    }

    fn needs_refresh(&self, tokens: &TokenSet) -> bool {
        let now = self.sessions.now();
        tokens
            .access_expires_at
            .is_some_and(|expires| expires - now <= self.skew_secs)
    }

    /// One refresh of `key` across every instance sharing the store (see the module doc).
    async fn refresh_once(&self, key: SessionKey) -> Result<u64, TokenError> {
        let clock = self.sessions.clock().clone();
        let store = &self.leases;
        let give_up = clock.now_ms() + 2 * self.lease.as_millis() as i64;
        loop {
            let (session, tokens) = self.fresh(&key).await?;
            if !self.needs_refresh(&tokens) {
                // Someone else (another request, another instance) already did it.
                return Ok(session.token_generation());
            }
            let now_ms = clock.now_ms();
            let until = now_ms + self.lease.as_millis() as i64;
            if crate::store::traced(
                "lease.try",
                store.try_lease(&key, &self.owner, now_ms, until),
            )
            .await?
            {
                let outcome = self.refresh_holding_lease(&key).await;
                if let Err(e) = store.release_lease(&key, &self.owner).await {
                    tracing::warn!(error = ?e, "could not release a refresh lease; it expires by itself");
                }
                return outcome;
            }
            if clock.now_ms() > give_up {
                return Err(TokenError::Unavailable(Arc::new(
                    ProviderError::unavailable(anyhow::anyhow!(
                        "another instance's token refresh did not finish in time"
                    )),
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn refresh_holding_lease(&self, key: &SessionKey) -> Result<u64, TokenError> {
        // Re-read under the lease: the previous holder may have finished just before.
        let (session, tokens) = self.fresh(key).await?;
        if !self.needs_refresh(&tokens) {
            return Ok(session.token_generation());
        }
        let now = self.sessions.now();
        let refresh = match &tokens.refresh {
            Some(refresh) if tokens.refresh_expires_at.is_none_or(|t| t > now) => refresh,
            // Nothing left to renew with: the sign-in is over.
            _ => return self.end(&session).await,
        };
        let user = session.user().ok_or(TokenError::Gone)?;
        let provider = self.providers.get(&user.provider).ok_or(TokenError::Gone)?;
        match provider.refresh(refresh, &user.provider_user_id).await {
            Ok(successor) => {
                // Renew the lease before the write: a slow provider may have let it run
                // out, and nobody else may start a refresh (with the token just spent)
                // while the successor is being stored. The write goes ahead even if
                // someone took the lease meanwhile: these are the only valid tokens, and
                // the generation fence keeps it from overwriting anything newer.
                let now_ms = self.sessions.clock().now_ms();
                let until = now_ms + self.lease.as_millis() as i64;
                if !self
                    .leases
                    .try_lease(key, &self.owner, now_ms, until)
                    .await?
                {
                    tracing::warn!("the refresh lease ran out during the provider call");
                }
                let written = self
                    .sessions
                    .replace_tokens(key, session.token_generation(), &successor)
                    .await?;
                match written {
                    Modified::Done(session, ()) => {
                        tracing::info!("provider token refreshed");
                        crate::metrics::token_refresh("succeeded");
                        Ok(session.token_generation())
                    }
                    // Signed out meanwhile: the successor dies with the session, here
                    // and at the provider.
                    Modified::Gone => {
                        revoke_bounded(provider.as_ref(), &successor, Revoke::Tokens).await;
                        Err(TokenError::Gone)
                    }
                    // Another holder wrote first (our lease had run out): theirs stands.
                    Modified::Unchanged => {
                        let current = self
                            .sessions
                            .load_fresh(key)
                            .await?
                            .ok_or(TokenError::Gone)?;
                        Ok(current.token_generation())
                    }
                }
            }
            Err(ProviderError::TokenRefused(code)) if code.ends_the_grant() => {
                // Before giving up, wait for a successor: a holder whose lease ran out
                // while the provider answered it may be storing one now (then ours was
                // the second use of the token). One lease period bounds its write.
                if let Some(generation) = self.successor_of(key, session.token_generation()).await?
                {
                    return Ok(generation);
                }
                tracing::info!("the provider refused the refresh token; ending the session");
                crate::metrics::token_refresh("refused");
                self.end(&session).await
            }
            Err(e @ ProviderError::InvalidToken(_)) => {
                tracing::warn!(error = ?e, "the provider's refresh answer was refused; ending the session");
                crate::metrics::token_refresh("refused");
                self.end(&session).await
            }
            Err(e) => {
                tracing::warn!(error = ?e, "token refresh failed; keeping the session");
                crate::metrics::token_refresh("failed");
                Err(TokenError::Unavailable(Arc::new(e)))
            }
        }
    }

    /// The generation after `generation` once someone stores it, waiting at most one
    /// lease period; `None` if nobody did.
    async fn successor_of(
        &self,
        key: &SessionKey,
        generation: u64,
    ) -> Result<Option<u64>, TokenError> {
        let clock = self.sessions.clock();
        let give_up = clock.now_ms() + self.lease.as_millis() as i64;
        loop {
            let Some(current) = self.sessions.load_fresh(key).await? else {
                return Err(TokenError::Gone);
            };
            if current.token_generation() != generation {
                return Ok(Some(current.token_generation()));
            }
            if clock.now_ms() >= give_up {
                return Ok(None);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn end(&self, session: &Session) -> Result<u64, TokenError> {
        self.sign_out
            .end(
                session,
                &Ending::by_server(SignOutReason::RenewalRefused, Revoke::Nothing),
            )
            .await?;
        Err(TokenError::Expired)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use shared::api::User;
    use shared::pkce::CodeVerifier;

    use super::*;
    use crate::audit::Audit;
    use crate::clock::Clock;
    use crate::crypto::KeyRing;
    use crate::providers::{
        AuthorizationCode, AuthorizeRequest, Nonce, Provider, RefreshToken, SignIn, TokenErrorCode,
    };
    use crate::session::Lifetimes;
    use crate::store::memory::MemoryStore;

    /// A provider whose refresh tokens are single use (GitHub's): the first refresh is
    /// slow, a second use of the same token is refused.
    struct SlowRotation {
        delay: Duration,
        used: Mutex<Vec<String>>,
        grants: AtomicUsize,
    }

    #[async_trait]
    impl Provider for SlowRotation {
        fn id(&self) -> &str {
            "slow"
        }
        fn name(&self) -> &str {
            "Slow"
        }
        fn authorize_url(&self, _: &AuthorizeRequest<'_>) -> String {
            String::new()
        }
        async fn exchange(
            &self,
            _: AuthorizationCode,
            _: CodeVerifier,
            _: Option<&Nonce>,
        ) -> Result<SignIn, ProviderError> {
            unreachable!()
        }
        async fn refresh(
            &self,
            refresh: &RefreshToken,
            _subject: &str,
        ) -> Result<TokenSet, ProviderError> {
            {
                let mut used = self.used.lock().unwrap();
                if used.iter().any(|t| t == refresh.secret()) {
                    return Err(ProviderError::TokenRefused(TokenErrorCode::BadRefreshToken));
                }
                used.push(refresh.secret().to_owned());
            }
            tokio::time::sleep(self.delay).await;
            let n = self.grants.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(TokenSet {
                access: AccessToken::new(format!("a{n}")),
                access_expires_at: Some(Clock::default().now() + 3600),
                refresh: Some(RefreshToken::new(format!("r{n}"))),
                refresh_expires_at: Some(Clock::default().now() + 86_400),
                id_token: None,
            })
        }
        async fn revoke(&self, _: &TokenSet) -> Result<(), ProviderError> {
            Ok(())
        }
    }

    /// A token service of one instance over the shared `store`.
    fn instance(
        store: &Arc<MemoryStore>,
        keys: &Arc<KeyRing>,
        providers: &Providers,
    ) -> (Sessions, TokenService) {
        let sessions = Sessions::new(
            store.clone(),
            keys.clone(),
            Clock::default(),
            Lifetimes {
                idle_secs: 3600,
                absolute_secs: 86_400,
                cache_entries: 0,
            },
        );
        let audit = Audit::new(store.clone(), Clock::default());
        let sign_out = SignOut::new(sessions.clone(), providers.clone(), audit);
        // A provider timeout of 100 ms: the lease lasts 2.1 s.
        let tokens = TokenService::new(
            sessions.clone(),
            providers.clone(),
            store.clone(),
            sign_out,
            300,
            Duration::from_millis(100),
        );
        (sessions, tokens)
    }

    #[tokio::test]
    async fn a_refresh_slower_than_its_lease_keeps_the_session_and_makes_one_grant() {
        let store = Arc::new(MemoryStore::default());
        let keys = Arc::new(KeyRing::parse(&KeyRing::generate_key()).unwrap());
        let slow = Arc::new(SlowRotation {
            delay: Duration::from_millis(2_600),
            used: Mutex::new(Vec::new()),
            grants: AtomicUsize::new(0),
        });
        let providers = Providers::new(vec![slow.clone()]);
        let (sessions, first) = instance(&store, &keys, &providers);
        let (_, second) = instance(&store, &keys, &providers);
        let person = User {
            id: 1,
            provider: "slow".into(),
            provider_user_id: "1".into(),
            login: "p".into(),
            name: None,
            email: None,
            avatar_url: None,
            profile_url: None,
        };
        let now = Clock::default().now();
        let expiring = TokenSet {
            access: AccessToken::new("a0".into()),
            access_expires_at: Some(now + 60),
            refresh: Some(RefreshToken::new("r0".into())),
            refresh_expires_at: Some(now + 86_400),
            id_token: None,
        };
        let session = sessions
            .sign_in(None, person, &expiring, None, None)
            .await
            .unwrap()
            .session;
        // The first instance starts the refresh; its lease runs out before the provider
        // answers, and the second instance takes over with the token just spent.
        let first_refresh = {
            let session = session.clone();
            tokio::spawn(async move { first.access_token(&session).await.map(|(_, g)| g) })
        };
        tokio::time::sleep(Duration::from_millis(2_300)).await;
        let second_refresh = second.access_token(&session).await.map(|(_, g)| g);
        let first_refresh = first_refresh.await.unwrap();
        assert_eq!(first_refresh.unwrap(), 1);
        assert_eq!(second_refresh.unwrap(), 1, "the second waits for the fence");
        assert_eq!(slow.grants.load(Ordering::SeqCst), 1);
        let kept = sessions.load_fresh(&session.key).await.unwrap();
        assert!(kept.is_some(), "the person is still signed in");
    }
}
