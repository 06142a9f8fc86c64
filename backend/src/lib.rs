//! The backend-for-frontend: sign-in with PKCE, server-side sessions, a JSON API.
//!
//! Rooms, each importing only rooms below it (`cargo xtask test` checks this):
//!
//! | room | holds |
//! |---|---|
//! | `app` | wiring: start-up, the sweep, the program |
//! | `web` | the only room that imports actix-web: routes, extractors, CSRF, cookie, body limits, the layer |
//! | `auth` | the rules: sign-in, sign-out, access re-checks, the token service |
//! | `session`, `providers` | the session model; GitHub and OpenID Connect |
//! | `users`, `audit` | people and their security events |
//! | `store` | the only room that imports a database driver: small traits, one contract suite each |
//! | `crypto`, `clock`, `config`, `metrics`, `telemetry`, `device`, `per_thread` | the ground floor |

pub mod app;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod device;
pub mod metrics;
pub mod per_thread;
pub mod providers;
pub mod session;
pub mod store;
pub mod telemetry;
pub mod users;
pub mod web;
