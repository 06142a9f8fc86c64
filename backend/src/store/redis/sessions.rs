//! Sessions in Redis, for several BFF instances behind one origin.
//!
//! Layout (every name starts with the configured prefix):
//! - `s:{key}`: a hash per session (`p` public id, `o` person or empty, `i` provider
//!   session or empty, `d` data, `v` version, `c` created, `s` last seen, `e` deadline),
//!   read in one round trip. Redis expires a signed-in session a day after its deadline,
//!   as a backstop: the code decides expiry, and the sweep (which revokes the provider
//!   tokens) normally removes it first. A pre-auth session (no token) goes five minutes
//!   after its deadline.
//! - `deadlines`: a sorted set of session keys by effective deadline, for the sweep.
//! - `p:{person}`: the set of a person's session keys ("sign out everywhere").
//! - `i:{provider} {sid}`: the set of session keys made in one provider session
//!   (back-channel logout).
//! - `l:{key}`: the refresh lease (`SET NX PX`, released by compare-and-delete).
//! - `seen:{kind}:{id}`: ids acted on once (`SET NX EXAT`).
//! - channel `invalidate`: every change names the session it changed, so other
//!   instances drop it from their read caches.
//!
//! Conditional writes are Lua scripts, so "check the version, then write" is one atomic
//! step on the server.

use async_trait::async_trait;
use redis::{AsyncCommands as _, Script, Value};

use super::invalidation::channel;
use super::Redis;
use crate::store::{
    ExpiredDeletion, Ping, Record, RefreshLeases, Removed, SeenIds, SessionIndex, SessionKey,
    SessionRecords, StoreError, StoreResultExt as _,
};

/// How long Redis keeps a signed-in session after its deadline if no sweep removed it
/// (the sweep revokes its provider tokens, so it should see it).
const GRACE_SECS: i64 = 24 * 3600;
/// The same for a pre-auth session: it holds no token, nothing is lost if Redis drops
/// it by itself, and a flood of them must not linger for a day.
const PRE_AUTH_GRACE_SECS: i64 = 300;

/// Lua that removes one session and its index entries and tells the other instances;
/// `existed` is 1 if it was there. Expects locals `old_hash`, `deadlines`, `old_lease`,
/// `old_member` (its key in hex), `person_prefix`, `sid_prefix` and `chan`.
macro_rules! remove_session {
    () => {
        r"
                local cur = redis.call('HMGET', old_hash, 'o', 'i')
                local existed = redis.call('DEL', old_hash)
                redis.call('ZREM', deadlines, old_member)
                redis.call('DEL', old_lease)
                if cur[1] and cur[1] ~= '' then
                    redis.call('SREM', person_prefix .. cur[1], old_member)
                end
                if cur[2] and cur[2] ~= '' then
                    redis.call('SREM', sid_prefix .. cur[2], old_member)
                end
                redis.call('PUBLISH', chan, old_member)"
    };
}

pub struct RedisSessions {
    redis: Redis,
    idle_secs: i64,
    scripts: Scripts,
}

struct Scripts {
    delete_person: Script,
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
            // Deletes every session in a person's set and returns them as key and fields
            // ([`FIELDS`] order), nine strings each. KEYS: person set, deadlines. ARGV:
            // session prefix, lease prefix, sid prefix, channel.
            delete_person: Script::new(
                r"
                local out = {}
                for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
                    local hash = ARGV[1] .. member
                    local vals = redis.call('HMGET', hash, 'p', 'o', 'i', 'd', 'v', 'c', 's', 'e')
                    redis.call('DEL', hash)
                    redis.call('ZREM', KEYS[2], member)
                    redis.call('DEL', ARGV[2] .. member)
                    if vals[3] and vals[3] ~= '' then
                        redis.call('SREM', ARGV[3] .. vals[3], member)
                    end
                    redis.call('PUBLISH', ARGV[4], member)
                    if vals[1] then
                        table.insert(out, member)
                        for n = 1, 8 do table.insert(out, vals[n] or '') end
                    end
                end
                redis.call('DEL', KEYS[1])
                return out",
            ),
            // Stores a new session, and removes the one it replaces when KEYS has six
            // (the change of id at sign-in, in one atomic step). Returns how many
            // sessions the person's set holds afterwards (0 without a person), or -1
            // when the key is taken. KEYS: hash, deadlines, person set, sid set[, old
            // hash, old lease]. ARGV: key, p, o, i, d, v, c, s, e, deadline, expire
            // ms[, old key, person prefix, sid prefix, channel].
            insert: Script::new(concat!(
                r"
                if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
                if #KEYS == 6 then
                    local old_hash, deadlines, old_lease = KEYS[5], KEYS[2], KEYS[6]
                    local old_member, person_prefix, sid_prefix, chan =
                        ARGV[12], ARGV[13], ARGV[14], ARGV[15]",
                remove_session!(),
                r"
                end
                redis.call('HSET', KEYS[1], 'p', ARGV[2], 'o', ARGV[3], 'i', ARGV[4],
                    'd', ARGV[5], 'v', ARGV[6], 'c', ARGV[7], 's', ARGV[8], 'e', ARGV[9])
                redis.call('PEXPIREAT', KEYS[1], ARGV[11])
                redis.call('ZADD', KEYS[2], ARGV[10], ARGV[1])
                if ARGV[4] ~= '' then redis.call('SADD', KEYS[4], ARGV[1]) end
                if ARGV[3] == '' then return 0 end
                redis.call('SADD', KEYS[3], ARGV[1])
                return redis.call('SCARD', KEYS[3])",
            )),
            // KEYS: hash, deadlines, person set, sid set. ARGV: key, expected, o, i, d, v,
            // s, e, deadline, expire ms, channel, person prefix, sid prefix.
            update: Script::new(
                r"
                local cur = redis.call('HMGET', KEYS[1], 'v', 'o', 'i')
                if cur[1] ~= ARGV[2] then return 0 end
                redis.call('HSET', KEYS[1], 'o', ARGV[3], 'i', ARGV[4], 'd', ARGV[5],
                    'v', ARGV[6], 's', ARGV[7], 'e', ARGV[8])
                redis.call('PEXPIREAT', KEYS[1], ARGV[10])
                redis.call('ZADD', KEYS[2], ARGV[9], ARGV[1])
                if cur[2] and cur[2] ~= '' and cur[2] ~= ARGV[3] then
                    redis.call('SREM', ARGV[12] .. cur[2], ARGV[1])
                end
                if cur[3] and cur[3] ~= '' and cur[3] ~= ARGV[4] then
                    redis.call('SREM', ARGV[13] .. cur[3], ARGV[1])
                end
                if ARGV[3] ~= '' then redis.call('SADD', KEYS[3], ARGV[1]) end
                if ARGV[4] ~= '' then redis.call('SADD', KEYS[4], ARGV[1]) end
                redis.call('PUBLISH', ARGV[11], ARGV[1])
                return 1",
            ),
            // KEYS: hash, deadlines. ARGV: key, last seen, idle secs, signed-in grace
            // secs, pre-auth grace secs.
            touch: Script::new(
                r"
                local vals = redis.call('HMGET', KEYS[1], 's', 'e', 'o')
                if not vals[1] then return 0 end
                local s = math.max(tonumber(vals[1]), tonumber(ARGV[2]))
                redis.call('HSET', KEYS[1], 's', s)
                local deadline = math.min(tonumber(vals[2]), s + tonumber(ARGV[3]))
                redis.call('ZADD', KEYS[2], deadline, ARGV[1])
                local grace = ARGV[5]
                if vals[3] and vals[3] ~= '' then grace = ARGV[4] end
                redis.call('PEXPIREAT', KEYS[1], (deadline + tonumber(grace)) * 1000)
                return 1",
            ),
            // KEYS: hash, deadlines, lease. ARGV: key, person prefix, sid prefix, channel.
            delete: Script::new(concat!(
                r"
                local old_hash, deadlines, old_lease = KEYS[1], KEYS[2], KEYS[3]
                local old_member, person_prefix, sid_prefix, chan =
                    ARGV[1], ARGV[2], ARGV[3], ARGV[4]",
                remove_session!(),
                r"
                return existed",
            )),
            // Deletes one session if it really is past its deadline and returns its
            // fields. KEYS: hash, deadlines, lease. ARGV: key, now, idle before, person
            // prefix, sid prefix, channel, idle secs.
            expire: Script::new(
                r"
                local vals = redis.call('HMGET', KEYS[1], 'p', 'o', 'i', 'd', 'v', 'c', 's', 'e')
                if not vals[1] then
                    redis.call('ZREM', KEYS[2], ARGV[1])
                    return false
                end
                local s = tonumber(vals[7])
                local e = tonumber(vals[8])
                if e > tonumber(ARGV[2]) and s >= tonumber(ARGV[3]) then
                    redis.call('ZADD', KEYS[2], math.min(e, s + tonumber(ARGV[7])), ARGV[1])
                    return false
                end
                redis.call('DEL', KEYS[1])
                redis.call('ZREM', KEYS[2], ARGV[1])
                redis.call('DEL', KEYS[3])
                if vals[2] and vals[2] ~= '' then redis.call('SREM', ARGV[4] .. vals[2], ARGV[1]) end
                if vals[3] and vals[3] ~= '' then redis.call('SREM', ARGV[5] .. vals[3], ARGV[1]) end
                redis.call('PUBLISH', ARGV[6], ARGV[1])
                for n = 1, 8 do if not vals[n] then vals[n] = '' end end
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

/// The fields of a session hash, in the order the `expire` script returns them.
const FIELDS: [&str; 8] = ["p", "o", "i", "d", "v", "c", "s", "e"];

/// A record from the fields of its hash (`HGETALL` pairs, or the `expire` script's list
/// paired with [`FIELDS`]). An empty person or provider session means none.
fn record(fields: &[(String, String)]) -> Option<Record> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let int = |name: &str| get(name)?.parse::<i64>().ok();
    let optional = |name: &str| get(name).filter(|v| !v.is_empty()).map(str::to_owned);
    Some(Record {
        public_id: get("p")?.to_owned(),
        person: optional("o"),
        provider_sid: optional("i"),
        data: get("d")?.to_owned(),
        version: int("v")?,
        created_at: int("c")?,
        last_seen: int("s")?,
        expires_at: int("e")?,
    })
}

impl RedisSessions {
    pub fn new(redis: Redis, idle_secs: u64) -> Self {
        Self {
            redis,
            idle_secs: idle_secs as i64,
            scripts: Scripts::new(),
        }
    }

    /// Stores a new session, removing the one at `old` in the same script when given;
    /// returns how many sessions its person has now (see [`SessionRecords::replace`]).
    async fn insert_in_place_of(
        &self,
        old: Option<&SessionKey>,
        key: &SessionKey,
        r: &Record,
    ) -> Result<usize, StoreError> {
        let deadline = self.deadline(r);
        let mut invocation = self.scripts.insert.prepare_invoke();
        invocation
            .key(self.session_key(key))
            .key(self.deadlines())
            .key(self.person_key(r.person.as_deref()))
            .key(self.sid_key(r.provider_sid.as_deref()))
            .arg(hex(key))
            .arg(&r.public_id)
            .arg(r.person.as_deref().unwrap_or_default())
            .arg(r.provider_sid.as_deref().unwrap_or_default())
            .arg(&r.data)
            .arg(r.version)
            .arg(r.created_at)
            .arg(r.last_seen)
            .arg(r.expires_at)
            .arg(deadline)
            .arg(self.drop_at_ms(r));
        if let Some(old) = old {
            invocation
                .key(self.session_key(old))
                .key(self.lease_key(old))
                .arg(hex(old))
                .arg(self.person_prefix())
                .arg(self.sid_prefix())
                .arg(channel(&self.redis));
        }
        let sessions_of_person: i64 = invocation
            .invoke_async(&mut self.conn())
            .await
            .store("Failed to insert a session into Redis")?;
        usize::try_from(sessions_of_person)
            .map_err(|_| StoreError::Unavailable(anyhow::anyhow!("a session with this key exists")))
    }

    fn session_key(&self, key: &SessionKey) -> String {
        self.redis.key(&format!("s:{}", hex(key)))
    }

    fn lease_key(&self, key: &SessionKey) -> String {
        self.redis.key(&format!("l:{}", hex(key)))
    }

    fn person_key(&self, person: Option<&str>) -> String {
        format!("{}{}", self.person_prefix(), person.unwrap_or_default())
    }

    fn person_prefix(&self) -> String {
        self.redis.key("p:")
    }

    fn sid_key(&self, provider_sid: Option<&str>) -> String {
        format!("{}{}", self.sid_prefix(), provider_sid.unwrap_or_default())
    }

    fn sid_prefix(&self) -> String {
        self.redis.key("i:")
    }

    fn deadlines(&self) -> String {
        self.redis.key("deadlines")
    }

    fn deadline(&self, r: &Record) -> i64 {
        r.expires_at.min(r.last_seen + self.idle_secs)
    }

    /// When Redis drops the hash by itself (Unix ms), if no sweep removed it first.
    fn drop_at_ms(&self, r: &Record) -> i64 {
        let grace = match r.person {
            Some(_) => GRACE_SECS,
            None => PRE_AUTH_GRACE_SECS,
        };
        (self.deadline(r) + grace) * 1000
    }

    fn conn(&self) -> redis::aio::ConnectionManager {
        self.redis.conn()
    }

    /// The sessions whose keys the set at `set` holds; members whose session is gone (or
    /// no longer belongs to the set, by `belongs`) are removed from the set.
    async fn members(
        &self,
        set: String,
        belongs: impl Fn(&Record) -> bool,
    ) -> Result<Vec<(SessionKey, Record)>, StoreError> {
        let mut conn = self.conn();
        let members: Vec<String> = conn
            .smembers(&set)
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
                Some(r) if belongs(&r) => found.push((key, r)),
                // Expired by Redis itself: drop the stale member.
                _ => gone.push(hex(&key)),
            }
        }
        if !gone.is_empty() {
            let _: i64 = conn
                .srem(&set, gone)
                .await
                .store("Failed to tidy a session list in Redis")?;
        }
        Ok(found)
    }
}

#[async_trait]
impl SessionRecords for RedisSessions {
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
        self.insert_in_place_of(None, key, r).await.map(drop)
    }

    /// One round trip, and atomic: the browser never holds neither session. The
    /// person's sessions are counted in it too (`SCARD`, within the contract's rule).
    async fn replace(
        &self,
        old: &SessionKey,
        new: &SessionKey,
        r: &Record,
    ) -> Result<Option<usize>, StoreError> {
        let sessions_of_person = self.insert_in_place_of(Some(old), new, r).await?;
        Ok(r.person.is_some().then_some(sessions_of_person))
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
            .key(self.person_key(r.person.as_deref()))
            .key(self.sid_key(r.provider_sid.as_deref()))
            .arg(hex(key))
            .arg(expected)
            .arg(r.person.as_deref().unwrap_or_default())
            .arg(r.provider_sid.as_deref().unwrap_or_default())
            .arg(&r.data)
            .arg(r.version)
            .arg(r.last_seen)
            .arg(r.expires_at)
            .arg(deadline)
            .arg(self.drop_at_ms(r))
            .arg(channel(&self.redis))
            .arg(self.person_prefix())
            .arg(self.sid_prefix())
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
            .arg(PRE_AUTH_GRACE_SECS)
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
            .arg(self.person_prefix())
            .arg(self.sid_prefix())
            .arg(channel(&self.redis))
            .invoke_async(&mut self.conn())
            .await
            .store("Failed to delete a session from Redis")?;
        Ok(existed == 1)
    }
}

#[async_trait]
impl SessionIndex for RedisSessions {
    async fn list_for_person(&self, person: &str) -> Result<Vec<(SessionKey, Record)>, StoreError> {
        self.members(self.person_key(Some(person)), |r| {
            r.person.as_deref() == Some(person)
        })
        .await
    }

    /// The person's set: members whose session Redis has expired count until a listing
    /// tidies them, which is what the contract allows.
    async fn count_for_person(&self, person: &str) -> Result<usize, StoreError> {
        self.conn()
            .scard(self.person_key(Some(person)))
            .await
            .store("Failed to count sessions in Redis")
    }

    async fn with_provider_sid(
        &self,
        provider_sid: &str,
    ) -> Result<Vec<(SessionKey, Record)>, StoreError> {
        self.members(self.sid_key(Some(provider_sid)), |r| {
            r.provider_sid.as_deref() == Some(provider_sid)
        })
        .await
    }

    async fn delete_all_for_person(&self, person: &str) -> Result<Vec<Removed>, StoreError> {
        let values: Vec<String> = self
            .scripts
            .delete_person
            .key(self.person_key(Some(person)))
            .key(self.deadlines())
            .arg(self.redis.key("s:"))
            .arg(self.redis.key("l:"))
            .arg(self.sid_prefix())
            .arg(channel(&self.redis))
            .invoke_async(&mut self.conn())
            .await
            .store("Failed to delete a person's sessions in Redis")?;
        Ok(values
            .chunks(9)
            .filter_map(|chunk| {
                let key = key_from_hex(chunk.first()?)?;
                let fields: Vec<(String, String)> = FIELDS
                    .iter()
                    .map(|n| n.to_string())
                    .zip(chunk[1..].iter().cloned())
                    .collect();
                Some(Removed {
                    key,
                    record: record(&fields)?,
                })
            })
            .collect())
    }
}

#[async_trait]
impl ExpiredDeletion for RedisSessions {
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
                .arg(self.person_prefix())
                .arg(self.sid_prefix())
                .arg(channel(&self.redis))
                .arg(self.idle_secs)
                .invoke_async(&mut conn)
                .await
                .store("Failed to expire a session in Redis")?;
            let Ok(values) = redis::from_redis_value::<Vec<String>>(value) else {
                continue;
            };
            let fields: Vec<(String, String)> =
                FIELDS.iter().map(|n| n.to_string()).zip(values).collect();
            if let Some(record) = record(&fields) {
                removed.push(Removed { key, record });
            }
        }
        Ok(removed)
    }
}

#[async_trait]
impl RefreshLeases for RedisSessions {
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
}

#[async_trait]
impl SeenIds for RedisSessions {
    async fn has_seen(&self, kind: &str, id: &str, _now: i64) -> Result<bool, StoreError> {
        // Redis drops the key when it expires (EXAT).
        self.conn()
            .exists(self.redis.key(&format!("seen:{kind}:{id}")))
            .await
            .store("Failed to look for a seen id in Redis")
    }

    async fn remember(&self, kind: &str, id: &str, expires_at: i64) -> Result<(), StoreError> {
        // GT: a second remember never shortens the first one's expiry.
        let key = self.redis.key(&format!("seen:{kind}:{id}"));
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(&key)
            .arg(1)
            .arg("NX")
            .arg("EXAT")
            .arg(expires_at.max(1))
            .ignore()
            .cmd("EXPIREAT")
            .arg(&key)
            .arg(expires_at.max(1))
            .arg("GT")
            .ignore();
        pipe.query_async::<()>(&mut self.conn())
            .await
            .store("Failed to remember a seen id in Redis")
    }

    async fn forget_sightings(&self, _now: i64) -> Result<(), StoreError> {
        // Redis expires them by itself (EXAT).
        Ok(())
    }
}

#[async_trait]
impl Ping for RedisSessions {
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
