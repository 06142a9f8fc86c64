//! Where state lives: the database connections and the one error every store returns.

pub mod postgres;
pub mod redis;
pub mod sqlite;

/// The database of users (and audit events): SQLite by default, PostgreSQL when
/// `DATABASE_URL` says so. Queries are written once, in SQL both understand (`$n`
/// placeholders, `ON CONFLICT`, `RETURNING`), and run through sqlx on PostgreSQL and on
/// the SQLite writer's thread ([`sqlite::Writer`]) on SQLite.
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
