//! Request counting in Redis (see `store/rate.rs`): the same GCRA step in one atomic Lua
//! script, so every instance counts against one budget. The time comes from the
//! instance (its clocks are synchronised to well within the intervals counted here,
//! which are seconds), so tests can move it like the in-process counter's.

use std::time::Duration;

use async_trait::async_trait;
use redis::Script;

use super::Redis;
use crate::clock::Clock;
use crate::store::{Rate, RateCounter, StoreError, StoreResultExt as _};

/// GCRA. KEYS: the key's TAT. ARGV: now ms, emission interval ms, burst. Returns 0 when
/// allowed, otherwise the milliseconds to wait.
const GCRA: &str = r"
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
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
    rate: Rate,
    clock: Clock,
    script: Script,
}

impl RedisRateCounter {
    pub fn new(redis: Redis, name: &'static str, rate: Rate, clock: Clock) -> Self {
        Self {
            redis,
            name,
            rate,
            clock,
            script: Script::new(GCRA),
        }
    }
}

#[async_trait]
impl RateCounter for RedisRateCounter {
    async fn hit(&self, key: &str) -> Result<Option<Duration>, StoreError> {
        let wait_ms: u64 = self
            .script
            .key(self.redis.key(&format!("rl:{}:{key}", self.name)))
            .arg(self.clock.now_ms())
            .arg(self.rate.every.as_millis().max(1) as u64)
            .arg(self.rate.burst.max(1))
            .invoke_async(&mut self.redis.conn())
            .await
            .store("Failed to count a request in Redis")?;
        Ok((wait_ms > 0).then(|| Duration::from_millis(wait_ms)))
    }
}
