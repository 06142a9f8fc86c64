//! Counting requests per key (a client address, a session) by GCRA, the generic cell rate
//! algorithm: in process here, or in Redis (`redis/rate.rs`) so that every instance
//! counts against one budget. Both run the same few lines of arithmetic on the
//! product's clock, which tests can move.
//!
//! GCRA keeps one number per key, the theoretical arrival time (TAT) of the next request:
//! each request moves it one interval later; a request is refused while the TAT is more
//! than `burst` intervals ahead of now. So `burst` requests may come at once, then one
//! per interval.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use super::StoreError;
use crate::clock::Clock;

#[async_trait]
pub trait RateCounter: Send + Sync + 'static {
    /// Counts one request of `key`: `None` when allowed, otherwise how long to wait.
    async fn hit(&self, key: &str) -> Result<Option<Duration>, StoreError>;
    /// Counts one request of `key` here and one of each `(counter, key)` in `also`:
    /// `None` when every counter allows it, otherwise how long to wait. One store step
    /// where the store can (Redis: one round trip, nothing counted unless all allow it,
    /// and the longest wait); otherwise one counter after the other, stopping at the
    /// first refusal (and its wait).
    async fn hit_with(
        &self,
        key: &str,
        also: &[(&dyn RateCounter, &str)],
    ) -> Result<Option<Duration>, StoreError> {
        if let Some(wait) = self.hit(key).await? {
            return Ok(Some(wait));
        }
        for (counter, key) in also {
            if let Some(wait) = counter.hit(key).await? {
                return Ok(Some(wait));
            }
        }
        Ok(None)
    }
    /// The counter itself, so a store can recognise its own kind in [`hit_with`].
    ///
    /// [`hit_with`]: RateCounter::hit_with
    fn as_any(&self) -> &dyn std::any::Any;
    /// Forgets keys whose allowance is full again, so memory does not grow forever
    /// (stores that expire keys by themselves do nothing).
    fn forget_idle_clients(&self) {}
}

/// The limit a counter enforces.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    /// One request's worth of allowance comes back every `every`...
    pub every: Duration,
    /// ...up to this many at once.
    pub burst: u32,
}

impl Rate {
    fn interval_ms(self) -> i64 {
        (self.every.as_millis() as i64).max(1)
    }

    /// One GCRA step at `now_ms` from the stored `tat` (if any): the TAT to store, or
    /// how long to wait.
    pub fn step(self, tat: Option<i64>, now_ms: i64) -> Result<i64, Duration> {
        let interval = self.interval_ms();
        let next = tat.unwrap_or(now_ms).max(now_ms) + interval;
        let wait = next - now_ms - i64::from(self.burst.max(1)) * interval;
        if wait > 0 {
            Err(Duration::from_millis(wait as u64))
        } else {
            Ok(next)
        }
    }
}

/// This process's own counter.
pub struct LocalRateCounter {
    rate: Rate,
    clock: Clock,
    tats: Mutex<HashMap<String, i64>>,
}

impl LocalRateCounter {
    pub fn new(rate: Rate, clock: Clock) -> Self {
        Self {
            rate,
            clock,
            tats: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl RateCounter for LocalRateCounter {
    async fn hit(&self, key: &str) -> Result<Option<Duration>, StoreError> {
        let now = self.clock.now_ms();
        let mut tats = self.tats.lock().unwrap_or_else(|e| e.into_inner());
        match self.rate.step(tats.get(key).copied(), now) {
            Ok(tat) => {
                tats.insert(key.to_owned(), tat);
                Ok(None)
            }
            Err(wait) => Ok(Some(wait)),
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn forget_idle_clients(&self) {
        let now = self.clock.now_ms();
        let mut tats = self.tats.lock().unwrap_or_else(|e| e.into_inner());
        tats.retain(|_, tat| *tat > now);
        tats.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_burst_then_one_per_interval() {
        let clock = Clock::default();
        let counter = LocalRateCounter::new(
            Rate {
                every: Duration::from_secs(10),
                burst: 3,
            },
            clock.clone(),
        );
        for _ in 0..3 {
            assert_eq!(counter.hit("a").await.unwrap(), None);
        }
        let wait = counter.hit("a").await.unwrap().expect("over the burst");
        assert!(wait <= Duration::from_secs(10) && wait > Duration::ZERO);
        assert_eq!(counter.hit("b").await.unwrap(), None, "keys are apart");
        clock.advance(Duration::from_secs(10));
        assert_eq!(counter.hit("a").await.unwrap(), None, "one more came back");
        assert!(counter.hit("a").await.unwrap().is_some());
        clock.advance(Duration::from_secs(60));
        counter.forget_idle_clients();
        assert!(counter.tats.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn keeps_the_contract() {
        let clock = Clock::default();
        let make =
            |_, rate| Arc::new(LocalRateCounter::new(rate, clock.clone())) as Arc<dyn RateCounter>;
        crate::store::contract::rate::run(make, &clock, false).await;
    }
}
