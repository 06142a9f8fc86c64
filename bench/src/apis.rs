//! Upstream APIs behind the BFF: what the BFF's forwarding costs against a bare actix-web
//! reverse proxy and against the upstream called directly, how much memory a large
//! upload takes on its way through, and what relaying a WebSocket adds to a round trip.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::Message;

use crate::procs::Proc;

/// The size of each upload of the memory measurement, and how many.
pub const UPLOAD_BYTES: usize = 20 * 1024 * 1024;
pub const UPLOADS: usize = 3;
/// Round trips per WebSocket measurement.
pub const ROUND_TRIPS: usize = 2000;

/// One of the bench's own helper programs (`upstream`, `bare_proxy`).
pub fn spawn(bin: &Path, name: &str, args: &[&str]) -> anyhow::Result<Proc> {
    let child = crate::cores::command(crate::cores::Who::Server, bin.join(name))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("start {name}"))?;
    Ok(Proc::new(child))
}

/// The configuration file that puts `upstream` behind the BFF at `/api/bench`.
pub fn config(work: &Path, upstream: &str) -> anyhow::Result<std::path::PathBuf> {
    let path = work.join("apis.toml");
    std::fs::write(
        &path,
        format!(
            "[[api]]\nprefix = \"bench\"\nupstream = \"{upstream}\"\nwebsocket = true\n\
             max_body_bytes = 67108864\n"
        ),
    )?;
    Ok(path)
}

/// Uploads [`UPLOADS`] bodies of [`UPLOAD_BYTES`] through `url`, streamed from here;
/// returns how much the BFF's peak resident memory grew, in KiB, and the mean time of one.
pub async fn upload_growth(bff: &Proc, url: &str, cookie: &str) -> anyhow::Result<(u64, Duration)> {
    let http = reqwest::Client::new();
    let before = bff.peak_rss_kib()?;
    let started = Instant::now();
    for _ in 0..UPLOADS {
        let chunk = vec![b'x'; 64 * 1024];
        let chunks = futures_util::stream::iter(
            (0..UPLOAD_BYTES / chunk.len()).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
        );
        let answer = http
            .post(url)
            .header("cookie", cookie)
            .header("x-csrf", "1")
            .header("content-type", "application/octet-stream")
            .header("content-length", UPLOAD_BYTES)
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await?;
        anyhow::ensure!(
            answer.status() == 200,
            "upload answered {}",
            answer.status()
        );
    }
    let grown = bff.peak_rss_kib()?.saturating_sub(before);
    Ok((grown, started.elapsed() / UPLOADS as u32))
}

/// [`ROUND_TRIPS`] echoes, one after the other, on one socket to `url` (with `headers`);
/// returns each round trip in microseconds.
pub async fn round_trips(
    url: &str,
    headers: &[(&'static str, String)],
) -> anyhow::Result<Vec<f64>> {
    let mut request = url.into_client_request()?;
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.parse()?);
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let mut times = Vec::with_capacity(ROUND_TRIPS);
    for n in 0..ROUND_TRIPS {
        let text = format!("message {n}");
        let started = Instant::now();
        socket.send(Message::text(text.clone())).await?;
        loop {
            match socket.next().await.context("the socket closed")?? {
                Message::Text(echo) if echo.as_str() == text => break,
                Message::Text(_) | Message::Ping(_) | Message::Pong(_) => continue,
                other => anyhow::bail!("unexpected {other:?}"),
            }
        }
        times.push(started.elapsed().as_secs_f64() * 1e6);
    }
    let _ = socket.close(None).await;
    Ok(times)
}

/// The `q` quantile of `values` (0.5: the median).
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}
