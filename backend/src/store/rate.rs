//! Counting requests per client by GCRA (the generic cell rate algorithm): in process
//! with the `governor` crate, or in Redis (`redis/rate.rs`) so that every instance counts
//! against one budget.
//!
//! A plain governor keyed limiter rather than actix-governor: that crate is GPL-licensed,
//! and the web edge calls [`RateCounter::hit`] itself with the key it chose.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::StoreError;

#[async_trait]
pub trait RateCounter: Send + Sync {
    /// Counts one request of `client`: `None` when allowed, otherwise how long to wait.
    async fn hit(&self, client: IpAddr) -> Result<Option<Duration>, StoreError>;
    /// Forgets clients whose allowance is full again, so memory does not grow forever
    /// (stores that expire keys by themselves do nothing).
    fn forget_idle_clients(&self) {}
}

/// This process's own counter.
pub struct LocalRateCounter(DefaultKeyedRateLimiter<IpAddr>);

impl LocalRateCounter {
    /// A burst of `burst`, then one more every `every`.
    pub fn new(every: Duration, burst: u32) -> Self {
        let quota = Quota::with_period(every.max(Duration::from_micros(1)))
            .expect("a non-zero period")
            .allow_burst(NonZeroU32::new(burst.max(1)).expect("at least 1"));
        Self(RateLimiter::keyed(quota))
    }
}

#[async_trait]
impl RateCounter for LocalRateCounter {
    async fn hit(&self, client: IpAddr) -> Result<Option<Duration>, StoreError> {
        Ok(self
            .0
            .check_key(&client)
            .err()
            .map(|not_until| not_until.wait_time_from(DefaultClock::default().now())))
    }

    fn forget_idle_clients(&self) {
        self.0.retain_recent();
        self.0.shrink_to_fit();
    }
}
