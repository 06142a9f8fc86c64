//! Instructions per request, counted by callgrind (valgrind). Requests per second on two
//! cores that wrk shares swing by more than the few percent a change to the request path
//! is worth; the instructions a server runs for the same requests swing far less, whatever
//! else the machine is doing: a batch's count varies by a percent or two (how often a
//! poll finds the next request already there depends on timing), the product's median of
//! [`BATCHES`] by under a percent from run to run (the bare handler's, on glibc's
//! allocator, by up to 3%). It counts user space only (the kernel's share, about the same
//! for the product and the bare handler, is left out), which is the part the product's
//! code decides.
//!
//! Under valgrind the CPU has no SHA extensions, so SHA-256 (the session id's hash) runs
//! in software there: about 3,500 instructions of a signed-in request, where natively the
//! SHA-NI path takes a small fraction of that.
//!
//! Each server runs under callgrind; the requests go one after another on one kept-alive
//! connection; the counters are zeroed before a batch and dumped after it
//! (`callgrind_control`), so start-up and sign-in are not counted.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};

/// Requests per batch.
pub const REQUESTS: usize = 1000;
/// Batches per request kind; the report shows the median.
pub const BATCHES: usize = 7;
/// Requests before the first batch, so lazily made state (caches, buffers) is in place.
pub const WARM_UP: usize = 200;

/// The variables valgrind and `callgrind_control` both name their meeting point after
/// (user and host; `HOST` is also the product's listening address).
const MEETING_VARS: [&str; 4] = ["LOGNAME", "USER", "HOST", "HOSTNAME"];

/// `program` under callgrind, its dumps written to `out` (`out.1`, `out.2`, ...) and its
/// control pipes beside them, not in `/tmp` (a killed server leaves them behind).
pub fn valgrind(program: &Path, out: &Path) -> Command {
    let mut command = Command::new("valgrind");
    command
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(format!("--vgdb-prefix={}", vgdb_prefix(out).display()))
        .arg(program);
    command
}

fn vgdb_prefix(out: &Path) -> PathBuf {
    out.with_extension("vgdb")
}

/// One kind of request, counted on each server.
pub struct Row {
    pub key: &'static str,
    pub what: &'static str,
    pub product: f64,
    /// The bare handler: the same bodies, only their type as headers.
    pub bare: f64,
    /// The bare handler answering with the product's headers and a fresh request id too.
    pub same_bytes: f64,
}

/// A server under callgrind: its process id and the file its dumps are named after.
pub struct Counted {
    pub pid: u32,
    pub out: PathBuf,
}

impl Counted {
    /// The median over [`BATCHES`] of the instructions run per request for [`REQUESTS`]
    /// GETs of `url` with `headers`, each answered with `status`.
    pub async fn per_request(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        status: u16,
    ) -> anyhow::Result<f64> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(60))
            .build()?;
        let send = |n: usize| {
            let client = client.clone();
            async move {
                for _ in 0..n {
                    let mut request = client.get(url);
                    for (name, value) in headers {
                        request = request.header(*name, *value);
                    }
                    let answer = request.send().await?;
                    if answer.status() != status {
                        bail!("{url} answered {} under callgrind", answer.status());
                    }
                    answer.bytes().await?;
                }
                anyhow::Ok(())
            }
        };
        send(WARM_UP).await?;
        let mut counts = Vec::with_capacity(BATCHES);
        for _ in 0..BATCHES {
            self.control("--zero")?;
            send(REQUESTS).await?;
            self.control("--dump")?;
            counts.push(self.latest_total()? as f64 / REQUESTS as f64);
        }
        counts.sort_by(f64::total_cmp);
        Ok(counts[counts.len() / 2])
    }

    /// Runs `callgrind_control` with the server's own user and host variables, which
    /// name the pipes it listens on.
    fn control(&self, command: &str) -> anyhow::Result<()> {
        let environ = std::fs::read(format!("/proc/{}/environ", self.pid))?;
        let mut control = Command::new("callgrind_control");
        for name in MEETING_VARS {
            control.env_remove(name);
        }
        for pair in environ.split(|b| *b == 0) {
            let pair = String::from_utf8_lossy(pair);
            if let Some((name, value)) = pair.split_once('=') {
                if MEETING_VARS.contains(&name) {
                    control.env(name, value);
                }
            }
        }
        let status = control
            .arg(format!(
                "--vgdb-prefix={}",
                vgdb_prefix(&self.out).display()
            ))
            .arg(command)
            .arg(self.pid.to_string())
            .stdout(std::process::Stdio::null())
            .status()
            .context("run callgrind_control (valgrind)")?;
        if !status.success() {
            bail!("callgrind_control {command} failed ({status})");
        }
        Ok(())
    }

    /// The `totals:` line of the newest dump.
    fn latest_total(&self) -> anyhow::Result<u64> {
        let dir = self.out.parent().context("dump file without a folder")?;
        let stem = self
            .out
            .file_name()
            .context("dump file without a name")?
            .to_string_lossy()
            .into_owned();
        let newest = std::fs::read_dir(dir)?
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let n = name
                    .strip_prefix(&stem)?
                    .strip_prefix('.')?
                    .parse::<u32>()
                    .ok()?;
                Some((n, e.path()))
            })
            .max_by_key(|(n, _)| *n)
            .context("callgrind wrote no dump")?
            .1;
        std::fs::read_to_string(&newest)?
            .lines()
            .find_map(|l| l.strip_prefix("totals:"))
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("no totals in {}", newest.display()))
    }
}
