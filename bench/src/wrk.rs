//! Runs wrk (Debian's package) and reads its requests/s and latency percentiles.

use anyhow::{bail, Context};

use crate::procs::Proc;

/// Load settings shared by every HTTP scenario: the generator shares the 2 cores with the
/// server, so only ratios measured in the same run mean anything.
pub const THREADS: u32 = 2;
pub const CONNECTIONS: u32 = 64;
pub const SECONDS: u32 = 5;

#[derive(Debug, Clone, Copy, Default)]
pub struct Load {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
    /// Requests completed in the run.
    pub requests: u64,
    /// CPU time the server spent per request, in µs (set by [`measure`]).
    pub cpu_us: Option<f64>,
}

/// Runs wrk against `server`, and divides the CPU time `server` used meanwhile by the
/// requests: unlike requests/s this hardly depends on what else the shared cores did,
/// so it compares two servers more steadily than their throughput.
pub fn measure(url: &str, headers: &[&str], server: &Proc) -> anyhow::Result<Load> {
    let before = server.cpu_time()?;
    let mut load = run(url, headers)?;
    let used = server.cpu_time()?.saturating_sub(before);
    load.cpu_us = Some(used.as_secs_f64() * 1e6 / load.requests.max(1) as f64);
    Ok(load)
}

pub fn run(url: &str, headers: &[&str]) -> anyhow::Result<Load> {
    let mut command = crate::cores::command(crate::cores::Who::LoadGenerator, "wrk");
    command.args([
        format!("-t{THREADS}"),
        format!("-c{CONNECTIONS}"),
        format!("-d{SECONDS}s"),
        "--latency".into(),
    ]);
    for h in headers {
        command.arg("-H").arg(h);
    }
    let out = command
        .arg(url)
        .output()
        .context("run wrk (apt-get install wrk)")?;
    if !out.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    parse(&String::from_utf8_lossy(&out.stdout))
}

fn parse(text: &str) -> anyhow::Result<Load> {
    let mut load = Load::default();
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            load.rps = v.trim().parse()?;
        } else if let Some(v) = line.strip_prefix("50%") {
            load.p50_ms = duration_ms(v.trim())?;
        } else if let Some(v) = line.strip_prefix("99%") {
            load.p99_ms = duration_ms(v.trim())?;
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            load.non_2xx = v.trim().parse()?;
        } else if let Some((n, _)) = line.split_once(" requests in ") {
            load.requests = n.trim().parse()?;
        }
    }
    if load.rps == 0.0 {
        bail!("wrk printed no throughput:\n{text}");
    }
    Ok(load)
}

fn duration_ms(v: &str) -> anyhow::Result<f64> {
    let split = v
        .find(|c: char| c.is_ascii_alphabetic())
        .context("no unit")?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse()?;
    Ok(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => bail!("unknown unit {unit}"),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_wrk_output() {
        let text = "Running 5s test\n  Latency Distribution\n     50%  245.00us\n     75%  1.2ms\n     99%    8.10ms\n  1050002 requests in 5.00s, 98.21MB read\n  Requests/sec: 210000.50\n";
        let load = super::parse(text).unwrap();
        assert_eq!(load.rps, 210000.5);
        assert!((load.p50_ms - 0.245).abs() < 1e-9);
        assert!((load.p99_ms - 8.1).abs() < 1e-9);
        assert_eq!(load.requests, 1_050_002);
    }
}
