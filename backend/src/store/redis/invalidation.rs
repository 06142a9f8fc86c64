//! Every change to a session in Redis is published (by the same script that writes it)
//! on the `invalidate` channel. This listener hands each one to a callback, so an
//! instance's in-process session cache can drop what another instance changed.
//!
//! While the subscription is down, changes published meanwhile are lost: the listener
//! says so ([`Invalidation::Lost`]) before it reconnects and again once it is back
//! ([`Invalidation::Following`]), so the cache can switch itself off in between.

use std::time::Duration;

use futures_util::StreamExt as _;

use super::sessions::key_from_hex;
use super::Redis;
use crate::store::SessionKey;

/// What the listener reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalidation {
    /// Subscribed: every change from now on is reported.
    Following,
    /// This session changed somewhere.
    Changed(SessionKey),
    /// Something changed that cannot be named (a malformed message): forget everything.
    Unknown,
    /// The subscription is down: changes may be missed until [`Invalidation::Following`].
    Lost,
}

/// The channel every session change is published on.
pub fn channel(redis: &Redis) -> String {
    redis.key("invalidate")
}

/// Runs until the task is aborted.
pub async fn listen(redis: Redis, on_change: impl Fn(Invalidation) + Send + Sync) {
    let channel = channel(&redis);
    let mut delay = Duration::from_millis(100);
    loop {
        match redis.client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    on_change(Invalidation::Following);
                    tracing::info!("following session changes through Redis");
                    delay = Duration::from_millis(100);
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        let Ok(payload) = message.get_payload::<String>() else {
                            continue;
                        };
                        on_change(match key_from_hex(&payload) {
                            Some(key) => Invalidation::Changed(key),
                            None => Invalidation::Unknown,
                        });
                    }
                    tracing::warn!("lost the Redis invalidation channel");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not subscribe to session invalidations")
                }
            },
            Err(e) => tracing::warn!(error = %e, "could not connect for session invalidations"),
        }
        on_change(Invalidation::Lost);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
