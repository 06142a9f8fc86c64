//! Rate limits. Per client address on the sign-in endpoints (who the client is, through
//! trusted proxies and per /64 for IPv6, is decided here), and per session on the routes
//! that call GitHub with the person's token (a rate, and a cap on calls in flight, so one
//! browser cannot spend the person's GitHub budget or tie up the BFF). The counting is a
//! store's ([`RateCounter`]: in process, or shared by every instance in Redis); the cap
//! on calls in flight is per instance.

use crate::config::TrustedProxies;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::HttpRequest;

use super::client_ip::{client_ip, rate_limit_key};
use crate::session::{Session, SessionKey};
use crate::store::{Rate, RateCounter, StoreError};

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

fn refused(wait: Duration) -> Refused {
    Refused {
        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}

/// Counts `key` on `counter`.
async fn count(counter: &dyn RateCounter, key: &str) -> Result<(), LimitError> {
    match counter.hit(key).await {
        Ok(None) => Ok(()),
        Ok(Some(wait)) => Err(LimitError::Refused(refused(wait))),
        Err(e) => Err(LimitError::Store(e)),
    }
}

/// Who a request counts against.
enum Key {
    /// Its client address (through these trusted proxies).
    Client(TrustedProxies),
    /// One budget for every client.
    Everyone,
}

pub struct IpRateLimiter {
    counter: Arc<dyn RateCounter>,
    key: Key,
}

impl IpRateLimiter {
    /// Counts per client address.
    pub fn new(counter: Arc<dyn RateCounter>, trusted_proxies: TrustedProxies) -> Self {
        Self {
            counter,
            key: Key::Client(trusted_proxies),
        }
    }

    /// Counts every client against one budget.
    pub fn everyone(counter: Arc<dyn RateCounter>) -> Self {
        Self {
            counter,
            key: Key::Everyone,
        }
    }

    /// Counts the request against every limiter of `limiters` in one step of the store
    /// (one Redis round trip; nothing counted there unless all allow it);
    /// [`LimitError::Refused`] with the longest wait when one is over its limit.
    pub async fn check_all(req: &HttpRequest, limiters: &[&Self]) -> Result<(), LimitError> {
        let hits: Vec<(&dyn RateCounter, String)> = limiters
            .iter()
            .filter_map(|l| Some((&*l.counter, l.key_of(req)?)))
            .collect();
        let Some(((first, key), rest)) = hits.split_first() else {
            return Ok(());
        };
        let also: Vec<(&dyn RateCounter, &str)> =
            rest.iter().map(|(c, k)| (*c, k.as_str())).collect();
        match first.hit_with(key, &also).await {
            Ok(None) => Ok(()),
            Ok(Some(wait)) => Err(LimitError::Refused(refused(wait))),
            Err(e) => Err(LimitError::Store(e)),
        }
    }

    /// The key the request counts under; `None` when its client address is unknown
    /// (then it is not counted).
    fn key_of(&self, req: &HttpRequest) -> Option<String> {
        match &self.key {
            Key::Everyone => Some("all".to_owned()),
            Key::Client(trusted) => {
                client_ip(req, trusted).map(|ip| rate_limit_key(ip).to_string())
            }
        }
    }

    /// Forgets clients whose allowance is full again.
    pub fn forget_idle_clients(&self) {
        self.counter.forget_idle_clients();
    }
}

/// A rate and a cap on calls in flight, per session.
pub struct SessionLimiter {
    counter: Arc<dyn RateCounter>,
    at_once: u32,
    in_flight: Arc<Mutex<HashMap<SessionKey, u32>>>,
}

/// A call in flight: its place is given back when dropped.
pub struct InFlight {
    key: SessionKey,
    in_flight: Arc<Mutex<HashMap<SessionKey, u32>>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = in_flight.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                in_flight.remove(&self.key);
            }
        }
    }
}

impl SessionLimiter {
    pub fn new(counter: Arc<dyn RateCounter>, at_once: u32) -> Self {
        Self {
            counter,
            at_once: at_once.max(1),
            in_flight: Arc::default(),
        }
    }

    /// Lets one call of `session` through, or refuses it: past the cap on calls in
    /// flight (try again in a second), or past the rate.
    pub async fn enter(&self, session: &Session) -> Result<InFlight, LimitError> {
        {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            let n = in_flight.entry(session.key).or_insert(0);
            if *n >= self.at_once {
                return Err(LimitError::Refused(Refused {
                    retry_after_secs: 1,
                }));
            }
            *n += 1;
        }
        let call = InFlight {
            key: session.key,
            in_flight: self.in_flight.clone(),
        };
        count(&*self.counter, &session.public_id).await?;
        Ok(call)
    }

    pub fn forget_idle_clients(&self) {
        self.counter.forget_idle_clients();
    }
}

/// `held` at once of something that lives `lifetime` (a pre-auth session): all usable at
/// once, each coming back after one lifetime on average.
pub fn held_at_once(held: u32, lifetime: Duration) -> Rate {
    let held = held.max(1);
    Rate {
        every: lifetime / held,
        burst: held,
    }
}

/// `per_minute` requests, all usable at once, refilled evenly over a minute.
pub fn per_minute(per_minute: u32) -> Rate {
    let per_minute = per_minute.max(1);
    Rate {
        every: Duration::from_secs(60) / per_minute,
        burst: per_minute,
    }
}
