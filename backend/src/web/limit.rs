//! Per-client rate limits on the sign-in endpoints: who the client is (through trusted
//! proxies, per /64 for IPv6) decided here, the counting done by a store
//! ([`RateCounter`]: in process, or shared by every instance in Redis).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;

use super::client_ip::{client_ip, rate_limit_key};
use crate::store::{RateCounter, StoreError};

/// Over the limit: try again after this many seconds.
#[derive(Debug, Clone, Copy)]
pub struct Refused {
    pub retry_after_secs: u64,
}

/// Why a request was not let through.
#[derive(Debug)]
pub enum LimitError {
    Refused(Refused),
    Store(StoreError),
}

pub struct IpRateLimiter {
    counter: Arc<dyn RateCounter>,
    trusted_proxies: Vec<IpAddr>,
}

impl IpRateLimiter {
    pub fn new(counter: Arc<dyn RateCounter>, trusted_proxies: Vec<IpAddr>) -> Self {
        Self {
            counter,
            trusted_proxies,
        }
    }

    /// Counts the request; [`LimitError::Refused`] when over the limit.
    pub async fn check(&self, req: &HttpRequest) -> Result<(), LimitError> {
        let Some(ip) = client_ip(req, &self.trusted_proxies) else {
            return Ok(());
        };
        match self.counter.hit(rate_limit_key(ip)).await {
            Ok(None) => Ok(()),
            Ok(Some(wait)) => Err(LimitError::Refused(refused(wait))),
            Err(e) => Err(LimitError::Store(e)),
        }
    }

    /// Forgets clients whose allowance is full again.
    pub fn forget_idle_clients(&self) {
        self.counter.forget_idle_clients();
    }
}

fn refused(wait: Duration) -> Refused {
    Refused {
        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}

/// `per_minute` requests per client, all usable at once, refilled evenly over a minute:
/// the (interval, burst) pair a [`RateCounter`] takes.
pub fn per_minute(per_minute: u32) -> (Duration, u32) {
    let per_minute = per_minute.max(1);
    (Duration::from_secs(60) / per_minute, per_minute)
}
