//! An in-memory session store for unit tests (it forgets everything on restart).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::id::SessionKey;
use super::store::{Record, Removed, SessionStore};
use crate::storage::StoreError;

#[derive(Default)]
struct Inner {
    records: HashMap<SessionKey, Record>,
    leases: HashMap<SessionKey, (String, i64)>,
    seen: HashMap<(String, String), i64>,
}

#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<Record>, StoreError> {
        Ok(self.lock().records.get(key).cloned())
    }

    async fn insert(&self, key: &SessionKey, record: &Record) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.records.contains_key(key) {
            return Err(StoreError::Unavailable(anyhow::anyhow!(
                "a session with this key exists"
            )));
        }
        inner.records.insert(*key, record.clone());
        Ok(())
    }

    async fn update(
        &self,
        key: &SessionKey,
        record: &Record,
        expected: i64,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.records.get_mut(key) {
            Some(current) if current.version == expected => {
                *current = record.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn touch(&self, key: &SessionKey, last_seen: i64) -> Result<(), StoreError> {
        if let Some(r) = self.lock().records.get_mut(key) {
            r.last_seen = r.last_seen.max(last_seen);
        }
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        inner.leases.remove(key);
        Ok(inner.records.remove(key).is_some())
    }

    async fn list_for_user(&self, user_id: i64) -> Result<Vec<(SessionKey, Record)>, StoreError> {
        Ok(self
            .lock()
            .records
            .iter()
            .filter(|(_, r)| r.user_id == Some(user_id))
            .map(|(k, r)| (*k, r.clone()))
            .collect())
    }

    async fn delete_expired(
        &self,
        now: i64,
        idle_before: i64,
        limit: usize,
    ) -> Result<Vec<Removed>, StoreError> {
        let mut inner = self.lock();
        let expired: Vec<SessionKey> = inner
            .records
            .iter()
            .filter(|(_, r)| r.expires_at <= now || r.last_seen < idle_before)
            .map(|(k, _)| *k)
            .take(limit)
            .collect();
        Ok(expired
            .into_iter()
            .filter_map(|key| {
                inner.leases.remove(&key);
                inner
                    .records
                    .remove(&key)
                    .map(|record| Removed { key, record })
            })
            .collect())
    }

    async fn try_lease(
        &self,
        key: &SessionKey,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if !inner.records.contains_key(key) {
            return Ok(false);
        }
        match inner.leases.get(key) {
            Some((holder, until)) if holder != owner && *until > now_ms => Ok(false),
            _ => {
                inner.leases.insert(*key, (owner.to_owned(), until_ms));
                Ok(true)
            }
        }
    }

    async fn release_lease(&self, key: &SessionKey, owner: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner
            .leases
            .get(key)
            .is_some_and(|(holder, _)| holder == owner)
        {
            inner.leases.remove(key);
        }
        Ok(())
    }

    async fn first_sighting(
        &self,
        kind: &str,
        id: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let key = (kind.to_owned(), id.to_owned());
        if inner.seen.contains_key(&key) {
            return Ok(false);
        }
        inner.seen.insert(key, expires_at);
        Ok(true)
    }

    async fn forget_sightings(&self, now: i64) -> Result<(), StoreError> {
        self.lock().seen.retain(|_, expires_at| *expires_at >= now);
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_memory_store_keeps_the_store_contract() {
        super::super::contract::run(&super::MemoryStore::default()).await;
        super::super::contract::one_of_many_concurrent_updates_wins(std::sync::Arc::new(
            super::MemoryStore::default(),
        ))
        .await;
    }
}
