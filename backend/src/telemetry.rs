//! Logging: a subscriber for `main`, and a request span with an id on every request.
//!
//! The span records the path only, never the query string: the SPA's `/callback?code=…`
//! page load passes through here and the code must not reach a log line.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// Installs a global subscriber reading `RUST_LOG` (default `info`). Lines are written to
/// stdout by a background thread, so a request never waits on the terminal or the log
/// collector; the writer blocks rather than drops lines when it falls behind. Keep the
/// returned guard alive until exit: dropping it flushes what is left.
pub fn init() -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,actix_server=warn"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stdout());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .with_writer(writer)
        .init();
    guard
}

/// A process-unique request id: a random per-process prefix and a counter (no system call
/// per request, unlike drawing fresh random bytes).
fn request_id() -> String {
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).expect("the OS random number generator failed");
        u32::from_le_bytes(bytes)
    });
    format!("{prefix:08x}{:08x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub async fn request_span(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id();
    let span = tracing::info_span!("request", id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let _enter = span.enter();
    match result {
        Ok(mut response) => {
            let status = response.status();
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            // Successful requests, 401 (a signed-out page load) and 404 are routine and the
            // bulk of traffic: logging each at info cost a third of the throughput of a
            // session read (BENCHMARKS.md). Other refusals and failures stay visible, and
            // sign-in events are logged by their handlers. RUST_LOG=debug shows them all.
            let routine = matches!(status.as_u16(), 401 | 404) || !status.is_client_error();
            if status.is_server_error() {
                tracing::warn!(status = status.as_u16(), ms, "request finished");
            } else if routine {
                tracing::debug!(status = status.as_u16(), ms, "request finished");
            } else {
                tracing::info!(status = status.as_u16(), ms, "request finished");
            }
            if let Ok(value) = HeaderValue::from_str(&id) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static("x-request-id"), value);
            }
            Ok(response)
        }
        Err(e) => {
            tracing::warn!(error = %e, "request failed before a response");
            Err(e)
        }
    }
}
