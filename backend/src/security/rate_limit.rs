//! Per-client-IP rate limits on the sign-in endpoints, by GCRA (the generic cell rate
//! algorithm): in process with the `governor` crate, or, with Redis configured, in one
//! atomic Lua script on the Redis server, so every instance counts against one budget.
//!
//! A plain governor keyed limiter rather than actix-governor: that crate is GPL-licensed,
//! and a check called first thing in the handler is all the wiring needed.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use redis::Script;

use super::client_ip::{client_ip, rate_limit_key};
use crate::error::ApiError;
use crate::storage::redis::Redis;
use crate::storage::StoreResultExt as _;

/// GCRA in Redis, on the server's own clock (so instances' clocks never disagree).
/// KEYS: the client's key. ARGV: emission interval ms, burst. Returns 0 when allowed,
/// otherwise the milliseconds to wait.
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

enum Backend {
    Local(DefaultKeyedRateLimiter<IpAddr>),
    Shared { redis: Redis, script: Script },
}

pub struct IpRateLimiter {
    name: &'static str,
    backend: Backend,
    /// One request's worth of allowance comes back every `interval`...
    interval: Duration,
    /// ...up to this many at once.
    burst: u32,
    trusted_proxies: Vec<IpAddr>,
}

impl IpRateLimiter {
    /// `per_minute` requests per client, all usable at once, refilled evenly over a minute.
    pub fn per_minute(
        name: &'static str,
        per_minute: u32,
        trusted_proxies: Vec<IpAddr>,
        redis: Option<&Redis>,
    ) -> Self {
        let per_minute = per_minute.max(1);
        Self::new(
            name,
            Duration::from_secs(60) / per_minute,
            per_minute,
            trusted_proxies,
            redis,
        )
    }

    /// A burst of `burst` requests per client, then one more every `every`. With `redis`
    /// the budget is shared by every instance using that Redis.
    pub fn new(
        name: &'static str,
        every: Duration,
        burst: u32,
        trusted_proxies: Vec<IpAddr>,
        redis: Option<&Redis>,
    ) -> Self {
        let every = every.max(Duration::from_micros(1));
        let burst = burst.max(1);
        let backend = match redis {
            Some(redis) => Backend::Shared {
                redis: redis.clone(),
                script: Script::new(GCRA),
            },
            None => {
                let quota = Quota::with_period(every)
                    .expect("a non-zero period")
                    .allow_burst(NonZeroU32::new(burst).expect("at least 1"));
                Backend::Local(RateLimiter::keyed(quota))
            }
        };
        Self {
            name,
            backend,
            interval: every,
            burst,
            trusted_proxies,
        }
    }

    /// Counts the request; `rate_limited` with `Retry-After` when over the limit.
    pub async fn check(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let Some(ip) = client_ip(req, &self.trusted_proxies) else {
            return Ok(());
        };
        let key = rate_limit_key(ip);
        let wait = match &self.backend {
            Backend::Local(limiter) => match limiter.check_key(&key) {
                Ok(()) => return Ok(()),
                Err(not_until) => not_until.wait_time_from(DefaultClock::default().now()),
            },
            Backend::Shared { redis, script } => {
                let wait_ms: u64 = script
                    .key(redis.key(&format!("rl:{}:{key}", self.name)))
                    .arg(self.interval.as_millis().max(1) as u64)
                    .arg(self.burst)
                    .invoke_async(&mut redis.conn.clone())
                    .await
                    .store("Failed to count a request in Redis")?;
                if wait_ms == 0 {
                    return Ok(());
                }
                Duration::from_millis(wait_ms)
            }
        };
        Err(ApiError::RateLimited {
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        })
    }

    /// Forgets clients whose allowance is full again, so the map does not grow forever
    /// (Redis expires its keys by itself).
    pub fn forget_idle_clients(&self) {
        if let Backend::Local(limiter) = &self.backend {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}
