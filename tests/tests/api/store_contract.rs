//! The store contracts (the same suites the SQLite and memory stores pass in their unit
//! tests) against real servers: sessions in Redis, users and audit events in PostgreSQL.

use std::sync::Arc;

use backend::clock::Clock;
use backend::store::contract;
use backend::store::postgres::{self, PgAudit, PgUsers};
use backend::store::redis::{Redis, RedisRateCounter, RedisSessions};
use backend::store::RateCounter;

use crate::helpers::{PostgresServer, RedisServer};

#[tokio::test]
async fn the_redis_session_store_keeps_every_contract() {
    let server = RedisServer::start();
    let redis = Redis::connect(&server.url(), "contract:", "REDIS_URL")
        .await
        .unwrap();
    // The contract's records expire by idleness 3000 s after they were last seen.
    let store = Arc::new(RedisSessions::new(redis, 3000));
    contract::sessions::replace_counts_in_the_same_write(&*store).await;
    contract::sessions::run_all(store).await;
}

#[tokio::test]
async fn the_postgres_user_and_audit_stores_keep_their_contracts() {
    let server = PostgresServer::start();
    let pool = postgres::connect(&server.new_database().await)
        .await
        .unwrap();
    contract::users::run(&PgUsers::new(pool.clone())).await;
    contract::audit::run(&PgAudit::new(pool)).await;
}

#[tokio::test]
async fn redis_counts_requests_by_the_contract_and_several_counters_in_one_step() {
    let server = RedisServer::start();
    let redis = Redis::connect(&server.url(), "contract:", "REDIS_URL")
        .await
        .unwrap();
    let clock = Clock::default();
    let make = |name, rate| {
        Arc::new(RedisRateCounter::new(
            redis.clone(),
            name,
            rate,
            clock.clone(),
        )) as Arc<dyn RateCounter>
    };
    contract::rate::run(make, &clock, true).await;
}
