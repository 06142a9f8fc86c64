//! Sessions in Redis, for several BFF instances behind one origin.
//!
//! Layout (every name starts with the configured prefix):
//! - `s:{key}`: a hash per session (`p` public id, `u` user id or empty, `d` data, `v`
//!   version, `c` created, `s` last seen, `e` deadline), read in one round trip. Redis
//!   expires it a day after its deadline, as a backstop: the code decides expiry, and
//!   the sweep (which revokes the provider tokens) normally removes it first.
//! - `deadlines`: a sorted set of session keys by effective deadline, for the sweep.
//! - `u:{user}`: the set of a person's session keys ("sign out everywhere").
//! - `l:{key}`: the refresh lease (`SET NX PX`, released by compare-and-delete).
//! - `seen:{kind}:{id}`: ids acted on once (`SET NX EXAT`).
//! - channel `invalidate`: every change names the session it changed, so other
//!   instances drop it from their read caches.
//!
//! Conditional writes are Lua scripts, so "check the version, then write" is one atomic
//! step on the server.

use async_trait::async_trait;
use redis::{AsyncCommands as _, Script, Value};

use super::id::SessionKey;
use super::store::{Record, Removed, SessionStore};
use crate::storage::redis::Redis;
use crate::storage::{StoreError, StoreResultExt as _};

/// How long Redis keeps a session after its deadline if no sweep removed it.
const GRACE_SECS: i64 = 24 * 3600;

pub struct RedisStore {
    redis: Redis,
    idle_secs: i64,
    scripts: Scripts,
}

struct Scripts {
    insert: Script,
    update: Script,
    touch: Script,
    delete: Script,
    expire: Script,
    lease: Script,
    release: Script,
}

impl Scripts {
    fn new() -> Self {
        Self {
            // KEYS: hash, deadlines, user set. ARGV: key, p, u, d, v, c, s, e, deadline, expire ms.
            insert: Script::new(
                r"
                if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
                redis.call('HSET', KEYS[1], 'p', ARGV[2], 'u', ARGV[3], 'd', ARGV[4],
                    'v', ARGV[5], 'c', ARGV[6], 's', ARGV[7], 'e', ARGV[8])
                redis.call('PEXPIREAT', KEYS[1], ARGV[10])
                redis.call('ZADD', KEYS[2], ARGV[9], ARGV[1])
                if ARGV[3] ~= '' then redis.call('SADD', KEYS[3], ARGV[1]) end
                return 1",
            ),
            // KEYS: hash, deadlines, user set. ARGV: key, expected, u, d, v, s, e, deadline,
            // expire ms, channel.
            update: Script::new(
                r"
                if redis.call('HGET', KEYS[1], 'v') ~= ARGV[2] then return 0 end
                redis.call('HSET', KEYS[1], 'u', ARGV[3], 'd', ARGV[4], 'v', ARGV[5],
                    's', ARGV[6], 'e', ARGV[7])
                redis.call('PEXPIREAT', KEYS[1], ARGV[9])
                redis.call('ZADD', KEYS[2], ARGV[8], ARGV[1])
                if ARGV[3] ~= '' then redis.call('SADD', KEYS[3], ARGV[1]) end
                redis.call('PUBLISH', ARGV[10], ARGV[1])
                return 1",
            ),
            // KEYS: hash, deadlines. ARGV: key, last seen, idle secs, grace secs.
            touch: Script::new(
                r"
                local vals = redis.call('HMGET', KEYS[1], 's', 'e')
                if not vals[1] then return 0 end
                local s = math.max(tonumber(vals[1]), tonumber(ARGV[2]))
                redis.call('HSET', KEYS[1], 's', s)
                local deadline = math.min(tonumber(vals[2]), s + tonumber(ARGV[3]))
                redis.call('ZADD', KEYS[2], deadline, ARGV[1])
                redis.call('PEXPIREAT', KEYS[1], (deadline + tonumber(ARGV[4])) * 1000)
                return 1",
            ),
            // KEYS: hash, deadlines, lease. ARGV: key, user-set prefix, channel.
            delete: Script::new(
                r"
                local u = redis.call('HGET', KEYS[1], 'u')
                local existed = redis.call('DEL', KEYS[1])
                redis.call('ZREM', KEYS[2], ARGV[1])
                redis.call('DEL', KEYS[3])
                if u and u ~= '' then redis.call('SREM', ARGV[2] .. u, ARGV[1]) end
                redis.call('PUBLISH', ARGV[3], ARGV[1])
                return existed",
            ),
            // Deletes one session if it really is past its deadline and returns its
            // fields. KEYS: hash, deadlines, lease. ARGV: key, now, idle before,
            // user-set prefix, channel, idle secs.
            expire: Script::new(
                r"
                local vals = redis.call('HMGET', KEYS[1], 'p', 'u', 'd', 'v', 'c', 's', 'e')
                if not vals[1] then
                    redis.call('ZREM', KEYS[2], ARGV[1])
                    return false
                end
                local s = tonumber(vals[6])
                local e = tonumber(vals[7])
                if e > tonumber(ARGV[2]) and s >= tonumber(ARGV[3]) then
                    redis.call('ZADD', KEYS[2], math.min(e, s + tonumber(ARGV[6])), ARGV[1])
                    return false
                end
                redis.call('DEL', KEYS[1])
                redis.call('ZREM', KEYS[2], ARGV[1])
                redis.call('DEL', KEYS[3])
                if vals[2] ~= '' then redis.call('SREM', ARGV[4] .. vals[2], ARGV[1]) end
                redis.call('PUBLISH', ARGV[5], ARGV[1])
                return vals",
            ),
            // KEYS: lease, hash. ARGV: owner, ttl ms.
            lease: Script::new(
                r"
                if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
                local holder = redis.call('GET', KEYS[1])
                if holder and holder ~= ARGV[1] then return 0 end
                redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
                return 1",
            ),
            // KEYS: lease. ARGV: owner.
            release: Script::new(
                r"
                if redis.call('GET', KEYS[1]) == ARGV[1] then
                    return redis.call('DEL', KEYS[1])
                end
                return 0",
            ),
        }
    }
}

fn hex(key: &SessionKey) -> String {
    key.0.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session key named by its hex form (as published on the invalidation channel).
pub(super) fn key_from_hex(text: &str) -> Option<SessionKey> {
    if text.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(SessionKey(bytes))
}

/// A record from the fields of its hash (`HGETALL` pairs or the `expire` script's list,
/// in `p u d v c s e` order).
fn record(fields: &[(String, String)]) -> Option<Record> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let int = |name: &str| get(name)?.parse::<i64>().ok();
    Some(Record {
        public_id: get("p")?.to_owned(),
        user_id: get("u")
            .filter(|u| !u.is_empty())
            .and_then(|u| u.parse().ok()),
        data: get("d")?.to_owned(),
        version: int("v")?,
        created_at: int("c")?,
        last_seen: int("s")?,
        expires_at: int("e")?,
    })
}

impl RedisStore {
    pub fn new(redis: Redis, idle_secs: u64) -> Self {
        Self {
            redis,
            idle_secs: idle_secs as i64,
            scripts: Scripts::new(),
        }
    }

    fn session_key(&self, key: &SessionKey) -> String {
        self.redis.key(&format!("s:{}", hex(key)))
    }

    fn lease_key(&self, key: &SessionKey) -> String {
        self.redis.key(&format!("l:{}", hex(key)))
    }

    fn user_key(&self, user_id: Option<i64>) -> String {
        self.redis.key(&format!(
            "u:{}",
            user_id.map(|u| u.to_string()).unwrap_or_default()
        ))
    }

    fn deadlines(&self) -> String {
        self.redis.key("deadlines")
    }

    /// The channel other instances listen on for changed sessions.
    pub fn channel(redis: &Redis) -> String {
        redis.key("invalidate")
    }

    fn deadline(&self, r: &Record) -> i64 {
        r.expires_at.min(r.last_seen + self.idle_secs)
    }

    fn conn(&self) -> redis::aio::ConnectionManager {
        self.redis.conn.clone()
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<Record>, StoreError> {
        let fields: Vec<(String, String)> = self
            .conn()
            .hgetall(self.session_key(key))
            .await
            .store("Failed to load a session from Redis")?;
        if fields.is_empty() {
            return Ok(None);
        }
        record(&fields)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt(anyhow::anyhow!("a session hash lacks fields")))
    }

    async fn insert(&self, key: &SessionKey, r: &Record) -> Result<(), StoreError> {
        let deadline = self.deadline(r);
        let inserted: i64 = self
            .scripts
            .insert
            .key(self.session_key(key))
            .key(self.deadlines())
            .key(self.user_key(r.user_id))
            .arg(hex(key))
            .arg(&r.public_id)
            .arg(r.user_id.map(|u| u.to_string()).unwrap_or_default())
            .arg(&r.data)
            .arg(r.version)
            .arg(r.created_at)
            .arg(r.last_seen)
            .arg(r.expires_at)
            .arg(deadline)
            .arg((deadline + GRACE_SECS) * 1000)
            .invoke_async(&mut self.conn())
            .await
            .store("Failed to insert a session into Redis")?;
        if inserted == 1 {
            Ok(())
        } else {
            Err(StoreError::Unavailable(anyhow::anyhow!(
                "a session with this key exists"
            )))
        }
    }

    async fn update(
        &self,
        key: &SessionKey,
        r: &Record,
        expected: i64,
    ) -> Result<bool, StoreError> {
        let deadline = self.deadline(r);
        let updated: i64 = self
            .scripts
            .update
            .key(self.session_key(key))
            .key(self.deadlines())
            .key(self.user_key(r.user_id))
            .arg(hex(key))
            .arg(expected)
            .arg(r.user_id.map(|u| u.to_string()).unwrap_or_default())
            .arg(&r.data)
            .arg(r.version)
            .arg(r.last_seen)
            .arg(r.expires_at)
            .arg(deadline)
            .arg((deadline + GRACE_SECS) * 1000)
            .arg(Self::channel(&self.redis))
            .invoke_async(&mut self.conn())
            .await
            .store("Failed to update a session in Redis")?;
        Ok(updated == 1)
    }

    async fn touch(&self, key: &SessionKey, last_seen: i64) -> Result<(), StoreError> {
        let _: i64 = self
            .scripts
            .touch
            .key(self.session_key(key))
            .key(self.deadlines())
            .arg(hex(key))
            .arg(last_seen)
            .arg(self.idle_secs)
            .arg(GRACE_SECS)
            .invoke_async(&mut self.conn())
            .await
            .store("Failed to touch a session in Redis")?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let existed: i64 = self
            .scripts
            .delete
            .key(self.session_key(key))
            .key(self.deadlines())
            .key(self.lease_key(key))
            .arg(hex(key))
            .arg(self.redis.key("u:"))
            .arg(Self::channel(&self.redis))
            .invoke_async(&mut self.conn())
            .await
            .store("Failed to delete a session from Redis")?;
        Ok(existed == 1)
    }

    async fn list_for_user(&self, user_id: i64) -> Result<Vec<(SessionKey, Record)>, StoreError> {
        let mut conn = self.conn();
        let members: Vec<String> = conn
            .smembers(self.user_key(Some(user_id)))
            .await
            .store("Failed to list sessions in Redis")?;
        let keys: Vec<SessionKey> = members.iter().filter_map(|m| key_from_hex(m)).collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for key in &keys {
            pipe.hgetall(self.session_key(key));
        }
        let hashes: Vec<Vec<(String, String)>> = pipe
            .query_async(&mut conn)
            .await
            .store("Failed to read sessions from Redis")?;
        let mut found = Vec::new();
        let mut gone = Vec::new();
        for (key, fields) in keys.into_iter().zip(hashes) {
            match record(&fields) {
                Some(r) if r.user_id == Some(user_id) => found.push((key, r)),
                // Expired by Redis itself: drop the stale member.
                _ => gone.push(hex(&key)),
            }
        }
        if !gone.is_empty() {
            let _: i64 = conn
                .srem(self.user_key(Some(user_id)), gone)
                .await
                .store("Failed to tidy a session list in Redis")?;
        }
        Ok(found)
    }

    async fn delete_expired(
        &self,
        now: i64,
        idle_before: i64,
        limit: usize,
    ) -> Result<Vec<Removed>, StoreError> {
        let mut conn = self.conn();
        let due: Vec<String> = redis::cmd("ZRANGE")
            .arg(self.deadlines())
            .arg("-inf")
            .arg(now)
            .arg("BYSCORE")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut conn)
            .await
            .store("Failed to find expired sessions in Redis")?;
        let mut removed = Vec::new();
        for member in due {
            let Some(key) = key_from_hex(&member) else {
                let _: i64 = conn
                    .zrem(self.deadlines(), &member)
                    .await
                    .store("Failed to tidy the deadlines in Redis")?;
                continue;
            };
            let value: Value = self
                .scripts
                .expire
                .key(self.session_key(&key))
                .key(self.deadlines())
                .key(self.lease_key(&key))
                .arg(&member)
                .arg(now)
                .arg(idle_before)
                .arg(self.redis.key("u:"))
                .arg(Self::channel(&self.redis))
                .arg(self.idle_secs)
                .invoke_async(&mut conn)
                .await
                .store("Failed to expire a session in Redis")?;
            let Ok(values) = redis::from_redis_value::<Vec<String>>(value) else {
                continue;
            };
            let names = ["p", "u", "d", "v", "c", "s", "e"];
            let fields: Vec<(String, String)> =
                names.iter().map(|n| n.to_string()).zip(values).collect();
            if let Some(record) = record(&fields) {
                removed.push(Removed { key, record });
            }
        }
        Ok(removed)
    }

    async fn try_lease(
        &self,
        key: &SessionKey,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let taken: i64 = self
            .scripts
            .lease
            .key(self.lease_key(key))
            .key(self.session_key(key))
            .arg(owner)
            .arg((until_ms - now_ms).max(1))
            .invoke_async(&mut self.conn())
            .await
            .store("Failed to take a refresh lease in Redis")?;
        Ok(taken == 1)
    }

    async fn release_lease(&self, key: &SessionKey, owner: &str) -> Result<(), StoreError> {
        let _: i64 = self
            .scripts
            .release
            .key(self.lease_key(key))
            .arg(owner)
            .invoke_async(&mut self.conn())
            .await
            .store("Failed to release a refresh lease in Redis")?;
        Ok(())
    }

    async fn first_sighting(
        &self,
        kind: &str,
        id: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let set: Option<String> = redis::cmd("SET")
            .arg(self.redis.key(&format!("seen:{kind}:{id}")))
            .arg(1)
            .arg("NX")
            .arg("EXAT")
            .arg(expires_at.max(1))
            .query_async(&mut self.conn())
            .await
            .store("Failed to record a sighting in Redis")?;
        Ok(set.is_some())
    }

    async fn forget_sightings(&self, _now: i64) -> Result<(), StoreError> {
        // Redis expires them by itself (EXAT).
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        redis::cmd("PING")
            .query_async::<()>(&mut self.conn())
            .await
            .store("Redis does not answer")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_hex() {
        let key = SessionKey([0xab; 32]);
        assert_eq!(key_from_hex(&hex(&key)), Some(key));
        assert_eq!(key_from_hex("zz"), None);
        assert_eq!(key_from_hex(&"g".repeat(64)), None);
    }
}
