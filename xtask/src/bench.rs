//! `cargo xtask bench`: release builds, criterion micro-benchmarks, then the scenario runner
//! (`bench` crate), which rewrites the generated part of BENCHMARKS.md.

use std::process::Command;

use crate::frontend;
use crate::steps::{self, root, Steps};
use crate::tools::{self, Debian};

pub fn bench() -> Result<(), String> {
    let mut steps = Steps::new(5);
    steps.start("tools (SPA build tools, wrk, valgrind, Chromium)");
    tools::ensure_debian(&[
        Debian::Node,
        Debian::Wrk,
        Debian::Valgrind,
        Debian::Chromium,
    ])?;
    tools::ensure_frontend_tools()?;
    tools::ensure_node_peer()?;
    steps.start("SPA and the bare wasm app (wasm-release: cargo, wasm-bindgen, wasm-opt)");
    frontend::build()?;
    let bare_app = frontend::build_bare_app()?;
    steps.start("release builds: backend, emulator, bench");
    steps::cargo(&[
        "build",
        "--release",
        "-p",
        "backend",
        "-p",
        "emulator",
        "-p",
        "bench",
    ])?;
    // `BENCH_ONLY=me,signin` measures chosen scenarios and leaves BENCHMARKS.md alone
    // (see the bench crate), so the micro-benchmarks are skipped too.
    let partial = std::env::var_os("BENCH_ONLY").is_some();
    steps.start("micro-benchmarks (criterion)");
    let micro = root().join("target/bench-micro.txt");
    if partial {
        println!("skipped: BENCH_ONLY is set");
    } else {
        run_micro(&micro)?;
    }
    steps.start("scenarios (about 25 minutes on 2 cores)");
    let runner = root().join("target/release/bench");
    let status = Command::new(runner)
        .arg(root().join("dist"))
        .arg(root().join("BENCHMARKS.md"))
        .arg(&micro)
        .current_dir(root())
        .env("PATH", steps::path_with_tools())
        .env("BENCH_BARE_APP", &bare_app)
        .status()
        .map_err(|e| format!("cannot run the bench runner: {e}"))?;
    if !status.success() {
        return Err(format!("the bench runner failed ({status})"));
    }
    if !partial {
        println!("\nBENCHMARKS.md rewritten.");
    }
    Ok(())
}

/// The criterion micro-benchmarks, their output kept in `micro` for the report.
fn run_micro(micro: &std::path::Path) -> Result<(), String> {
    let mut command = steps::command(
        &std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
        &[
            "bench", "-p", "backend", "--bench", "micro", "--", "--noplot",
        ],
    );
    let out = command
        .output()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        return Err(format!(
            "cargo bench failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::write(micro, &out.stdout).map_err(|e| e.to_string())
}
