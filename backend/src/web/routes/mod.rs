//! The handlers, one file per part of the API. The route table is `web::configure`.

pub mod auth;
pub mod backchannel;
pub mod github;
pub mod health;
pub mod identity;
pub mod me;
pub mod sessions;
pub mod spa;
pub mod webhooks;
