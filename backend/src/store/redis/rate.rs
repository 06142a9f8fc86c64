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

/// GCRA over one or more counters at once. KEYS: each counter's TAT. ARGV: now ms, then
/// each counter's emission interval ms and burst. Returns 0 when every counter allows the
/// request (each TAT then moves on), otherwise the longest wait in milliseconds (and
/// nothing is counted).
const GCRA: &str = r"
local now = tonumber(ARGV[1])
local next_tats = {}
local wait = 0
for i, key in ipairs(KEYS) do
    local interval = tonumber(ARGV[2 * i])
    local burst = tonumber(ARGV[2 * i + 1])
    local tat = tonumber(redis.call('GET', key) or now)
    if tat < now then tat = now end
    next_tats[i] = tat + interval
    wait = math.max(wait, next_tats[i] - now - burst * interval)
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
    redis.call('SET', key, next_tats[i], 'PX', math.max(1, next_tats[i] - now))
end
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

    /// Runs the script over `counters`, each with its key.
    async fn count(
        &self,
        counters: &[(&RedisRateCounter, &str)],
    ) -> Result<Option<Duration>, StoreError> {
        let mut invocation = self.script.prepare_invoke();
        invocation.arg(self.clock.now_ms());
        for (counter, key) in counters {
            invocation
                .key(counter.redis.key(&format!("rl:{}:{key}", counter.name)))
                .arg(counter.rate.every.as_millis().max(1) as u64)
                .arg(counter.rate.burst.max(1));
        }
        let wait_ms: u64 = invocation
            .invoke_async(&mut self.redis.conn())
            .await
            .store("Failed to count a request in Redis")?;
        Ok((wait_ms > 0).then(|| Duration::from_millis(wait_ms)))
    }
}

#[async_trait]
impl RateCounter for RedisRateCounter {
    async fn hit(&self, key: &str) -> Result<Option<Duration>, StoreError> {
        self.count(&[(self, key)]).await
    }

    /// One round trip when every counter is in Redis (they all are, or none is: the
    /// store decides for all of them).
    async fn hit_with(
        &self,
        key: &str,
        also: &[(&dyn RateCounter, &str)],
    ) -> Result<Option<Duration>, StoreError> {
        let mut counters = vec![(self, key)];
        for (counter, key) in also {
            match counter.as_any().downcast_ref::<RedisRateCounter>() {
                Some(counter) => counters.push((counter, key)),
                None => {
                    return Err(StoreError::Unavailable(anyhow::anyhow!(
                        "rate counters of different stores counted together"
                    )))
                }
            }
        }
        self.count(&counters).await
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
