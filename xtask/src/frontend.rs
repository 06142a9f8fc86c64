//! The SPA build: Trunk in release mode, offline, skipped when nothing changed.

use std::path::Path;
use std::time::SystemTime;

use crate::steps::{self, root};

/// Inputs of the SPA build; `dist/` is rebuilt when any is newer than it.
const INPUTS: &[&str] = &[
    "frontend",
    "shared",
    "index.html",
    "Trunk.toml",
    "Cargo.lock",
    "Cargo.toml",
];

pub fn build() -> Result<(), String> {
    let stamp = root().join("dist/index.html");
    if let Ok(built) = std::fs::metadata(&stamp).and_then(|m| m.modified()) {
        let newest = INPUTS
            .iter()
            .filter_map(|input| newest_mtime(&root().join(input)))
            .max();
        if newest.is_some_and(|n| n <= built) {
            println!("    ok: dist/ is up to date");
            return Ok(());
        }
    }
    steps::run("trunk", &["build", "--release"])
}

fn newest_mtime(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| newest_mtime(&entry.path()))
        .max()
}
