//! What the end-to-end tests (`tests`) and the benchmark runner (`bench`) share, so both
//! start servers and browsers the same way. Nothing here downloads anything: the servers
//! and the browser are Debian's packages, which `cargo xtask test` installs.

pub mod chromium;
pub mod firefox;
pub mod process;
pub mod servers;
