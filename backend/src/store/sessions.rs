//! What a session store keeps, and the small traits it keeps it behind (tower-sessions'
//! habit: records, the indexes, expiry, leases and seen ids apart, so each has its own
//! contract suite and a caller gets only the part it needs).
//!
//! Every write that changes a session is conditional on the version the writer read
//! (optimistic concurrency): a save that races a sign-out cannot bring the session back,
//! and two requests that consume the same pending sign-in cannot both succeed.

use async_trait::async_trait;

use super::StoreError;

/// What the store indexes sessions by: SHA-256 of the cookie value, so a copy of the
/// store holds no usable cookies.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct SessionKey(pub [u8; 32]);

/// A stored session. `data` is the serialized session model; the other fields are what
/// stores index or decide expiry by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Shown to the person in the devices list; never the cookie or its hash.
    pub public_id: String,
    /// Set once signed in: the provider identity (`github:583231`), the key of "all
    /// sessions of this person". The same on every instance, unlike a local row number.
    pub person: Option<String>,
    /// The provider's own session (`{provider} {sid}`, OpenID Connect), the key of
    /// back-channel logout.
    pub provider_sid: Option<String>,
    pub data: String,
    /// Bumped by every [`SessionRecords::update`]; `touch` leaves it alone.
    pub version: i64,
    pub created_at: i64,
    pub last_seen: i64,
    /// The hard deadline (Unix seconds): ten minutes after the last pending sign-in for
    /// a pre-auth session, the absolute lifetime (capped by the refresh token's) after.
    pub expires_at: i64,
}

/// A session the sweep removed, handed back so its ending can be recorded and its
/// provider tokens revoked.
#[derive(Debug)]
pub struct Removed {
    pub key: SessionKey,
    pub record: Record,
}

/// Storage of session records. Expiry decisions stay in the session model (which owns
/// the clock); stores keep records, apply conditional writes atomically and delete when
/// told.
#[async_trait]
pub trait SessionRecords: Send + Sync {
    async fn load(&self, key: &SessionKey) -> Result<Option<Record>, StoreError>;
    /// Stores a new session. Keys are 256-bit random: a collision is an error.
    async fn insert(&self, key: &SessionKey, record: &Record) -> Result<(), StoreError>;
    /// Replaces the session only if it still exists at version `expected`; `record`
    /// carries the new version. False when it was deleted or changed meanwhile.
    async fn update(
        &self,
        key: &SessionKey,
        record: &Record,
        expected: i64,
    ) -> Result<bool, StoreError>;
    /// Updates only `last_seen` (and idle expiry) of an existing session; never creates.
    async fn touch(&self, key: &SessionKey, last_seen: i64) -> Result<(), StoreError>;
    /// Deletes; true if it existed.
    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError>;
    /// Stores `record` under `new` and removes the session at `old` (which may be gone
    /// already): the change of id at sign-in. Stores that can do it in one write do, so
    /// a crash between the two halves cannot leave the browser with neither.
    ///
    /// Returns how many sessions the record's person has once it is stored, when the
    /// store counted them in the same step (the sign-in checks the per-person limit
    /// next, and a remote store saves a round trip), with the same "or more, never
    /// fewer" rule as [`SessionIndex::count_for_person`]; `None` when it did not.
    async fn replace(
        &self,
        old: &SessionKey,
        new: &SessionKey,
        record: &Record,
    ) -> Result<Option<usize>, StoreError> {
        self.delete(old).await?;
        self.insert(new, record).await?;
        Ok(None)
    }
}

/// The two ways to find sessions other than by key.
#[async_trait]
pub trait SessionIndex: Send + Sync {
    /// Every live session of a person (by [`Record::person`]), any order.
    async fn list_for_person(&self, person: &str) -> Result<Vec<(SessionKey, Record)>, StoreError>;
    /// How many sessions a person has, or more (entries a store has not tidied yet may
    /// count), never fewer: a caller that only needs to know the count is small skips
    /// reading them. Listing them is the default.
    async fn count_for_person(&self, person: &str) -> Result<usize, StoreError> {
        Ok(self.list_for_person(person).await?.len())
    }
    /// Every session made in one provider session (by [`Record::provider_sid`]).
    async fn with_provider_sid(
        &self,
        provider_sid: &str,
    ) -> Result<Vec<(SessionKey, Record)>, StoreError>;
    /// Deletes every session of a person in one store operation ("sign out everywhere")
    /// and returns what was removed.
    async fn delete_all_for_person(&self, person: &str) -> Result<Vec<Removed>, StoreError>;
}

/// The sweep's side of a session store.
#[async_trait]
pub trait ExpiredDeletion: Send + Sync {
    /// Deletes sessions past `expires_at <= now` or idle since before `idle_before`, at
    /// most `limit` of them, and returns what was removed.
    async fn delete_expired(
        &self,
        now: i64,
        idle_before: i64,
        limit: usize,
    ) -> Result<Vec<Removed>, StoreError>;
}

/// Readiness: can the store answer at all?
#[async_trait]
pub trait Ping: Send + Sync {
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Everything the session model needs of its store.
pub trait SessionBackend: SessionRecords + SessionIndex + ExpiredDeletion + Ping {}
impl<T: SessionRecords + SessionIndex + ExpiredDeletion + Ping> SessionBackend for T {}

/// The right to refresh one session's provider tokens, held by one instance at a time.
#[async_trait]
pub trait RefreshLeases: Send + Sync {
    /// Claims the right to refresh this session's tokens until `until_ms` (Unix ms),
    /// unless someone else holds an unexpired claim. True when `owner` now holds it. No
    /// lease on a session that does not exist.
    async fn try_lease(
        &self,
        key: &SessionKey,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Gives the claim back, only if `owner` still holds it.
    async fn release_lease(&self, key: &SessionKey, owner: &str) -> Result<(), StoreError>;
}

/// Ids acted on once (webhook deliveries, logout-token `jti`s). Callers act first and
/// remember after, so a failure half-way leaves the id free for the sender's retry; the
/// acts are idempotent, so two deliveries racing each other both acting is harmless.
#[async_trait]
pub trait SeenIds: Send + Sync {
    /// True when `id` of `kind` was remembered and has not expired.
    async fn has_seen(&self, kind: &str, id: &str, now: i64) -> Result<bool, StoreError>;
    /// Remembers `id` of `kind` until `expires_at` (Unix seconds); remembering it again
    /// keeps the later expiry.
    async fn remember(&self, kind: &str, id: &str, expires_at: i64) -> Result<(), StoreError>;
    /// Forgets ids that expired before `now`.
    async fn forget_sightings(&self, now: i64) -> Result<(), StoreError>;
}
