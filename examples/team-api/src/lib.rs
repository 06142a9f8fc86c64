//! A team's API behind the BFF, as an example of both ways to put one there:
//!
//! - [`upstream`]: a service of its own (any language would do) that the BFF forwards
//!   `/api/example/...` to. It trusts nothing but the identity token the BFF attaches,
//!   verified offline against the BFF's `/.well-known/jwks.json`: who is calling
//!   (`/whoami`), a live event stream (`/events`) and a WebSocket (`/ws`).
//! - [`local`]: a handler mounted in the BFF's own process (`/api/greetings`), with the
//!   BFF's extractors, CSRF rule and error shape.
//!
//! `cargo xtask run` starts both in dev mode; the dashboard's "Your API" panel calls them.

pub mod local;
pub mod upstream;
