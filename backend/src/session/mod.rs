//! The session model: what a session holds, its expiry, and every rule about changing
//! one (pending sign-ins, sign-in, tokens) over the store traits, with an in-process read
//! cache in front. No HTTP here: the web edge reads the cookie and hands over the key;
//! the auth room decides what ending a session means.

mod cache;
mod data;
mod ends;
mod id;
mod pending;

use std::sync::Arc;

use shared::api::User;

pub use self::data::{PendingLogin, SessionData, StoredTokens};
pub use self::ends::{Change, SessionEnds, Watch, CHECK_EVERY};
pub use self::id::{key_from_cookie, public_id, random_token, SessionId};
pub use self::pending::{NewLogin, PendingError, TakenLogin, MAX_PENDING, PENDING_TTL_SECS};
pub use crate::store::SessionKey;

use self::cache::SessionCache;
use crate::clock::Clock;
use crate::crypto::KeyRing;
use crate::providers::{AccessToken, RefreshToken, TokenSet};
use crate::store::{Invalidation, Record, SessionBackend, StoreError, Stores};

/// `last_seen` is written at most this often, so reads are not writes.
const TOUCH_EVERY_SECS: i64 = 60;
/// Conditional writes that lose a race are retried this often before giving up (a
/// browser hammering its own session with writes only slows itself down).
const MAX_RETRIES: u32 = 32;
/// Purposes sealed values are bound to (with the session as owner, see [`owner_of`]).
const ACCESS_TOKEN: &str = "access_token";
const REFRESH_TOKEN: &str = "refresh_token";

/// A loaded session. Cheap to clone: the data is shared with the read cache.
#[derive(Debug, Clone)]
pub struct Session {
    pub key: SessionKey,
    pub public_id: Arc<str>,
    pub data: Arc<SessionData>,
    pub version: i64,
    pub created_at: i64,
    pub last_seen: i64,
    pub expires_at: i64,
}

impl Session {
    pub fn user(&self) -> Option<&User> {
        self.data.user.as_ref()
    }

    /// This product's id of the person signed in, if anyone is.
    pub fn user_id(&self) -> Option<i64> {
        self.user().map(|u| u.id)
    }

    /// Which refresh of the provider tokens this session holds (0 before the first).
    pub fn token_generation(&self) -> u64 {
        self.data.tokens.as_ref().map_or(0, |t| t.generation)
    }

    fn from_record(key: SessionKey, record: Record) -> Result<Self, serde_json::Error> {
        let data: SessionData = serde_json::from_str(&record.data)?;
        Ok(Self {
            key,
            public_id: Arc::from(record.public_id),
            data: Arc::new(data),
            version: record.version,
            created_at: record.created_at,
            last_seen: record.last_seen,
            expires_at: record.expires_at,
        })
    }
}

/// The owner sealed values of the session at `key` are bound to: the store key itself
/// (the hash of the cookie value), which nobody can move to another row without the
/// cookie. A row's other fields (its public id among them) can be copied by whoever
/// writes to the store.
fn owner_of(key: &SessionKey) -> String {
    key.0.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key of "every session of this person" in the store: the provider identity, the
/// same on every instance and in every users database.
pub fn person_of(user: &User) -> String {
    person(&user.provider, &user.provider_user_id)
}

fn person(provider: &str, subject: &str) -> String {
    format!("{provider}:{subject}")
}

/// The key of "every session made in this provider session" (OpenID Connect `sid`).
pub fn provider_session(provider: &str, sid: &str) -> String {
    format!("{provider} {sid}")
}

/// What [`Sessions::find`] found.
pub enum Found {
    Live(Session),
    /// Past one of its timeouts: still stored, for the caller to end.
    Expired(Session),
}

/// The outcome of [`Sessions::modify`].
pub enum Modified<R> {
    /// The session does not exist (any more).
    Gone,
    /// The change function declined; nothing was written.
    Unchanged,
    /// Written; the session as stored now, and what the change function returned.
    Done(Session, R),
}

/// A new session id for the browser: the web edge makes the cookie from it.
#[derive(Debug)]
pub struct Issued {
    pub id: SessionId,
    /// How long the cookie should live (the session's hard deadline).
    pub max_age_secs: i64,
}

/// A session just stored: signed in ([`Sessions::sign_in`]), or for a sign-in's start.
#[derive(Debug)]
pub struct Created {
    pub session: Session,
    pub issued: Issued,
    /// How many sessions the person has now, when the store counted them in the same
    /// write ([`crate::store::SessionRecords::replace`]): the per-person limit that
    /// follows a sign-in then needs no read of its own.
    pub sessions_of_person: Option<usize>,
}

/// Session lifecycle over a [`SessionBackend`].
#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn SessionBackend>,
    cache: Arc<SessionCache>,
    /// Every change, by key, for connections that must close when their session ends.
    ends: SessionEnds,
    keys: Arc<KeyRing>,
    clock: Clock,
    idle_secs: i64,
    absolute_secs: i64,
}

/// How long sessions live, and how many are kept parsed in memory.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    pub idle_secs: u64,
    pub absolute_secs: u64,
    /// 0 turns the in-process read cache off.
    pub cache_entries: usize,
}

impl Sessions {
    pub fn new(
        store: Arc<dyn SessionBackend>,
        keys: Arc<KeyRing>,
        clock: Clock,
        lifetimes: Lifetimes,
    ) -> Self {
        Self {
            store,
            cache: Arc::new(SessionCache::new(lifetimes.cache_entries)),
            ends: SessionEnds::default(),
            keys,
            clock,
            idle_secs: lifetimes.idle_secs as i64,
            absolute_secs: lifetimes.absolute_secs as i64,
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// A watch that returns once the session at `key` ends (see `ends.rs`).
    pub fn watch(&self, key: SessionKey) -> Watch {
        Watch::new(self.clone(), key)
    }

    /// After a write or delete of `key`: the cached copy goes, and watchers look.
    fn changed(&self, key: &SessionKey) {
        self.cache.invalidate(key);
        self.ends.notify(Change::Key(*key));
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn expired(&self, now: i64, session: &Session) -> bool {
        now >= session.expires_at || now - session.last_seen > self.idle_secs
    }

    /// The hard deadline of a session holding `data`: ten minutes after its newest
    /// pending sign-in before sign-in; the absolute lifetime after, never past the
    /// refresh token's expiry (nor the access token's, when there is nothing to renew it).
    fn deadline(&self, created_at: i64, data: &SessionData) -> i64 {
        if data.user.is_none() {
            return data
                .pending
                .iter()
                .map(|p| p.created_at + PENDING_TTL_SECS)
                .max()
                .unwrap_or(created_at);
        }
        let absolute = created_at + self.absolute_secs;
        let token_limit = data.tokens.as_ref().and_then(|t| match &t.refresh {
            Some(_) => t.refresh_expires_at,
            None => t.access_expires_at,
        });
        token_limit.map_or(absolute, |limit| absolute.min(limit))
    }

    /// The live session at `key` when answering needs no await: it is in the cache, not
    /// expired at `now` and not due for a touch. `None` says nothing about the session:
    /// ask [`Sessions::find`], which decides everything else.
    pub fn find_cached(&self, key: &SessionKey, now: i64) -> Option<Session> {
        let cached = self.cache.get(key)?;
        if self.expired(now, &cached) || touch_due(now, &cached) {
            return None;
        }
        crate::metrics::cache_lookup(true);
        Some(cached)
    }

    /// The session at `key`, live or expired (an expired one is left for the caller to
    /// end). A live one's `last_seen` moves forward at most once a minute.
    pub async fn find(&self, key: &SessionKey) -> Result<Option<Found>, StoreError> {
        let now = self.now();
        let session = match self.cache.get(key) {
            // A cached copy that looks expired may only be stale (another instance saw
            // the session since): the store decides.
            Some(cached) if !self.expired(now, &cached) => {
                crate::metrics::cache_lookup(true);
                cached
            }
            _ => {
                crate::metrics::cache_lookup(false);
                let epoch = self.cache.epoch();
                // Boxed (as the touch below): store futures are large, and inline every
                // cached read would carry their space.
                match Box::pin(self.read_store(key)).await? {
                    Some(session) => {
                        self.cache.fill(*key, session.clone(), epoch);
                        session
                    }
                    None => return Ok(None),
                }
            }
        };
        if self.expired(now, &session) {
            return Ok(Some(Found::Expired(session)));
        }
        if touch_due(now, &session) {
            Box::pin(crate::store::traced(
                "session.touch",
                self.store.touch(key, now),
            ))
            .await?;
            self.cache.touched(key, now);
        }
        Ok(Some(Found::Live(session)))
    }

    /// The session as the store has it now (not the cache), if it has not expired. For
    /// decisions another instance may have changed the ground under (token refresh).
    pub async fn load_fresh(&self, key: &SessionKey) -> Result<Option<Session>, StoreError> {
        let session = self.read_store(key).await?;
        let now = self.now();
        Ok(session.filter(|s| !self.expired(now, s)))
    }

    /// Reads the store, bypassing the cache and the expiry check. An unreadable record
    /// (an older format, or corruption) is deleted rather than failing every request
    /// that browser makes.
    async fn read_store(&self, key: &SessionKey) -> Result<Option<Session>, StoreError> {
        let Some(record) = crate::store::traced("session.load", self.store.load(key)).await? else {
            return Ok(None);
        };
        match Session::from_record(*key, record) {
            Ok(session) => Ok(Some(session)),
            Err(e) => {
                // Only the position: serde's message quotes the offending value, which is
                // stored personal data.
                tracing::warn!(
                    line = e.line(),
                    column = e.column(),
                    "discarding an unreadable session"
                );
                self.delete(key).await?;
                Ok(None)
            }
        }
    }

    /// The record that stores `data` (its indexes derived from it).
    fn record(&self, public_id: String, data: &SessionData, created_at: i64) -> Record {
        let user = data.user.as_ref();
        Record {
            public_id,
            person: user.map(person_of),
            provider_sid: user
                .zip(data.provider_sid.as_deref())
                .map(|(user, sid)| provider_session(&user.provider, sid)),
            data: String::new(),
            version: 1,
            created_at,
            last_seen: created_at,
            expires_at: self.deadline(created_at, data),
        }
    }

    /// Stores a brand-new session holding what `make` returns (it gets the new session's
    /// owner, so values bound to the session can be sealed into the data), removing the
    /// session at `previous` in the same store write when there is one.
    async fn create_in_place_of(
        &self,
        previous: Option<&SessionKey>,
        make: impl FnOnce(&str) -> SessionData,
    ) -> Result<Created, StoreError> {
        let id = SessionId::generate();
        let public_id = public_id();
        let data = make(&owner_of(&id.key()));
        let now = self.now();
        let record = Record {
            data: serialize(&data)?,
            ..self.record(public_id, &data, now)
        };
        let sessions_of_person = match previous {
            Some(previous) => {
                let counted = crate::store::traced(
                    "session.replace",
                    self.store.replace(previous, &id.key(), &record),
                )
                .await?;
                self.changed(previous);
                counted
            }
            None => {
                crate::store::traced("session.insert", self.store.insert(&id.key(), &record))
                    .await?;
                None
            }
        };
        let session = Session {
            key: id.key(),
            public_id: Arc::from(record.public_id),
            data: Arc::new(data),
            version: 1,
            created_at: now,
            last_seen: now,
            expires_at: record.expires_at,
        };
        let issued = Issued {
            max_age_secs: (record.expires_at - now).max(0),
            id,
        };
        Ok(Created {
            session,
            issued,
            sessions_of_person,
        })
    }

    /// Applies `change` to the freshest stored copy of the session and writes it back
    /// only if nobody else wrote in between (retrying on a lost race). `change` gets
    /// the data and the session's owner (to seal with), and returns `None` to write
    /// nothing.
    pub async fn modify<R>(
        &self,
        key: &SessionKey,
        mut change: impl FnMut(&mut SessionData, &str) -> Option<R>,
    ) -> Result<Modified<R>, StoreError> {
        for attempt in 0..MAX_RETRIES {
            if attempt > 1 {
                backoff(attempt).await;
            }
            let Some(current) = self.read_store(key).await? else {
                return Ok(Modified::Gone);
            };
            let mut data = SessionData::clone(&current.data);
            let Some(outcome) = change(&mut data, &owner_of(key)) else {
                return Ok(Modified::Unchanged);
            };
            let now = self.now();
            let record = Record {
                data: serialize(&data)?,
                version: current.version + 1,
                last_seen: now.max(current.last_seen),
                ..self.record(current.public_id.to_string(), &data, current.created_at)
            };
            let written = crate::store::traced(
                "session.update",
                self.store.update(key, &record, current.version),
            )
            .await?;
            self.changed(key);
            if written {
                let session = Session {
                    data: Arc::new(data),
                    version: record.version,
                    last_seen: record.last_seen,
                    expires_at: record.expires_at,
                    ..current
                };
                return Ok(Modified::Done(session, outcome));
            }
        }
        Err(StoreError::Unavailable(anyhow::anyhow!(
            "a session kept changing under {MAX_RETRIES} attempts to update it"
        )))
    }

    /// Deletes the session; true if it existed. Ending a session is the auth room's
    /// business (`auth::SignOut`): this only removes it.
    pub async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let existed = crate::store::traced("session.delete", self.store.delete(key)).await?;
        self.changed(key);
        Ok(existed)
    }

    /// Starts a signed-in session for `user` with `tokens`, in place of `previous` (the
    /// pre-auth session, removed in the same write: a new id at the privilege change
    /// defeats session fixation). Sign-ins still pending in the old session move along,
    /// re-sealed for the new one.
    pub async fn sign_in(
        &self,
        previous: Option<&Session>,
        user: User,
        tokens: &TokenSet,
        device: Option<String>,
        provider_sid: Option<String>,
    ) -> Result<Created, StoreError> {
        let carried = previous.map(|p| self.open_pending(p)).unwrap_or_default();
        let now = self.now();
        self.create_in_place_of(previous.map(|p| &p.key), |owner| SessionData {
            user: Some(user),
            tokens: Some(self.seal_tokens(owner, tokens)),
            pending: carried
                .into_iter()
                .map(|(pending, verifier)| pending.resealed(&self.keys, owner, &verifier))
                .collect(),
            device,
            provider_sid,
            membership_checked_at: Some(now),
            ..SessionData::default()
        })
        .await
    }

    /// Stores `successor` in place of the tokens of generation `from`, unless the session
    /// is gone or holds other tokens by now (then nothing is written: `Unchanged`).
    pub async fn replace_tokens(
        &self,
        key: &SessionKey,
        from: u64,
        successor: &TokenSet,
    ) -> Result<Modified<()>, StoreError> {
        self.modify(key, |data, owner| {
            let current = data.tokens.as_ref()?;
            if current.generation != from {
                return None;
            }
            let mut sealed = self.seal_tokens(owner, successor);
            sealed.generation = from + 1;
            data.tokens = Some(sealed);
            Some(())
        })
        .await
    }

    /// Notes that the person's access was confirmed at `now` (allow-list re-check).
    pub async fn confirm_access(
        &self,
        key: &SessionKey,
        now: i64,
    ) -> Result<Modified<()>, StoreError> {
        self.modify(key, |data, _| {
            data.membership_checked_at = Some(now);
            Some(())
        })
        .await
    }

    /// Seals `tokens` for the session `owner` names (generation 0).
    fn seal_tokens(&self, owner: &str, tokens: &TokenSet) -> StoredTokens {
        StoredTokens {
            access: self.keys.seal(ACCESS_TOKEN, owner, tokens.access.secret()),
            access_expires_at: tokens.access_expires_at,
            refresh: tokens
                .refresh
                .as_ref()
                .map(|r| self.keys.seal(REFRESH_TOKEN, owner, r.secret())),
            refresh_expires_at: tokens.refresh_expires_at,
            generation: 0,
        }
    }

    /// The session's provider tokens in plaintext, or `None` when it has none or they
    /// no longer open (the key that sealed them left `TOKEN_KEYS`).
    pub fn open_tokens(&self, session: &Session) -> Option<TokenSet> {
        let stored = session.data.tokens.as_ref()?;
        let owner = &owner_of(&session.key);
        let open = |purpose, sealed: &str| self.keys.open(purpose, owner, sealed).ok();
        Some(TokenSet {
            access: AccessToken::new(open(ACCESS_TOKEN, &stored.access)?.to_string()),
            access_expires_at: stored.access_expires_at,
            refresh: match &stored.refresh {
                Some(sealed) => Some(RefreshToken::new(open(REFRESH_TOKEN, sealed)?.to_string())),
                None => None,
            },
            refresh_expires_at: stored.refresh_expires_at,
            // Checked at sign-in and after each refresh, then not kept: nothing needs it
            // later (RP-initiated logout names the client instead), and a token not kept
            // cannot leak.
            id_token: None,
        })
    }

    /// Every live session of `user`, newest first.
    pub async fn list_for(&self, user: &User) -> Result<Vec<Session>, StoreError> {
        self.list_for_person(&user.provider, &user.provider_user_id)
            .await
    }

    /// How many sessions `user` has, or more (see [`crate::store::SessionIndex::count_for_person`]).
    pub async fn count_for(&self, user: &User) -> Result<usize, StoreError> {
        crate::store::traced(
            "session.count_for_person",
            self.store.count_for_person(&person_of(user)),
        )
        .await
    }

    /// Every live session of the person `provider` knows as `subject`, newest first.
    pub async fn list_for_person(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Vec<Session>, StoreError> {
        let listed = crate::store::traced(
            "session.list_for_person",
            self.store.list_for_person(&person(provider, subject)),
        )
        .await?;
        Ok(self.live(listed))
    }

    /// Deletes every session of `user` in one store operation and returns them (expired
    /// ones too) so their ending can be recorded and their tokens revoked.
    pub async fn delete_all_for(&self, user: &User) -> Result<Vec<Session>, StoreError> {
        let removed = crate::store::traced(
            "session.delete_all_for_person",
            self.store.delete_all_for_person(&person_of(user)),
        )
        .await?;
        Ok(removed
            .into_iter()
            .filter_map(|r| {
                self.changed(&r.key);
                Session::from_record(r.key, r.record).ok()
            })
            .collect())
    }

    /// Every live session made in the provider session `sid` of `provider`.
    pub async fn with_provider_sid(
        &self,
        provider: &str,
        sid: &str,
    ) -> Result<Vec<Session>, StoreError> {
        let found = crate::store::traced(
            "session.with_provider_sid",
            self.store
                .with_provider_sid(&provider_session(provider, sid)),
        )
        .await?;
        Ok(self.live(found))
    }

    /// The readable, unexpired ones among `records`, newest first.
    fn live(&self, records: Vec<(SessionKey, Record)>) -> Vec<Session> {
        let now = self.now();
        let mut sessions: Vec<Session> = records
            .into_iter()
            .filter_map(|(key, record)| Session::from_record(key, record).ok())
            .filter(|s| !self.expired(now, s))
            .collect();
        sessions.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        sessions
    }

    /// Removes sessions past either timeout (at most `limit`), and returns them parsed so
    /// the caller can record their ending and revoke their provider tokens.
    pub async fn delete_expired(&self, limit: usize) -> Result<Vec<Session>, StoreError> {
        let now = self.now();
        let removed = crate::store::traced(
            "session.delete_expired",
            self.store.delete_expired(now, now - self.idle_secs, limit),
        )
        .await?;
        self.cache.retain(|s| !self.expired(now, s));
        Ok(removed
            .into_iter()
            .filter_map(|r| {
                self.changed(&r.key);
                Session::from_record(r.key, r.record).ok()
            })
            .collect())
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }

    /// For a store shared with other instances (Redis): keeps the read cache in step
    /// with their changes (and off while that channel is down), and tells watchers. Returns the listening
    /// task, or `None` when this process is the store's only writer.
    pub fn follow(&self, stores: &Stores) -> Option<tokio::task::JoinHandle<()>> {
        if !stores.shared() {
            return None;
        }
        self.cache.set_active(false);
        let cache = self.cache.clone();
        let ends = self.ends.clone();
        stores.follow_invalidations(move |change| match change {
            Invalidation::Changed(key) => {
                cache.invalidate(&key);
                ends.notify(Change::Key(key));
            }
            Invalidation::Unknown => {
                cache.clear();
                ends.notify(Change::Any);
            }
            Invalidation::Following => {
                cache.clear();
                cache.set_active(true);
                ends.notify(Change::Any);
            }
            Invalidation::Lost => {
                cache.set_active(false);
                cache.clear();
            }
        })
    }
}

/// Whether a live session's `last_seen` is old enough to be moved forward in the store
/// (at most once a minute, so a read is not a write).
fn touch_due(now: i64, session: &Session) -> bool {
    now - session.last_seen >= TOUCH_EVERY_SECS
}

/// A short random pause before retrying a lost race, growing with the attempts, so
/// writers that keep colliding spread out.
async fn backoff(attempt: u32) {
    // Jitter, not a secret: the thread's generator, as for trace ids.
    let step: u64 = rand::random_range(0..=255);
    let micros = step * u64::from(attempt.min(10)) * 4;
    tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
}

fn serialize(data: &SessionData) -> Result<String, StoreError> {
    serde_json::to_string(data).map_err(|e| StoreError::Corrupt(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use std::time::Duration;

    fn sessions(clock: &Clock) -> Sessions {
        Sessions::new(
            Arc::new(MemoryStore::default()),
            Arc::new(KeyRing::parse(&KeyRing::generate_key()).unwrap()),
            clock.clone(),
            Lifetimes {
                idle_secs: 3600,
                absolute_secs: 7200,
                cache_entries: 100,
            },
        )
    }

    fn user() -> User {
        User {
            id: 1,
            provider: "github".into(),
            provider_user_id: "1".into(),
            login: "octocat".into(),
            name: None,
            email: None,
            avatar_url: None,
            profile_url: None,
        }
    }

    async fn live(s: &Sessions, issued: &Issued) -> Option<Session> {
        let key = key_from_cookie(issued.id.secret().as_bytes()).unwrap();
        match s.find(&key).await.unwrap() {
            Some(Found::Live(session)) => Some(session),
            _ => None,
        }
    }

    async fn signed_in(s: &Sessions) -> (Session, Issued) {
        let tokens = TokenSet::access_only(AccessToken::new("gho_x".into()));
        let created = s.sign_in(None, user(), &tokens, None, None).await.unwrap();
        (created.session, created.issued)
    }

    #[tokio::test]
    async fn idle_and_absolute_timeouts_end_a_session() {
        let clock = Clock::default();
        let s = sessions(&clock);
        let (_, issued) = signed_in(&s).await;
        assert!(live(&s, &issued).await.is_some());
        clock.advance(Duration::from_secs(3000));
        assert!(live(&s, &issued).await.is_some(), "activity resets idle");
        clock.advance(Duration::from_secs(3000));
        assert!(live(&s, &issued).await.is_some());
        clock.advance(Duration::from_secs(1300));
        assert!(
            live(&s, &issued).await.is_none(),
            "absolute lifetime passed"
        );

        let (_, idle) = signed_in(&s).await;
        clock.advance(Duration::from_secs(3601));
        assert!(live(&s, &idle).await.is_none(), "idle timeout passed");
    }

    #[tokio::test]
    async fn only_a_cached_live_session_with_nothing_due_is_found_without_the_store() {
        let clock = Clock::default();
        let s = sessions(&clock);
        let (session, issued) = signed_in(&s).await;
        assert!(
            s.find_cached(&session.key, clock.now()).is_none(),
            "not read yet"
        );
        assert!(live(&s, &issued).await.is_some());
        assert!(
            s.find_cached(&session.key, clock.now()).is_some(),
            "cached by the read"
        );

        clock.advance(Duration::from_secs(TOUCH_EVERY_SECS as u64));
        assert!(
            s.find_cached(&session.key, clock.now()).is_none(),
            "a touch is due"
        );
        assert!(live(&s, &issued).await.is_some());
        assert!(
            s.find_cached(&session.key, clock.now()).is_some(),
            "touched"
        );

        clock.advance(Duration::from_secs(3601));
        assert!(
            s.find_cached(&session.key, clock.now()).is_none(),
            "idle timeout passed"
        );
        assert!(live(&s, &issued).await.is_none());

        let (other, issued) = signed_in(&s).await;
        assert!(live(&s, &issued).await.is_some());
        s.delete(&other.key).await.unwrap();
        assert!(s.find_cached(&other.key, clock.now()).is_none(), "ended");
    }

    #[tokio::test]
    async fn a_session_never_outlives_its_refresh_token() {
        let clock = Clock::default();
        let s = sessions(&clock);
        let now = clock.now();
        let tokens = TokenSet {
            access: AccessToken::new("ghu_x".into()),
            access_expires_at: Some(now + 60),
            refresh: Some(RefreshToken::new("ghr_x".into())),
            refresh_expires_at: Some(now + 600),
            id_token: None,
        };
        let session = s
            .sign_in(None, user(), &tokens, None, None)
            .await
            .unwrap()
            .session;
        assert_eq!(session.expires_at, now + 600);
    }

    #[tokio::test]
    async fn tokens_are_sealed_to_their_session() {
        let clock = Clock::default();
        let s = sessions(&clock);
        let (a, _) = signed_in(&s).await;
        let (b, _) = signed_in(&s).await;
        assert_eq!(s.open_tokens(&a).unwrap().access.secret(), "gho_x");
        // a's sealed token copied into b's data does not open there.
        let mut stolen = b.clone();
        stolen.data = a.data.clone();
        assert!(s.open_tokens(&stolen).is_none());
    }

    #[tokio::test]
    async fn a_change_that_races_a_delete_is_not_written() {
        let clock = Clock::default();
        let s = sessions(&clock);
        let (session, _) = signed_in(&s).await;
        s.delete(&session.key).await.unwrap();
        let outcome = s
            .modify(&session.key, |data, _| {
                data.device = Some("x".into());
                Some(())
            })
            .await
            .unwrap();
        assert!(matches!(outcome, Modified::Gone));
        assert!(s.store.load(&session.key).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn sessions_are_indexed_by_person_and_provider_session() {
        let clock = Clock::default();
        let s = sessions(&clock);
        let tokens = TokenSet::access_only(AccessToken::new("x".into()));
        let a = s
            .sign_in(None, user(), &tokens, None, Some("sid-1".into()))
            .await
            .unwrap()
            .session;
        clock.advance(Duration::from_secs(1));
        let (b, _) = signed_in(&s).await;
        let mine: Vec<_> = s.list_for(&user()).await.unwrap();
        assert_eq!(mine.len(), 2);
        assert_eq!(mine[0].key, b.key, "newest first");
        let by_sid = s.with_provider_sid("github", "sid-1").await.unwrap();
        assert_eq!(by_sid.len(), 1);
        assert_eq!(by_sid[0].key, a.key);
        assert!(s
            .with_provider_sid("okta", "sid-1")
            .await
            .unwrap()
            .is_empty());
    }
}
