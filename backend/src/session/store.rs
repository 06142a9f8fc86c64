//! The one trait every session store implements, and what it stores.

use async_trait::async_trait;

use super::id::SessionKey;

/// A stored session: its serialized data and the two times expiry is decided from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub data: String,
    pub created_at: i64,
    pub last_seen: i64,
}

/// Storage of sessions. Expiry decisions stay in [`super::Sessions`] (which owns the
/// clock); stores only keep records and delete them when told.
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn load(&self, key: &SessionKey) -> anyhow::Result<Option<Record>>;
    /// Inserts or replaces.
    async fn save(&self, key: &SessionKey, record: &Record) -> anyhow::Result<()>;
    /// Updates only `last_seen`.
    async fn touch(&self, key: &SessionKey, last_seen: i64) -> anyhow::Result<()>;
    async fn delete(&self, key: &SessionKey) -> anyhow::Result<()>;
    /// Deletes sessions idle since before `idle_before` or created before `created_before`.
    async fn delete_expired(&self, idle_before: i64, created_before: i64) -> anyhow::Result<u64>;
    /// Readiness: can the store answer at all?
    async fn ping(&self) -> anyhow::Result<()>;
}
