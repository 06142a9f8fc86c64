//! The store contracts (the same suites the SQLite and memory stores pass in their unit
//! tests) against real servers: sessions in Redis, users and audit events in PostgreSQL.

use std::sync::Arc;

use backend::store::contract;
use backend::store::postgres::{self, PgAudit, PgUsers};
use backend::store::redis::{Redis, RedisSessions};

use crate::helpers::{PostgresServer, RedisServer};

#[tokio::test]
async fn the_redis_session_store_keeps_every_contract() {
    let server = RedisServer::start();
    let redis = Redis::connect(&server.url(), "contract:", "REDIS_URL")
        .await
        .unwrap();
    // The contract's records expire by idleness 3000 s after they were last seen.
    contract::sessions::run_all(Arc::new(RedisSessions::new(redis, 3000))).await;
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
