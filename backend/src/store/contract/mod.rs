//! Contract suites: the behaviour every implementation of a store trait must show, run
//! by each backend's tests against a real instance (SQLite and memory in unit tests,
//! Redis and PostgreSQL in the end-to-end tests, which start real servers). Compiled
//! for tests and with the `contract` feature only, never into a release build.

pub mod audit;
pub mod rate;
pub mod sessions;
pub mod users;
