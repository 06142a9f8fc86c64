//! Per-client-IP rate limits on the sign-in endpoints (GCRA from the `governor` crate).
//!
//! A plain governor keyed limiter rather than actix-governor: that crate is GPL-licensed,
//! and a check called first thing in the handler is all the wiring needed.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::client_ip::{client_ip, rate_limit_key};
use crate::error::ApiError;

pub struct IpRateLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    trusted_proxies: Vec<IpAddr>,
}

impl IpRateLimiter {
    /// `per_minute` requests per client, all usable at once, refilled evenly over a minute.
    pub fn per_minute(per_minute: u32, trusted_proxies: Vec<IpAddr>) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).expect("at least 1");
        Self::with_quota(Quota::per_minute(n), trusted_proxies)
    }

    /// A burst of `burst` requests per client, then one more every `every`.
    pub fn new(every: std::time::Duration, burst: u32, trusted_proxies: Vec<IpAddr>) -> Self {
        let quota = Quota::with_period(every)
            .expect("a non-zero period")
            .allow_burst(NonZeroU32::new(burst.max(1)).expect("at least 1"));
        Self::with_quota(quota, trusted_proxies)
    }

    fn with_quota(quota: Quota, trusted_proxies: Vec<IpAddr>) -> Self {
        Self {
            limiter: RateLimiter::keyed(quota),
            trusted_proxies,
        }
    }

    /// Counts the request; `rate_limited` with `Retry-After` when over the limit.
    pub fn check(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let Some(ip) = client_ip(req, &self.trusted_proxies) else {
            return Ok(());
        };
        self.limiter
            .check_key(&rate_limit_key(ip))
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                ApiError::RateLimited {
                    retry_after_secs: wait.as_secs().max(1),
                }
            })
    }

    /// Forgets clients whose allowance is full again, so the map does not grow forever.
    pub fn forget_idle_clients(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}
