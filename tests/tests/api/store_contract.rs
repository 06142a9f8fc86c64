//! The session store contract (the same suite the SQLite and memory stores pass in
//! their unit tests) against a real Redis server.

use std::sync::Arc;

use backend::session::{contract, RedisStore};
use backend::storage::redis::Redis;

use crate::helpers::RedisServer;

#[tokio::test]
async fn the_redis_store_keeps_the_store_contract() {
    let server = RedisServer::start();
    let redis = Redis::connect(&server.url(), "contract:", "REDIS_URL")
        .await
        .unwrap();
    // The contract's records expire by idleness 3000 s after they were last seen.
    contract::run(&RedisStore::new(redis.clone(), 3000)).await;
    contract::one_of_many_concurrent_updates_wins(Arc::new(RedisStore::new(redis, 3000))).await;
}
