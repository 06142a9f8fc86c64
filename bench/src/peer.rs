//! The Node peer (`bench/node-peer/server.mjs`): the Express + express-session BFF a
//! team would write instead, with its packages from `target/tools/node-peer`.

use std::path::Path;
use std::process::Stdio;

use anyhow::Context;

use crate::procs::Proc;

/// The peer's source, quoted in BENCHMARKS.md.
pub const SOURCE: &str = include_str!("../node-peer/server.mjs");

/// Starts the peer on `port` answering `me_json`'s bytes: `memory` (one process) or
/// `redis` (two processes through `node:cluster`, sessions at `redis_url`).
pub fn spawn(
    root: &Path,
    port: u16,
    me_json: &Path,
    store: &str,
    redis_url: Option<&str>,
) -> anyhow::Result<Proc> {
    let modules = root.join("target/tools/node-peer");
    // The script runs from the installed packages' folder, where Node resolves imports.
    let script = modules.join("server.mjs");
    std::fs::write(&script, SOURCE)?;
    let mut command = crate::cores::command(crate::cores::Who::Server, "node");
    command
        .arg(&script)
        .arg(port.to_string())
        .arg(me_json)
        .arg(store)
        .current_dir(&modules)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = redis_url {
        command.arg(url);
    }
    Ok(Proc::new(command.spawn().context("start node (the peer)")?))
}

/// Signs the test person in at the peer; returns its `Cookie` header.
pub async fn sign_in(base: &str) -> anyhow::Result<String> {
    let answer = reqwest::Client::new()
        .post(format!("{base}/signin"))
        .send()
        .await?;
    anyhow::ensure!(
        answer.status() == 204,
        "the peer answered {}",
        answer.status()
    );
    let cookie = answer
        .headers()
        .get("set-cookie")
        .context("no cookie from the peer")?
        .to_str()?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    Ok(format!("Cookie: {cookie}"))
}
