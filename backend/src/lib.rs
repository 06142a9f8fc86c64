//! The backend-for-frontend: GitHub sign-in with PKCE, server-side sessions, a JSON API.

pub mod access;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod dev_provider;
pub mod device;
pub mod error;
pub mod metrics;
pub mod middleware;
pub mod oauth;
pub mod routes;
pub mod security;
pub mod session;
pub mod startup;
pub mod state;
pub mod static_assets;
pub mod storage;
pub mod sweep;
pub mod telemetry;
pub mod tokens;
pub mod users;
