//! Logging and traces: the subscriber for `main` (log lines, and OpenTelemetry spans
//! when configured: `traces.rs`), and request ids.

pub mod traces;

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// What must live until exit: the log writer (dropping it flushes what is left) and the
/// trace exporter (dropping it exports what is left).
pub struct Telemetry {
    _log: tracing_appender::non_blocking::WorkerGuard,
    traces: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.traces.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Installs a global subscriber reading `RUST_LOG` (default `info`). Lines are written to
/// stdout by a background thread, so a request never waits on the terminal or the log
/// collector; the writer blocks rather than drops lines when it falls behind. Keep the
/// returned value alive until exit.
/// With `json`, each line is one JSON object (`LOG_FORMAT=json`, for log shippers):
/// timestamp, level, target (`audit` for audit events), fields and the request span.
/// With an OTLP endpoint configured, spans are exported too (`traces.rs`); without one
/// the subscriber is exactly the log one, so traces cost nothing.
pub fn init(json: bool) -> Telemetry {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,actix_server=warn"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stdout());
    let traces = traces::provider();
    match &traces {
        None => {
            let builder = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(writer);
            if json {
                builder.json().with_current_span(true).init();
            } else {
                builder.with_ansi(std::io::stdout().is_terminal()).init();
            }
        }
        Some(provider) => {
            let lines = if json {
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_writer(writer)
                    .boxed()
            } else {
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::stdout().is_terminal())
                    .with_writer(writer)
                    .boxed()
            };
            tracing_subscriber::registry()
                .with(lines.with_filter(filter))
                .with(traces::layer(provider))
                .init();
        }
    }
    Telemetry {
        _log: guard,
        traces,
    }
}

/// A process-unique request id: a random per-process prefix and a counter (no system call
/// per request, unlike drawing fresh random bytes). Sixteen hex digits, written without
/// allocating.
#[derive(Clone, Copy)]
pub struct RequestId([u8; 16]);

impl RequestId {
    pub fn next() -> Self {
        static PREFIX: OnceLock<u32> = OnceLock::new();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let prefix = *PREFIX.get_or_init(|| {
            let mut bytes = [0u8; 4];
            getrandom::fill(&mut bytes).expect("the OS random number generator failed");
            u32::from_le_bytes(bytes)
        });
        let value =
            (u64::from(prefix) << 32) | (NEXT.fetch_add(1, Ordering::Relaxed) & 0xffff_ffff);
        let mut hex = [0u8; 16];
        for (i, digit) in hex.iter_mut().enumerate() {
            let nibble = (value >> (60 - 4 * i)) & 0xf;
            *digit = b"0123456789abcdef"[nibble as usize];
        }
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        // Hex digits only.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A W3C Trace Context `traceparent` (version 00, sampled) for a request the BFF makes
/// on the browser's behalf. With traces exported it names the current span, so the
/// upstream's spans join the BFF's trace; without, a fresh trace id and parent id, so
/// the upstream's traces of one request still hang together. A browser's own
/// `traceparent` is never passed on: it would let a page choose ids in the upstream's
/// traces.
pub fn traceparent() -> String {
    if let Some(current) = traces::current_traceparent() {
        return current;
    }
    // The thread's generator (seeded from the OS, reseeded as it goes), not a system
    // call per request: these ids need to be unpredictable enough not to collide, not
    // secret. All-zero ids are invalid, hence the ranges.
    let trace_id: u128 = rand::random_range(1..=u128::MAX);
    let parent_id: u64 = rand::random_range(1..=u64::MAX);
    format!("00-{trace_id:032x}-{parent_id:016x}-01")
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{traceparent, RequestId};

    #[test]
    fn a_fresh_traceparent_is_version_00_sampled_and_never_all_zero() {
        let (a, b) = (traceparent(), traceparent());
        for id in [&a, &b] {
            let parts: Vec<&str> = id.split('-').collect();
            assert_eq!(parts.len(), 4, "{id}");
            assert_eq!((parts[0], parts[3]), ("00", "01"));
            assert_eq!((parts[1].len(), parts[2].len()), (32, 16), "{id}");
            assert!(parts[1..3]
                .iter()
                .all(|p| p.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))));
            assert!(parts[1].bytes().any(|c| c != b'0') && parts[2].bytes().any(|c| c != b'0'));
        }
        assert_ne!(a, b);
    }

    #[test]
    fn ids_are_sixteen_hex_digits_and_differ() {
        let (a, b) = (RequestId::next(), RequestId::next());
        assert_eq!(a.as_str().len(), 16);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.as_str(), b.as_str());
        assert_eq!(a.as_str()[..8], b.as_str()[..8], "one prefix per process");
    }
}
