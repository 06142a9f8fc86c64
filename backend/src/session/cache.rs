//! An in-process read cache in front of the session store, so reading a session (every
//! `GET /api/me`) is a hash lookup instead of a database round trip.
//!
//! Correctness rule: the cache is only ever filled from a store read, and every write
//! drops the entry. A fill that raced with a write is discarded: writers bump an epoch
//! (under the lock) after writing the store, and a fill inserts only if the epoch it saw
//! before reading the store is still current. So a sign-out can never be undone by a slow
//! concurrent read.
//!
//! Valid while this process is the only writer of the store (the SQLite default), or
//! while every other writer's changes reach [`SessionCache::invalidate`] (Redis, through
//! `Sessions::follow`, which switches the cache off whenever that channel is down).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::Session;
use crate::store::SessionKey;

/// A cached session, parsed (cloning it copies two `Arc`s).
pub type Cached = Session;

struct Inner {
    /// Keyed by SHA-256 digests of ids the server made, which nobody can choose: foldhash
    /// (seeded per map) instead of the standard SipHash, which cost about 270
    /// instructions a read (BENCHMARKS.md).
    entries: HashMap<SessionKey, Cached, foldhash::fast::RandomState>,
    epoch: u64,
}

pub struct SessionCache {
    capacity: usize,
    /// Off while invalidations from other instances cannot be received.
    active: AtomicBool,
    inner: Mutex<Inner>,
}

impl SessionCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            active: AtomicBool::new(true),
            inner: Mutex::new(Inner {
                entries: HashMap::with_capacity_and_hasher(
                    capacity.min(4096),
                    foldhash::fast::RandomState::default(),
                ),
                epoch: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Switches the cache on or off (see `Sessions::follow`).
    pub fn set_active(&self, active: bool) {
        self.active.store(active, Ordering::SeqCst);
    }

    fn enabled(&self) -> bool {
        self.capacity > 0 && self.active.load(Ordering::SeqCst)
    }

    pub fn get(&self, key: &SessionKey) -> Option<Cached> {
        if !self.enabled() {
            return None;
        }
        self.lock().entries.get(key).cloned()
    }

    /// The epoch to hand back to [`SessionCache::fill`] after reading the store.
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// Inserts what the store returned, unless a write happened since `epoch`.
    pub fn fill(&self, key: SessionKey, cached: Cached, epoch: u64) {
        if !self.enabled() {
            return;
        }
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return;
        }
        if inner.entries.len() >= self.capacity && !inner.entries.contains_key(&key) {
            // Full: drop an arbitrary entry (hash order is effectively random). It is
            // read back from the store on its next use.
            if let Some(victim) = inner.entries.keys().next().copied() {
                inner.entries.remove(&victim);
            }
        }
        inner.entries.insert(key, cached);
    }

    /// Call after every store write or delete of `key`.
    pub fn invalidate(&self, key: &SessionKey) {
        let mut inner = self.lock();
        inner.entries.remove(key);
        inner.epoch = inner.epoch.wrapping_add(1);
    }

    /// Records a `last_seen` update already written to the store.
    pub fn touched(&self, key: &SessionKey, last_seen: i64) {
        if let Some(entry) = self.lock().entries.get_mut(key) {
            entry.last_seen = last_seen;
        }
    }

    /// Drops entries the sweep would consider expired, and bumps the epoch.
    pub fn retain(&self, keep: impl Fn(&Cached) -> bool) {
        let mut inner = self.lock();
        inner.entries.retain(|_, c| keep(c));
        inner.epoch = inner.epoch.wrapping_add(1);
    }

    /// Forgets everything (another instance may have changed anything).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.epoch = inner.epoch.wrapping_add(1);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    fn key(n: u8) -> SessionKey {
        SessionKey([n; 32])
    }

    fn cached() -> Cached {
        Session {
            key: key(0),
            public_id: Arc::from("p"),
            data: Arc::default(),
            version: 1,
            created_at: 1,
            last_seen: 1,
            expires_at: 2,
        }
    }

    #[test]
    fn a_fill_that_raced_with_a_write_is_discarded() {
        let cache = SessionCache::new(10);
        let epoch = cache.epoch();
        // A sign-out lands between the store read and the fill...
        cache.invalidate(&key(1));
        cache.fill(key(1), cached(), epoch);
        // ...so the stale session does not come back.
        assert!(cache.get(&key(1)).is_none());
        cache.fill(key(1), cached(), cache.epoch());
        assert!(cache.get(&key(1)).is_some());
    }

    #[test]
    fn capacity_is_respected_and_zero_disables() {
        let cache = SessionCache::new(3);
        for n in 0..10 {
            cache.fill(key(n), cached(), cache.epoch());
        }
        assert_eq!(cache.len(), 3);
        let off = SessionCache::new(0);
        off.fill(key(1), cached(), off.epoch());
        assert!(off.get(&key(1)).is_none());
    }
}
