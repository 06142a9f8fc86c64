//! Where state lives: the database connections and the one error every store returns.

pub mod postgres;
pub mod redis;
pub mod sqlite;

/// The database of users (and audit events): SQLite by default, PostgreSQL when
/// `DATABASE_URL` says so. Queries are written once, in SQL both understand (`$n`
/// placeholders, `ON CONFLICT`, `RETURNING`), and run through [`on_database!`].
#[derive(Clone)]
pub enum Database {
    Sqlite(sqlite::Writer),
    Postgres(sqlx::PgPool),
}

impl Database {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Runs the same expression against whichever database the [`Database`] holds:
/// `on_database!(db, pool => sqlx::query(SQL).execute(pool).await)`. For SQLite the
/// expression runs on the writer's own task, so it must own what it binds: callers move
/// owned copies in.
#[macro_export]
macro_rules! on_database {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::storage::Database::Sqlite(writer) => {
                writer
                    .run(move |$pool| ::std::boxed::Box::pin(async move { $body }))
                    .await
            }
            $crate::storage::Database::Postgres($pool) => $body,
        }
    };
}

/// A store could not do what was asked. Handlers answer 503 `unavailable` for it: the
/// request may well succeed once the store is back.
#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    #[error("the store is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A stored value could not be read back (corruption or an older format).
    #[error("a stored value is unreadable")]
    Corrupt(#[source] anyhow::Error),
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
            crate::metrics::store_error(what);
            StoreError::unavailable(e, what)
        })
    }
}
