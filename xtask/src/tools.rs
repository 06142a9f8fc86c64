//! Installs what is missing, at pinned versions, from package registries only.
//!
//! Pins and why (measured on the project's 2-core machine, rustc 1.95):
//! - wasm-bindgen-cli: exactly the `wasm-bindgen` in Cargo.lock; installed without
//!   `--locked` because its own lockfile wants a crate release the registry lacks.
//! - wasm-opt from npm `binaryen@132`: Debian's wasm-opt 108 emits modules Chromium
//!   rejects at start-up.
//! - npm `oidc-provider@9.13.3`, the OpenID Provider the tests sign in at: 9.x runs on
//!   node 20 (with a warning that it prefers 22).

use std::path::Path;

use crate::steps::{self, root};

pub const BINARYEN_VERSION: &str = "132";
pub const OIDC_PROVIDER_VERSION: &str = "9.13.3";
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// geckodriver for Firefox ESR 153 (Debian bookworm); `--locked` works for this release.
pub const GECKODRIVER_VERSION: &str = "0.37.1";

/// Everything the SPA build needs.
pub fn ensure_frontend_tools() -> Result<(), String> {
    ensure_wasm_target()?;
    let bindgen = wasm_bindgen_version()?;
    ensure_cargo_tool("wasm-bindgen", "wasm-bindgen-cli", &bindgen, false)?;
    ensure_wasm_opt()
}

pub fn ensure_wasm_target() -> Result<(), String> {
    ensure_target(WASM_TARGET)
}

fn ensure_target(target: &str) -> Result<(), String> {
    let installed = steps::output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == target) {
        println!("    ok: rust target {target}");
        return Ok(());
    }
    println!("    installing the {target} target with rustup");
    steps::run("rustup", &["target", "add", target])
}

/// What `cargo xtask image` needs besides the SPA's tools and [`Debian::ImageTools`]:
/// the musl target (a static binary).
pub fn ensure_image_target() -> Result<(), String> {
    ensure_target(crate::image::MUSL)
}

/// `cargo install` of `krate` at `version` unless `bin --version` already reports it.
fn ensure_cargo_tool(bin: &str, krate: &str, version: &str, locked: bool) -> Result<(), String> {
    let current = steps::output(bin, &["--version"]).unwrap_or_default();
    if current.split_whitespace().any(|w| w == version) {
        println!("    ok: {bin} {version}");
        return Ok(());
    }
    println!("    installing {krate} {version} from crates.io (once; several minutes on 2 cores)");
    let pinned = format!("={version}");
    let mut args = vec!["install", krate, "--version", &pinned];
    if locked {
        args.push("--locked");
    }
    steps::cargo_install(&args)
}

/// The `wasm-bindgen` version in Cargo.lock: the CLI must match it exactly.
pub fn wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(version.trim_end_matches('"').to_owned());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

fn ensure_wasm_opt() -> Result<(), String> {
    let tools = root().join("target/tools");
    let wasm_opt = tools.join("node_modules/.bin/wasm-opt");
    let current =
        steps::output(&wasm_opt.display().to_string(), &["--version"]).unwrap_or_default();
    if current.contains(&format!("version {BINARYEN_VERSION}")) {
        println!("    ok: wasm-opt {BINARYEN_VERSION} (npm binaryen)");
        return Ok(());
    }
    println!("    installing wasm-opt from npm (binaryen@{BINARYEN_VERSION})");
    npm_install(&tools, &format!("binaryen@{BINARYEN_VERSION}"))
}

/// The OpenID Provider of the tests, in its own folder (`tests/oidc/provider.mjs` loads
/// it from there).
pub fn ensure_oidc_provider() -> Result<(), String> {
    let folder = root().join("target/tools/oidc");
    let manifest = folder.join("node_modules/oidc-provider/package.json");
    let installed = std::fs::read_to_string(&manifest).unwrap_or_default();
    if installed.contains(&format!("\"version\": \"{OIDC_PROVIDER_VERSION}\"")) {
        println!("    ok: oidc-provider {OIDC_PROVIDER_VERSION} (npm)");
        return Ok(());
    }
    println!("    installing oidc-provider@{OIDC_PROVIDER_VERSION} from npm");
    npm_install(&folder, &format!("oidc-provider@{OIDC_PROVIDER_VERSION}"))
}

/// The Node peer of the benchmarks (`bench/node-peer`: Express 5, express-session,
/// connect-redis, redis), installed from npm into `target/tools/node-peer`.
pub fn ensure_node_peer() -> Result<(), String> {
    let folder = root().join("target/tools/node-peer");
    if folder
        .join("node_modules/connect-redis/package.json")
        .exists()
        && folder.join("node_modules/express/package.json").exists()
    {
        println!("    ok: the Node peer's packages (npm)");
        return Ok(());
    }
    println!(
        "    installing bench/node-peer/package.json's packages (express, express-session, \
         connect-redis, redis) from npm"
    );
    // All at once, from the package file: npm removes what its package file does not
    // name, so installing them one by one would leave only the last.
    std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
    std::fs::copy(
        root().join("bench/node-peer/package.json"),
        folder.join("package.json"),
    )
    .map_err(|e| format!("copying the Node peer's package.json: {e}"))?;
    ensure_debian(&[Debian::Node])?;
    let prefix = folder.display().to_string();
    let mut command = steps::command(
        "npm",
        &["install", "--no-audit", "--no-fund", "--prefix", &prefix],
    );
    command.current_dir(&folder);
    steps::check(command)
}

/// `npm install package` into `folder/node_modules`.
fn npm_install(folder: &Path, package: &str) -> Result<(), String> {
    ensure_debian(&[Debian::Node])?;
    std::fs::create_dir_all(folder).map_err(|e| e.to_string())?;
    // `--prefix`: npm would otherwise install into the nearest parent that has a
    // node_modules folder.
    let prefix = folder.display().to_string();
    let mut command = steps::command(
        "npm",
        &[
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--prefix",
            &prefix,
            package,
        ],
    );
    command.current_dir(folder);
    steps::check(command)
}

/// geckodriver from crates.io (compiled like the other tools), for Firefox ESR: the core
/// browser journeys run in Firefox too.
pub fn ensure_geckodriver() -> Result<(), String> {
    ensure_cargo_tool("geckodriver", "geckodriver", GECKODRIVER_VERSION, true)
}

/// What Debian's packages provide, each with how to tell it is already there.
#[derive(Clone, Copy, Debug)]
pub enum Debian {
    /// Chromium and ChromeDriver, for the browser tests and the page-load benchmark.
    Chromium,
    /// Firefox ESR, for the browser journeys run in Firefox.
    Firefox,
    /// Redis and PostgreSQL servers: the tests start throw-away instances of them.
    Stores,
    /// PyJWT and cryptography for the system Python: a test verifies the BFF's identity
    /// tokens with the README's Python example (`examples/python/identity.py`).
    PythonJwt,
    /// musl-tools (its C compiler, for SQLite and ring), podman and the CA roots, for
    /// `cargo xtask image`.
    ImageTools,
    /// wrk, the load generator of the benchmarks.
    Wrk,
    /// valgrind, whose callgrind counts the benchmarks' instructions per request.
    Valgrind,
    /// node and npm, for wasm-opt (npm's binaryen), the OpenID Provider of the tests and
    /// the Node peer of the benchmarks.
    Node,
}

impl Debian {
    fn packages(self) -> &'static [&'static str] {
        match self {
            Self::Chromium => &["chromium", "chromium-driver"],
            Self::Firefox => &["firefox-esr"],
            Self::Stores => &["redis-server", "postgresql"],
            Self::PythonJwt => &["python3", "python3-jwt", "python3-cryptography"],
            Self::ImageTools => &["musl-tools", "podman", "ca-certificates"],
            Self::Wrk => &["wrk"],
            Self::Valgrind => &["valgrind"],
            Self::Node => &["nodejs", "npm"],
        }
    }

    fn present(self) -> bool {
        let files = |paths: &[&str]| paths.iter().all(|p| Path::new(p).exists());
        match self {
            Self::Chromium => files(&["/usr/bin/chromium", "/usr/bin/chromedriver"]),
            Self::Firefox => files(&["/usr/bin/firefox-esr"]),
            Self::Stores => {
                let initdb = std::fs::read_dir("/usr/lib/postgresql")
                    .map(|mut versions| {
                        versions.any(|v| v.is_ok_and(|v| v.path().join("bin/initdb").exists()))
                    })
                    .unwrap_or(false);
                initdb && files(&["/usr/bin/redis-server"])
            }
            Self::PythonJwt => std::process::Command::new("/usr/bin/python3")
                .args(["-c", "import jwt, cryptography"])
                .status()
                .is_ok_and(|s| s.success()),
            Self::ImageTools => files(&[
                "/usr/bin/musl-gcc",
                "/usr/bin/podman",
                "/etc/ssl/certs/ca-certificates.crt",
            ]),
            Self::Wrk => files(&["/usr/bin/wrk"]),
            Self::Valgrind => files(&["/usr/bin/valgrind", "/usr/bin/callgrind_control"]),
            Self::Node => steps::output("node", &["--version"]).is_some(),
        }
    }
}

/// Debian packages being installed on a thread of their own: downloading and unpacking
/// two browsers and two database servers takes minutes that compiling the cargo tools
/// can use. One `apt-get update` and one `apt-get install` for everything missing.
pub struct AptInstall(Option<std::thread::JoinHandle<Result<(), String>>>);

impl AptInstall {
    /// Starts installing what `needs` lack; says at once what is already there.
    pub fn start(needs: &[Debian]) -> Self {
        let mut packages = Vec::new();
        for need in needs {
            if need.present() {
                println!("    ok: {}", need.packages().join(", "));
            } else {
                packages.extend_from_slice(need.packages());
            }
        }
        if packages.is_empty() {
            return Self(None);
        }
        let log = root().join("target/tools/apt.log");
        println!(
            "    installing {} with apt-get, meanwhile (output in {})",
            packages.join(" "),
            log.display()
        );
        Self(Some(std::thread::spawn(move || {
            apt_install_logged(&packages, &log)
        })))
    }

    /// Waits for the installation to end.
    pub fn wait(self) -> Result<(), String> {
        match self.0 {
            None => Ok(()),
            Some(thread) => {
                let result = thread.join().map_err(|_| "the apt-get thread panicked")?;
                if result.is_ok() {
                    println!("    ok: the apt-get packages are installed");
                }
                result
            }
        }
    }
}

/// Installs what `needs` lack, now.
pub fn ensure_debian(needs: &[Debian]) -> Result<(), String> {
    AptInstall::start(needs).wait()
}

/// `apt-get update`, then `apt-get install` of `packages`, with their output in `log`;
/// on failure the error carries the log's end. Another apt-get holding the lock (the
/// background one) is waited for, not an error.
fn apt_install_logged(packages: &[&str], log: &Path) -> Result<(), String> {
    let file = steps::log_file(log)?;
    let sudo = !is_root() && steps::output("sudo", &["-n", "true"]).is_some();
    let apt = |args: &[&str]| {
        let wait_for_lock = ["-o", "DPkg::Lock::Timeout=900"];
        let args = [&wait_for_lock[..], args].concat();
        let (program, rest): (&str, Vec<&str>) = if sudo {
            ("sudo", [&["apt-get"][..], &args].concat())
        } else {
            ("apt-get", args)
        };
        let mut command = steps::command(program, &rest);
        command.env("DEBIAN_FRONTEND", "noninteractive");
        steps::output_to(&mut command, &file)?;
        steps::check(command)
    };
    let install = [
        &["install", "-y", "-q", "--no-install-recommends"][..],
        packages,
    ]
    .concat();
    apt(&["update", "-q"])
        .and_then(|()| apt(&install))
        .map_err(|e| format!("{e}\n{}", steps::log_tail(log, 20)))
}

fn is_root() -> bool {
    steps::output("id", &["-u"]).is_some_and(|id| id.trim() == "0")
}

pub fn ensure_nextest() -> Result<(), String> {
    if steps::output("cargo", &["nextest", "--version"]).is_some() {
        println!("    ok: cargo-nextest");
        return Ok(());
    }
    println!("    installing cargo-nextest from crates.io");
    steps::cargo_install(&["install", "cargo-nextest", "--locked"])
}
