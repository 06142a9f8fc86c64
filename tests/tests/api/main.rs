//! HTTP-level end-to-end tests: the BFF and the GitHub emulator over real loopback sockets.

#[path = "../common/mod.rs"]
mod common;

mod allow_lists;
mod callback;
mod crowds;
mod csrf;
mod deploy;
mod dev_mode;
mod devices;
mod emulator_contract;
mod endings;
mod github_proxy;
mod helpers;
mod id_tokens;
mod image;
mod input;
mod local_apis;
mod login;
mod metrics;
mod oidc;
mod openapi;
mod program;
mod provider_faults;
mod recording_upstream;
mod refusals;
mod secrets;
mod sessions;
mod several_instances;
mod sign_in;
mod sqlite_files;
mod store_contract;
mod test_issuer;
mod tokens;
mod traces;
mod upstream_apis;
mod webhooks;
mod websockets;
