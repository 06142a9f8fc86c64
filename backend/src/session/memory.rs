//! An in-memory session store for unit tests (it forgets everything on restart).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::id::SessionKey;
use super::store::{Record, SessionStore};

#[derive(Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<SessionKey, Record>>,
}

impl MemoryStore {
    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<SessionKey, Record>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn load(&self, key: &SessionKey) -> anyhow::Result<Option<Record>> {
        Ok(self.records().get(key).cloned())
    }

    async fn save(&self, key: &SessionKey, record: &Record) -> anyhow::Result<()> {
        self.records().insert(*key, record.clone());
        Ok(())
    }

    async fn touch(&self, key: &SessionKey, last_seen: i64) -> anyhow::Result<()> {
        if let Some(r) = self.records().get_mut(key) {
            r.last_seen = last_seen;
        }
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> anyhow::Result<()> {
        self.records().remove(key);
        Ok(())
    }

    async fn delete_expired(&self, idle_before: i64, created_before: i64) -> anyhow::Result<u64> {
        let mut records = self.records();
        let before = records.len();
        records.retain(|_, r| r.last_seen >= idle_before && r.created_at >= created_before);
        Ok((before - records.len()) as u64)
    }

    async fn ping(&self) -> anyhow::Result<()> {
        Ok(())
    }
}
