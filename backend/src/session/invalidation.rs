//! Keeps this instance's session read cache honest when other instances share the store:
//! every change to a session in Redis is published (by the same script that writes it),
//! and this listener drops the named session from the local cache.
//!
//! The cache is used only while the subscription is live. When the connection drops,
//! the cache is switched off and flushed whole (changes published meanwhile are lost);
//! once subscribed again it is flushed once more and switched back on.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;

use super::cache::SessionCache;
use super::redis::{key_from_hex, RedisStore};
use crate::storage::redis::Redis;

/// Runs until the task is aborted.
pub async fn listen(redis: Redis, cache: Arc<SessionCache>) {
    let channel = RedisStore::channel(&redis);
    let mut delay = Duration::from_millis(100);
    loop {
        match redis.client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    cache.clear();
                    cache.set_active(true);
                    tracing::info!("session cache on: invalidations arrive through Redis");
                    delay = Duration::from_millis(100);
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        let Ok(payload) = message.get_payload::<String>() else {
                            continue;
                        };
                        match key_from_hex(&payload) {
                            Some(key) => cache.invalidate(&key),
                            None => cache.clear(),
                        }
                    }
                    tracing::warn!("lost the Redis invalidation channel; session cache off");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not subscribe to session invalidations")
                }
            },
            Err(e) => tracing::warn!(error = %e, "could not connect for session invalidations"),
        }
        cache.set_active(false);
        cache.clear();
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
