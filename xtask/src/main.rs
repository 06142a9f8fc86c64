//! `cargo xtask run | test | bench | checks | openapi | image`: the README's commands.
//!
//! Everything a fresh machine lacks is installed from a package registry at a pinned
//! version (never a prebuilt download): the wasm target with rustup, wasm-bindgen-cli
//! and cargo-nextest from crates.io, wasm-opt from npm's `binaryen`, Chromium and
//! ChromeDriver from Debian. The SPA is built by this program (see `frontend`).

mod bench;
mod citations;
mod example;
mod floor_plan;
mod frontend;
mod image;
mod steps;
mod tools;

use std::process::ExitCode;

use steps::Steps;
use tools::Debian;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(),
        Some("test") => test(),
        Some("bench") => bench::bench(),
        Some("checks") => check_floor_plan().and_then(|()| check_citations()),
        Some("openapi") => write_openapi(),
        Some("image") => image::image(&args[1..]),
        Some("spa") => tools::ensure_frontend_tools().and_then(|()| frontend::build()),
        _ => {
            eprintln!("usage: cargo xtask <run|test|bench|checks|openapi|image|spa>\n");
            eprintln!(
                "  run    build the SPA and serve the app on http://localhost:$PORT (default 3000)"
            );
            eprintln!("  test   install what tests need, then fmt, clippy and every test (browser tests included)");
            eprintln!(
                "  bench  benchmarks against a bare actix-web baseline; rewrites BENCHMARKS.md"
            );
            eprintln!(
                "  checks the backend's floor plan and SECURITY.md's citations (seconds; part of test)"
            );
            eprintln!(
                "  openapi writes docs/openapi.json from the code (a test fails while it is stale)"
            );
            eprintln!(
                "  image  a static build in an OCI image FROM scratch (podman); --profile <p> to build faster"
            );
            eprintln!("  spa    builds the SPA into dist/ (run, test, bench and image do it too)");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the SPA in release mode and starts the BFF (dev mode unless GitHub credentials
/// are set in the environment). In dev mode the example upstream API (`team-api`) runs
/// beside it at `/api/example`, so the dashboard's "Your API" panel works out of the box;
/// the BFF is the example's build of it, with the local API `/api/greetings` mounted.
fn run() -> Result<(), String> {
    let mut steps = Steps::new(3);
    // Three builds at once on a fresh machine (each leaves a core idle for long stretches
    // on its own): the SPA's cargo build, the backend's, and the SPA's tools.
    steps.start("the SPA and the backend build meanwhile; tools for the SPA");
    tools::ensure_wasm_target()?;
    let spa = frontend::start()?;
    // The development profile: a person waiting to see the app needs it built soon, not
    // fast (the release profile's thin LTO and single codegen unit cost minutes on two
    // cores); it also shares its compiled dependencies with `cargo xtask test`. The
    // release profile stays for `bench`, images and production builds.
    let backend = steps::Background::cargo(
        "the backend and the example API (development profile)",
        &["build", "-p", "team-api"],
        &[],
        "backend",
    )?;
    tools::ensure_frontend_tools()?;
    steps.start("SPA (wasm-release: cargo, wasm-bindgen, wasm-opt); the backend");
    spa.finish()?;
    backend.wait()?;
    steps.start("serving");
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let mut command = std::process::Command::new(steps::root().join("target/debug/repo-desk"));
    command.current_dir(steps::root());
    if std::env::var_os("STATIC_DIR").is_none() {
        command.env("STATIC_DIR", steps::root().join("dist"));
    }
    let _example = if dev_mode() {
        let (example, config) = example::start(&port)?;
        command.env("CONFIG_FILE", config);
        Some(example)
    } else {
        None
    };
    println!("\n    Open http://localhost:{port} (Ctrl-C stops it)\n");
    let status = command
        .status()
        .map_err(|e| format!("cannot start the backend: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the backend exited with {status}"))
    }
}

/// True when the BFF will run in dev mode with nothing configured: no GitHub credentials,
/// no OpenID Connect provider, no configuration file.
fn dev_mode() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    !set("GITHUB_CLIENT_ID")
        && !set("CONFIG_FILE")
        && !set("PROVIDERS_FILE")
        && !std::env::vars().any(|(name, _)| name.starts_with("OIDC_"))
}

/// Installs what the tests need, then: fmt check, the SPA build, clippy (host and
/// wasm32), and every test with nextest (its summary ends the output).
fn test() -> Result<(), String> {
    let mut steps = Steps::new(9);
    steps.start(
        "tools (wasm target, wasm-bindgen, wasm-opt, Chromium, Firefox ESR, geckodriver, \
         Redis, PostgreSQL, PyJWT, oidc-provider, nextest, musl target, musl-tools, podman)",
    );
    // Debian's packages install on a thread of their own while cargo compiles the tools.
    let apt = tools::AptInstall::start(&[
        Debian::Node,
        Debian::Chromium,
        Debian::Firefox,
        Debian::Stores,
        Debian::PythonJwt,
        Debian::ImageTools,
    ]);
    // The SPA's cargo build needs only the wasm target: it runs meanwhile too.
    let spa = tools::ensure_wasm_target().and_then(|()| frontend::start());
    let compiled = tools::ensure_frontend_tools()
        .and_then(|()| tools::ensure_geckodriver())
        .and_then(|()| tools::ensure_nextest())
        .and_then(|()| tools::ensure_image_target());
    // Waited for even when a cargo tool failed: apt-get is not left half done.
    apt.wait()?;
    compiled?;
    let spa = spa?;
    tools::ensure_oidc_provider()?;
    // The image's binary (it needed musl-tools from apt) builds beside the rest from here.
    // Its profile compiles without optimisation: the release image's contents in a
    // fraction of the time; the image test reads what this makes.
    let image = image::Binary::start(image::CHECK_PROFILE)?;
    steps.start("cargo fmt --check");
    steps::cargo(&["fmt", "--all", "--", "--check"])?;
    steps.start("the backend's floor plan (which room may import which), SECURITY.md's citations");
    check_floor_plan()?;
    check_citations()?;
    steps.start("clippy (native crates)");
    // The backend without its development provider is compiled, warnings refused, by the
    // image's build (above): checking it with clippy too cost two minutes of a cold run.
    steps::cargo(&["clippy", "--all-targets", "--", "-D", "warnings"])?;
    steps.start(
        "SPA (wasm-release: cargo, wasm-bindgen, wasm-opt); clippy (SPA, shared and the bench's bare app, wasm32)",
    );
    spa.finish()?;
    steps::cargo(&[
        "clippy",
        "-p",
        "frontend",
        "-p",
        "shared",
        "-p",
        "bench-bare-app",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ])?;
    steps.start("build tests; the backend's documentation examples");
    steps::cargo(&["nextest", "run", "--no-run"])?;
    // nextest does not run documentation examples: they must compile (the builder's and
    // the local API's examples are how a team adds its own handlers).
    steps::cargo(&["test", "--doc", "-p", "backend"])?;
    steps.start("the container image (its binary built meanwhile, profile image-check)");
    image::package(image)?;
    steps.start("tests (unit, API, browser; stores: SQLite, and Redis + PostgreSQL where named)");
    let everything = steps::cargo_hermetic(&["nextest", "run", "--no-fail-fast"], &[]);
    steps.start("the HTTP suite again, on Redis (sessions) + PostgreSQL (users)");
    let matrix = steps::cargo_hermetic(
        &[
            "nextest",
            "run",
            "--no-fail-fast",
            "--test",
            "api",
            "-E",
            STORE_MATRIX_FILTER,
        ],
        &[("BFF_TEST_STORES", "redis-postgres")],
    );
    stop_leftover_servers();
    everything.and(matrix)
}

/// Fails on an import the backend's floor plan forbids (see `floor_plan.rs`).
fn check_floor_plan() -> Result<(), String> {
    let sources = floor_plan::read_tree(&steps::root().join("backend/src"))?;
    let problems = floor_plan::check(&sources);
    if problems.is_empty() {
        println!(
            "    ok: {} files, every import where the plan allows it",
            sources.len()
        );
        return Ok(());
    }
    for problem in &problems {
        eprintln!("    {problem}");
    }
    Err(format!(
        "{} import(s) break the backend's floor plan (README, \"Architecture\")",
        problems.len()
    ))
}

/// Writes `docs/openapi.json`: the document the backend generates (`backend openapi`).
fn write_openapi() -> Result<(), String> {
    let output = steps::command("cargo", &["run", "-q", "-p", "backend", "--", "openapi"])
        .output()
        .map_err(|e| format!("cannot run the backend: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`backend openapi` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let path = steps::root().join("docs/openapi.json");
    std::fs::create_dir_all(steps::root().join("docs")).map_err(|e| e.to_string())?;
    std::fs::write(&path, &output.stdout).map_err(|e| format!("{}: {e}", path.display()))?;
    println!(
        "    wrote {} ({} bytes)",
        path.display(),
        output.stdout.len()
    );
    Ok(())
}

/// Fails when SECURITY.md cites a test or a file that does not exist (see
/// `citations.rs`).
fn check_citations() -> Result<(), String> {
    let root = steps::root();
    let page = std::fs::read_to_string(root.join("SECURITY.md"))
        .map_err(|e| format!("SECURITY.md: {e}"))?;
    let mut tests = std::collections::BTreeSet::new();
    for folder in citations::FOLDERS {
        citations::collect_tests(&root.join(folder), &mut tests)?;
    }
    let problems = citations::check(&page, &tests, |path| root.join(path).exists());
    if problems.is_empty() {
        println!("    ok: every test and file SECURITY.md cites exists");
        return Ok(());
    }
    for problem in &problems {
        eprintln!("    {problem}");
    }
    Err(format!(
        "{} citation(s) in SECURITY.md point at nothing",
        problems.len()
    ))
}

/// What the Redis + PostgreSQL run of the HTTP suite leaves out: tests of SQLite files,
/// and tests that start their own Redis and PostgreSQL whatever the setting.
const STORE_MATRIX_FILTER: &str =
    "not (test(/^sqlite_files::/) | test(/^several_instances::/) | test(/^store_contract::/) | test(/^image::/) | test(/^traces::/) | test(/^deploy::/))";

/// Test servers stop when their test ends; a test killed by a timeout cannot stop its
/// own, so anything still running from a test directory is stopped here.
fn stop_leftover_servers() {
    let _ = std::process::Command::new("pkill")
        .args(["-f", "--", "bff-test-store-"])
        .status();
}
