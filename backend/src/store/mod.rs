//! Where state lives: the only room that imports a database driver (sqlx, rusqlite,
//! redis). Above it everything speaks through small traits, one per concern, each with a
//! contract suite that every backend passes:
//!
//! | trait | SQLite | Redis | PostgreSQL | memory (unit tests) |
//! |---|---|---|---|---|
//! | [`SessionRecords`], [`SessionIndex`], [`ExpiredDeletion`] | yes | yes | | yes |
//! | [`RefreshLeases`], [`SeenIds`] | yes | yes | | yes |
//! | [`UserRecords`], [`AuditLog`] | yes | | yes | yes |
//! | [`RateCounter`] | in process | yes | | |
//!
//! [`Stores::open`] connects what the settings name; an unreachable store stops start-up
//! with one line naming its variable.

mod audit;
#[cfg(any(test, feature = "contract"))]
pub mod contract;
#[cfg(any(test, feature = "contract"))]
pub mod memory;
pub mod postgres;
pub mod probe;
mod rate;
pub mod redis;
mod sessions;
pub mod sqlite;
mod users;

use std::sync::Arc;

use secrecy::ExposeSecret;

pub use self::audit::{AuditLog, AuditRow, REFUSALS};
pub use self::rate::{LocalRateCounter, Rate, RateCounter};
pub use self::redis::Invalidation;
pub use self::sessions::{
    ExpiredDeletion, Ping, Record, RefreshLeases, Removed, SeenIds, SessionBackend, SessionIndex,
    SessionKey, SessionRecords,
};
pub use self::users::{UserBackend, UserRecords};
use crate::clock::Clock;
use crate::config::Settings;

/// `operation` as a debug-level span named `store` (an OpenTelemetry child span of the
/// request when traces are exported; nothing at all otherwise, the default level being
/// info). Only the operation's name is recorded: never a key, a person or a value.
pub fn traced<F: std::future::Future>(
    operation: &'static str,
    future: F,
) -> tracing::instrument::Instrumented<F> {
    tracing::Instrument::instrument(
        future,
        tracing::debug_span!("store", operation, otel.kind = "client"),
    )
}

/// A store could not do what was asked. The web edge answers 503 `unavailable` for it:
/// the request may well succeed once the store is back.
#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    #[error("the store is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A stored value could not be read back (corruption or an older format).
    #[error("a stored value is unreadable")]
    Corrupt(#[source] anyhow::Error),
    /// The store has more work queued than it takes: try again shortly.
    #[error("the store is overloaded")]
    Overloaded,
}

impl StoreError {
    pub fn unavailable(e: impl Into<anyhow::Error>, what: &'static str) -> Self {
        Self::Unavailable(e.into().context(what))
    }
}

/// `.store("Failed to …")?` on any store call, like anyhow's `context`.
pub trait StoreResultExt<T> {
    fn store(self, what: &'static str) -> Result<T, StoreError>;
}

impl<T, E: Into<anyhow::Error>> StoreResultExt<T> for Result<T, E> {
    fn store(self, what: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| {
            let e = e.into();
            if matches!(
                e.downcast_ref::<sqlite::WriteError>(),
                Some(sqlite::WriteError::Overloaded)
            ) {
                return StoreError::Overloaded;
            }
            crate::metrics::store_error(what);
            StoreError::Unavailable(e.context(what))
        })
    }
}

/// Which kind of store holds sessions and users (for `/readyz` and the logs).
#[derive(Clone, Copy, Debug)]
pub struct StoreKinds {
    pub sessions: &'static str,
    pub users: &'static str,
}

/// The stores the settings name, connected: sessions (with their leases and seen ids) in
/// Redis or the SQLite file, users and audit events in PostgreSQL or the SQLite file.
pub struct Stores {
    pub sessions: Arc<dyn SessionBackend>,
    pub leases: Arc<dyn RefreshLeases>,
    pub seen: Arc<dyn SeenIds>,
    pub users: Arc<dyn UserBackend>,
    pub audit: Arc<dyn AuditLog>,
    pub kinds: StoreKinds,
    /// Shared by every instance: rate counters and the session cache's invalidations go
    /// through it too.
    redis: Option<redis::Redis>,
}

impl Stores {
    /// Connects every store `settings` names and applies their migrations.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let redis = match &settings.stores.redis_url {
            Some(url) => Some(
                redis::Redis::connect(
                    url.expose_secret(),
                    &settings.stores.redis_prefix,
                    "SESSION_STORE/REDIS_URL",
                )
                .await?,
            ),
            None => None,
        };
        let database_url = settings.database_url();
        let users_in_postgres = !database_url.starts_with("sqlite:");
        let sqlite = if redis.is_none() || !users_in_postgres {
            Some(sqlite::connect(&settings.sqlite_url()).await?)
        } else {
            None
        };
        let (users, audit): (Arc<dyn UserBackend>, Arc<dyn AuditLog>) = match &sqlite {
            Some(db) if !users_in_postgres => (
                Arc::new(sqlite::SqliteUsers::new(db)),
                Arc::new(sqlite::SqliteAudit::new(db.write.clone())),
            ),
            _ => {
                let pool = postgres::connect(&database_url).await?;
                (
                    Arc::new(postgres::PgUsers::new(pool.clone())),
                    Arc::new(postgres::PgAudit::new(pool)),
                )
            }
        };
        let kinds = StoreKinds {
            sessions: if redis.is_some() { "redis" } else { "sqlite" },
            users: if users_in_postgres {
                "postgres"
            } else {
                "sqlite"
            },
        };
        let (sessions, leases, seen): (
            Arc<dyn SessionBackend>,
            Arc<dyn RefreshLeases>,
            Arc<dyn SeenIds>,
        ) = match (&redis, sqlite) {
            (Some(redis), _) => {
                let store = Arc::new(redis::RedisSessions::new(
                    redis.clone(),
                    settings.sessions.idle_secs,
                ));
                (store.clone(), store.clone(), store)
            }
            (None, Some(db)) => {
                let store = Arc::new(sqlite::SqliteSessions::new(db));
                (store.clone(), store.clone(), store)
            }
            (None, None) => unreachable!("SQLite is opened whenever Redis is not configured"),
        };
        Ok(Self {
            sessions,
            leases,
            seen,
            users,
            audit,
            kinds,
            redis,
        })
    }

    /// A counter of requests per key at `rate`, on `clock`. With Redis configured every
    /// instance counts against one budget.
    pub fn rate_counter(
        &self,
        name: &'static str,
        rate: Rate,
        clock: Clock,
    ) -> Arc<dyn RateCounter> {
        match &self.redis {
            Some(redis) => Arc::new(redis::RedisRateCounter::new(
                redis.clone(),
                name,
                rate,
                clock,
            )),
            None => Arc::new(LocalRateCounter::new(rate, clock)),
        }
    }

    /// With a store shared by several instances (Redis): calls `on_change` for every
    /// session another instance changed, so a read cache can drop it. `None` when this
    /// process is the store's only writer. The returned task runs until aborted.
    pub fn follow_invalidations(
        &self,
        on_change: impl Fn(redis::Invalidation) + Send + Sync + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let redis = self.redis.clone()?;
        Some(tokio::spawn(redis::invalidation::listen(redis, on_change)))
    }

    /// True when the sessions are shared with other instances.
    pub fn shared(&self) -> bool {
        self.redis.is_some()
    }
}
