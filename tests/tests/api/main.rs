//! HTTP-level end-to-end tests: the BFF and the GitHub emulator over real loopback sockets.

#[path = "../common/mod.rs"]
mod common;

mod callback;
mod csrf;
mod dev_mode;
mod devices;
mod emulator_contract;
mod github_proxy;
mod helpers;
mod input;
mod login;
mod metrics;
mod program;
mod provider_faults;
mod secrets;
mod sessions;
mod several_instances;
mod sign_in;
mod sqlite_files;
mod store_contract;
mod tokens;
mod webhooks;
