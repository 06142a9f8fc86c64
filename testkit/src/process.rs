//! Ports and child processes.

use std::net::TcpListener;
use std::process::Child;
use std::time::{Duration, Instant};

/// A free loopback port (bound and released: good enough for a server started next).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Waits (at most 20 s) until something accepts connections on `port`.
pub fn wait_for_port(port: u16, what: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what} did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `command`, a WebDriver server told to listen on `port` (ChromeDriver,
/// geckodriver), and waits (at most 15 s) until its `/status` answers. `installed_by`
/// names the package or crate that provides it, for the error message.
pub async fn start_webdriver(
    mut command: std::process::Command,
    port: u16,
    installed_by: &str,
) -> anyhow::Result<ChildGuard> {
    use anyhow::Context as _;
    let program = command.get_program().to_string_lossy().into_owned();
    let child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("start {program} (`cargo xtask test` installs {installed_by})"))?;
    let child = ChildGuard::new(child);
    let status = format!("http://127.0.0.1:{port}/status");
    let started = Instant::now();
    while reqwest::get(&status).await.is_err() {
        if started.elapsed() > Duration::from_secs(15) {
            anyhow::bail!("{program} did not start");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(child)
}

/// A child process, killed (and reaped) when dropped, so a failed test or benchmark
/// leaves nothing running.
pub struct ChildGuard(Option<Child>);

impl ChildGuard {
    pub fn new(child: Child) -> Self {
        Self(Some(child))
    }

    /// The child, while it runs.
    pub fn child(&mut self) -> Option<&mut Child> {
        self.0.as_mut()
    }

    /// Stops it now (as a crash would: no signal to clean up first).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Its resident memory in KiB (`VmRSS`), for the benchmarks.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        self.status_kib("VmRSS:")
    }

    /// The most resident memory it has had so far, in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        self.status_kib("VmHWM:")
    }

    /// The CPU time it has used so far, user and system, all threads (`utime` + `stime`
    /// of `/proc/<pid>/stat`, in Linux's fixed 100 ticks a second), for the benchmarks.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        let pid = self.pid()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // The fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        // utime and stime are fields 14 and 15; `fields` starts at field 3.
        let ticks = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<u64>().ok());
        match (ticks(14), ticks(15)) {
            (Some(user), Some(system)) => Ok(Duration::from_millis((user + system) * 10)),
            _ => anyhow::bail!("no CPU times in /proc/{pid}/stat"),
        }
    }

    fn pid(&self) -> anyhow::Result<u32> {
        self.0
            .as_ref()
            .map(Child::id)
            .ok_or_else(|| anyhow::anyhow!("the process has stopped"))
    }

    fn status_kib(&self, field: &str) -> anyhow::Result<u64> {
        let pid = self.pid()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no {field} in /proc/{pid}/status"))
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}
