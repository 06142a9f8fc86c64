//! Request counting in Redis (see `store/rate.rs`): one atomic Lua script on the Redis
//! server's own clock, so instances whose clocks disagree still share one budget.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use redis::Script;

use super::Redis;
use crate::store::{RateCounter, StoreError, StoreResultExt as _};

/// GCRA. KEYS: the client's key. ARGV: emission interval ms, burst. Returns 0 when
/// allowed, otherwise the milliseconds to wait.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - now - burst * interval
if wait > 0 then return wait end
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, new_tat - now))
return 0";

pub struct RedisRateCounter {
    redis: Redis,
    name: &'static str,
    interval_ms: u64,
    burst: u32,
    script: Script,
}

impl RedisRateCounter {
    pub fn new(redis: Redis, name: &'static str, every: Duration, burst: u32) -> Self {
        Self {
            redis,
            name,
            interval_ms: every.as_millis().max(1) as u64,
            burst: burst.max(1),
            script: Script::new(GCRA),
        }
    }
}

#[async_trait]
impl RateCounter for RedisRateCounter {
    async fn hit(&self, client: IpAddr) -> Result<Option<Duration>, StoreError> {
        let wait_ms: u64 = self
            .script
            .key(self.redis.key(&format!("rl:{}:{client}", self.name)))
            .arg(self.interval_ms)
            .arg(self.burst)
            .invoke_async(&mut self.redis.conn.clone())
            .await
            .store("Failed to count a request in Redis")?;
        Ok((wait_ms > 0).then(|| Duration::from_millis(wait_ms)))
    }
}
