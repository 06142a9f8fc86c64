//! Starting the servers under test as separate processes, and reading their memory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
pub use testkit::process::{free_port, ChildGuard as Proc};

/// Polls `/healthz` until it answers 200; returns how long that took from `since`.
pub async fn wait_healthy(port: u16, since: Instant) -> anyhow::Result<Duration> {
    let url = format!("http://127.0.0.1:{port}/healthz");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()?;
    loop {
        if let Ok(r) = client.get(&url).send().await {
            if r.status() == 200 {
                return Ok(since.elapsed());
            }
        }
        if since.elapsed() > Duration::from_secs(30) {
            bail!("port {port} never became healthy");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The emulator binary on its own port; returns the process and its base URL.
pub fn start_emulator(
    bin: &Path,
    client_id: &str,
    secret: &str,
    callback: &str,
) -> anyhow::Result<(Proc, String)> {
    let mut child = Command::new(bin.join("emulator"))
        .args([
            "--port",
            "0",
            "--client-id",
            client_id,
            "--client-secret",
            secret,
            "--callback-url",
            callback,
            "--workers",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("start the emulator")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line)?;
    let url = line.trim().rsplit(' ').next().unwrap_or("").to_owned();
    Ok((Proc::new(child), url))
}

/// Environment of the product under test (production mode against the emulator process).
#[derive(Clone)]
pub struct BackendEnv {
    pub bin: PathBuf,
    pub data_dir: PathBuf,
    pub static_dir: PathBuf,
    pub emulator_url: String,
    pub client_id: String,
    pub secret: String,
    pub token_key: String,
    pub log: PathBuf,
    /// `RUST_LOG` for the backend; `None` keeps its default (`info`).
    pub rust_log: Option<String>,
    /// More variables (stores, metrics, cache size).
    pub extra: Vec<(String, String)>,
    /// Run under callgrind, its dumps named after this file (the instruction counts).
    pub callgrind: Option<PathBuf>,
}

/// `program` as a server under test: under callgrind when `callgrind` names its dump file,
/// otherwise through `taskset` on the servers' cores when they are pinned.
fn server(program: PathBuf, callgrind: Option<&Path>) -> Command {
    match callgrind {
        Some(out) => crate::instructions::valgrind(&program, out),
        None => crate::cores::command(crate::cores::Who::Server, program),
    }
}

pub fn spawn_backend(env: &BackendEnv, port: u16) -> anyhow::Result<Proc> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&env.log)?;
    let mut command = server(env.bin.join("backend"), env.callgrind.as_deref());
    command.env_clear();
    if let Some(filter) = &env.rust_log {
        command.env("RUST_LOG", filter);
    }
    let child = command
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("PUBLIC_URL", format!("http://localhost:{port}"))
        .env("DATA_DIR", &env.data_dir)
        .env("STATIC_DIR", &env.static_dir)
        .env("GITHUB_CLIENT_ID", &env.client_id)
        .env("GITHUB_CLIENT_SECRET", &env.secret)
        .env("GITHUB_OAUTH_URL", &env.emulator_url)
        .env("GITHUB_API_URL", format!("{}/api/v3", env.emulator_url))
        .env("TOKEN_KEYS", &env.token_key)
        .env("AUTH_RATE_LIMIT_PER_MIN", "100000000")
        .env("PREAUTH_SESSIONS_PER_CLIENT", "100000000")
        .env("PREAUTH_SESSIONS_TOTAL", "100000000")
        .env("WORKERS", "2")
        .envs(env.extra.iter().map(|(k, v)| (k, v)))
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("start the backend")?;
    Ok(Proc::new(child))
}

pub fn spawn_baseline(bin: &Path, dir: &Path, port: u16) -> anyhow::Result<Proc> {
    spawn_baseline_as(bin, dir, port, None, false)
}

/// The baseline, under callgrind when `callgrind` names its dump file, and with the
/// product's own headers on its answers when `same_headers`.
pub fn spawn_baseline_as(
    bin: &Path,
    dir: &Path,
    port: u16,
    callgrind: Option<&Path>,
    same_headers: bool,
) -> anyhow::Result<Proc> {
    let mut command = server(bin.join("baseline"), callgrind);
    command.arg(dir).arg(port.to_string()).arg("2");
    if same_headers {
        command.arg("same-headers");
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start the baseline")?;
    Ok(Proc::new(child))
}
