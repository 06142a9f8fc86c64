//! HTTP-level end-to-end tests: the BFF and the GitHub emulator over real loopback sockets.

mod callback;
mod dev_mode;
mod emulator_contract;
mod helpers;
mod input;
mod login;
mod provider_faults;
mod secrets;
mod sessions;
mod sign_in;
