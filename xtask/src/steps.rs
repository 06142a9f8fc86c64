//! Running commands with visible progress.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Numbered progress lines with the time spent so far.
pub struct Steps {
    total: usize,
    done: usize,
    started: Instant,
}

impl Steps {
    pub fn new(total: usize) -> Self {
        Self {
            total,
            done: 0,
            started: Instant::now(),
        }
    }

    pub fn start(&mut self, what: &str) {
        self.done += 1;
        println!(
            "\n==> [{}/{}] {what}  (at {:.0}s)",
            self.done,
            self.total,
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// PATH with the project's tool folders first (cargo-installed tools, npm's wasm-opt).
pub fn path_with_tools() -> String {
    let mut dirs = vec![root().join("target/tools/node_modules/.bin")];
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    } else if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    let existing = std::env::var("PATH").unwrap_or_default();
    let mut parts: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    parts.push(existing);
    parts.join(":")
}

/// A command that runs in the workspace root with the tool PATH.
pub fn command(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(root())
        .env("PATH", path_with_tools());
    command
}

/// Runs `command`; a non-zero exit is an error naming the command.
pub fn check(mut command: Command) -> Result<(), String> {
    let shown = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let status = command
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    check(command(program, args))
}

fn cargo_program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

pub fn cargo(args: &[&str]) -> Result<(), String> {
    run(&cargo_program(), args)
}

/// A cargo command run in the background, its output in a log file: a build that needs
/// no input from what the foreground is doing. On two cores one build alone leaves a core
/// idle for long stretches (downloads, a link, the SPA's single-unit LTO); two at once
/// fill them.
pub struct Background {
    what: String,
    /// `None` once waited for.
    child: Option<std::process::Child>,
    log: PathBuf,
}

impl Background {
    /// Starts `cargo args` (with the variables `env`) with its output in
    /// `target/logs/<log>.log`.
    pub fn cargo(
        what: &str,
        args: &[&str],
        env: &[(&str, &str)],
        log: &str,
    ) -> Result<Self, String> {
        let log = root().join("target/logs").join(format!("{log}.log"));
        let mut command = command(&cargo_program(), args);
        command.envs(env.iter().copied());
        output_to(&mut command, &log_file(&log)?)?;
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start cargo: {e}"))?;
        println!(
            "    {what}: started meanwhile (output in {})",
            log.display()
        );
        Ok(Self {
            what: what.to_owned(),
            child: Some(child),
            log,
        })
    }

    /// Waits for the command; a failure carries the end of its output.
    pub fn wait(mut self) -> Result<(), String> {
        let mut child = self.child.take().expect("waited for once");
        let status = child.wait().map_err(|e| format!("{}: {e}", self.what))?;
        if status.success() {
            println!("    ok: {}", self.what);
            return Ok(());
        }
        Err(format!(
            "{} failed ({status}); the end of {}:\n{}",
            self.what,
            self.log.display(),
            log_tail(&self.log, 40)
        ))
    }
}

/// The file `log`, made anew (its folder too), for commands' output.
pub fn log_file(log: &Path) -> Result<std::fs::File, String> {
    let folder = log.parent().expect("a log is in a folder");
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    std::fs::File::create(log).map_err(|e| format!("cannot write {}: {e}", log.display()))
}

/// Sends `command`'s standard output and error to `log`.
pub fn output_to(command: &mut Command, log: &std::fs::File) -> Result<(), String> {
    let out = log.try_clone().map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    command.stdout(out).stderr(err);
    Ok(())
}

/// The last `lines` lines of the file `log`, for an error message.
pub fn log_tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A foreground step that failed leaves nothing compiling behind it.
impl Drop for Background {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `cargo install` with the build profile of [`TOOL_PROFILE`].
pub fn cargo_install(args: &[&str]) -> Result<(), String> {
    let mut command = command(&cargo_program(), args);
    command.envs(TOOL_PROFILE.iter().copied());
    check(command)
}

/// How the tools are compiled (wasm-bindgen-cli, cargo-nextest, geckodriver): without
/// optimisation. They do little work of their own at run time (wasm-bindgen rewrites one
/// small module; nextest starts test binaries), so optimising them buys nothing while it
/// costs most of a fresh machine's first run. Measured on this 2-core machine:
/// wasm-bindgen-cli 1.1 min instead of several; the SPA build took as long with either.
pub const TOOL_PROFILE: &[(&str, &str)] = &[
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0"),
    ("CARGO_PROFILE_RELEASE_LTO", "false"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256"),
    ("CARGO_PROFILE_RELEASE_DEBUG", "false"),
    ("CARGO_PROFILE_RELEASE_INCREMENTAL", "false"),
];

/// Variables the tests may see: the toolchain's, the system's, and the test harness's
/// own. Everything else (the product's configuration above all: `PORT`, `DATABASE_URL`,
/// `GITHUB_CLIENT_ID`, ...) is removed, so a developer's shell cannot leak into a test,
/// and a variable the product learns to read tomorrow is covered without a list here.
fn passes_to_tests(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "TERM",
        "TMPDIR",
        "LANG",
        "TZ",
        "TEST_LOG",
        "CHROMIUM",
        "CHROMEDRIVER",
        "SUDO_USER",
        "CI",
        "NO_COLOR",
    ];
    const PREFIXES: &[&str] = &[
        "CARGO", "RUSTUP", "RUSTC", "RUSTDOC", "RUST_", "NEXTEST", "LC_",
    ];
    EXACT.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// `cargo` with every variable but [`passes_to_tests`]'s removed, then `set` added.
pub fn cargo_hermetic(args: &[&str], set: &[(&str, &str)]) -> Result<(), String> {
    let mut command = command(&cargo_program(), args);
    for (name, _) in std::env::vars_os() {
        if !name.to_str().is_some_and(passes_to_tests) {
            command.env_remove(&name);
        }
    }
    for (name, value) in set {
        command.env(name, value);
    }
    check(command)
}

/// Output of a command, or `None` if it cannot run.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .env("PATH", path_with_tools())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
