//! In-memory stores for unit tests (they forget everything on restart). Not part of a
//! release build: compiled for tests and with the `contract` feature only.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use shared::api::Profile;

use super::{
    AuditLog, AuditRow, ExpiredDeletion, Ping, Record, RefreshLeases, Removed, SeenIds,
    SessionIndex, SessionKey, SessionRecords, StoreError, UserRecords, REFUSALS,
};

#[derive(Default)]
struct Inner {
    records: HashMap<SessionKey, Record>,
    leases: HashMap<SessionKey, (String, i64)>,
    seen: HashMap<(String, String), i64>,
    users: Vec<Profile>,
    tied_logins: HashMap<(String, String), String>,
    audit: Vec<AuditRow>,
}

/// Sessions, leases, seen ids, users and audit events, in one map each.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    /// Session deletes still to fail (a store that goes away half-way).
    failing_deletes: AtomicUsize,
}

impl MemoryStore {
    /// Makes the next `n` session deletes fail as an unreachable store would.
    pub fn fail_next_deletes(&self, n: usize) {
        self.failing_deletes.store(n, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn matching(&self, keep: impl Fn(&Record) -> bool) -> Vec<(SessionKey, Record)> {
        self.lock()
            .records
            .iter()
            .filter(|(_, r)| keep(r))
            .map(|(k, r)| (*k, r.clone()))
            .collect()
    }
}

#[async_trait]
impl SessionRecords for MemoryStore {
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
        let failing = self
            .failing_deletes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failing.is_ok() {
            return Err(StoreError::Unavailable(anyhow::anyhow!(
                "the store went away (injected)"
            )));
        }
        let mut inner = self.lock();
        inner.leases.remove(key);
        Ok(inner.records.remove(key).is_some())
    }
}

#[async_trait]
impl SessionIndex for MemoryStore {
    async fn list_for_person(&self, person: &str) -> Result<Vec<(SessionKey, Record)>, StoreError> {
        Ok(self.matching(|r| r.person.as_deref() == Some(person)))
    }

    async fn with_provider_sid(
        &self,
        provider_sid: &str,
    ) -> Result<Vec<(SessionKey, Record)>, StoreError> {
        Ok(self.matching(|r| r.provider_sid.as_deref() == Some(provider_sid)))
    }

    async fn delete_all_for_person(&self, person: &str) -> Result<Vec<Removed>, StoreError> {
        let mut inner = self.lock();
        let keys: Vec<SessionKey> = inner
            .records
            .iter()
            .filter(|(_, r)| r.person.as_deref() == Some(person))
            .map(|(k, _)| *k)
            .collect();
        Ok(keys
            .into_iter()
            .filter_map(|key| {
                inner.leases.remove(&key);
                let record = inner.records.remove(&key)?;
                Some(Removed { key, record })
            })
            .collect())
    }
}

#[async_trait]
impl ExpiredDeletion for MemoryStore {
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
}

#[async_trait]
impl RefreshLeases for MemoryStore {
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
}

#[async_trait]
impl SeenIds for MemoryStore {
    async fn has_seen(&self, kind: &str, id: &str, now: i64) -> Result<bool, StoreError> {
        let key = (kind.to_owned(), id.to_owned());
        Ok(self
            .lock()
            .seen
            .get(&key)
            .is_some_and(|until| *until >= now))
    }

    async fn remember(&self, kind: &str, id: &str, expires_at: i64) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let until = inner
            .seen
            .entry((kind.to_owned(), id.to_owned()))
            .or_insert(expires_at);
        *until = (*until).max(expires_at);
        Ok(())
    }

    async fn forget_sightings(&self, now: i64) -> Result<(), StoreError> {
        self.lock().seen.retain(|_, expires_at| *expires_at >= now);
        Ok(())
    }
}

#[async_trait]
impl Ping for MemoryStore {
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait]
impl UserRecords for MemoryStore {
    async fn upsert(&self, profile: &Profile, _now: i64) -> Result<i64, StoreError> {
        let mut inner = self.lock();
        let found = inner.users.iter().position(|p| {
            p.provider == profile.provider && p.provider_user_id == profile.provider_user_id
        });
        let index = match found {
            Some(index) => {
                inner.users[index] = profile.clone();
                index
            }
            None => {
                inner.users.push(profile.clone());
                inner.users.len() - 1
            }
        };
        Ok(index as i64 + 1)
    }

    async fn find_id(
        &self,
        provider: &str,
        provider_user_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self
            .lock()
            .users
            .iter()
            .position(|p| p.provider == provider && p.provider_user_id == provider_user_id)
            .map(|index| index as i64 + 1))
    }

    async fn tie_login(
        &self,
        provider: &str,
        login: &str,
        provider_user_id: &str,
    ) -> Result<String, StoreError> {
        Ok(self
            .lock()
            .tied_logins
            .entry((provider.to_owned(), login.to_owned()))
            .or_insert_with(|| provider_user_id.to_owned())
            .clone())
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn insert(&self, row: AuditRow) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let id = inner.audit.last().map_or(1, |last| last.id + 1);
        inner.audit.push(AuditRow { id, ..row });
        Ok(())
    }

    async fn recent(
        &self,
        user_id: i64,
        limit: i64,
        refusals: bool,
    ) -> Result<Vec<AuditRow>, StoreError> {
        Ok(self
            .lock()
            .audit
            .iter()
            .rev()
            .filter(|row| row.user_id == Some(user_id))
            .filter(|row| REFUSALS.contains(&row.kind.as_str()) == refusals)
            .take(usize::try_from(limit).unwrap_or(0))
            .cloned()
            .collect())
    }

    async fn forget_before(&self, cutoff: i64) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        let before = inner.audit.len();
        inner.audit.retain(|row| row.at >= cutoff);
        Ok((before - inner.audit.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::MemoryStore;
    use crate::store::contract;

    #[tokio::test]
    async fn the_memory_store_keeps_every_contract() {
        contract::sessions::run_all(Arc::new(MemoryStore::default())).await;
        contract::users::run(&MemoryStore::default()).await;
        contract::audit::run(&MemoryStore::default()).await;
    }
}
