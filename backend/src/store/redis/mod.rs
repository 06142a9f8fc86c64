//! Redis: sessions with their leases and seen ids (`sessions.rs`), rate counters
//! (`rate.rs`) and the session cache's invalidations (`invalidation.rs`), over one
//! reconnecting connection manager, with a key prefix so several deployments (or test
//! runs) can share one server.

pub mod invalidation;
mod rate;
mod sessions;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Client;

use crate::per_thread::PerThreadConnection;

pub use self::invalidation::Invalidation;
pub use self::rate::RedisRateCounter;
pub use self::sessions::RedisSessions;

/// A connected Redis and where our keys live in it.
#[derive(Clone)]
pub struct Redis {
    pub client: Client,
    /// The connection made at start-up, and one per HTTP worker (`per_thread`).
    conns: Arc<PerThreadConnection<ConnectionManager>>,
    /// Put before every key and channel name (`bff:` by default).
    pub prefix: String,
}

/// How a connection manager connects and reconnects.
fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500))
}

impl Redis {
    /// Connects (failing at once with a line naming `variable` when the server cannot be
    /// reached) and returns a manager that reconnects by itself afterwards.
    pub async fn connect(url: &str, prefix: &str, variable: &str) -> anyhow::Result<Self> {
        let client =
            Client::open(url).with_context(|| format!("{variable} is not a valid redis:// URL"))?;
        let conn = tokio::time::timeout(
            Duration::from_secs(5),
            client.get_connection_manager_with_config(manager_config()),
        )
        .await
        .map_err(|_| anyhow::anyhow!("timed out"))
        .and_then(|r| r.map_err(anyhow::Error::from))
        .with_context(|| {
            format!(
                "{variable}: the Redis server at {} is unreachable",
                redacted(url)
            )
        })?;
        let mut ping = conn.clone();
        redis::cmd("PING")
            .query_async::<()>(&mut ping)
            .await
            .with_context(|| {
                format!(
                    "{variable}: the Redis server at {} does not answer",
                    redacted(url)
                )
            })?;
        Ok(Self {
            client,
            conns: Arc::new(PerThreadConnection::new(conn)),
            prefix: prefix.to_owned(),
        })
    }

    /// A connection for one command or script: this HTTP worker's own once it has
    /// connected (in the background, at its first command), otherwise the shared one.
    pub fn conn(&self) -> ConnectionManager {
        self.conns.get(|| {
            let client = self.client.clone();
            async move {
                match client
                    .get_connection_manager_with_config(manager_config())
                    .await
                {
                    Ok(conn) => Some(conn),
                    Err(e) => {
                        // The shared connection reports an outage; this would repeat it.
                        tracing::debug!(error = %e, "a worker's Redis connection failed; the shared one serves it");
                        None
                    }
                }
            }
        })
    }

    /// `prefix` + `name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

/// The URL without its password, for messages.
pub use crate::config::without_password as redacted;

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_never_reach_a_message() {
        let shown = redacted("redis://:hunter2@cache.internal:6379/0");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("cache.internal"));
    }
}
