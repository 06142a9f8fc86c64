//! Logging: the subscriber for `main`, and request ids.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

/// Installs a global subscriber reading `RUST_LOG` (default `info`). Lines are written to
/// stdout by a background thread, so a request never waits on the terminal or the log
/// collector; the writer blocks rather than drops lines when it falls behind. Keep the
/// returned guard alive until exit: dropping it flushes what is left.
/// With `json`, each line is one JSON object (`LOG_FORMAT=json`, for log shippers):
/// timestamp, level, target (`audit` for audit events), fields and the request span.
pub fn init(json: bool) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,actix_server=warn"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if json {
        builder.json().with_current_span(true).init();
    } else {
        builder.with_ansi(std::io::stdout().is_terminal()).init();
    }
    guard
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
/// on the browser's behalf: a fresh trace id and parent id, so the upstream's traces of
/// one request hang together (a browser's own `traceparent` is never passed on: it
/// would let a page choose ids in the upstream's traces).
pub fn traceparent() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    format!("00-{}-{}-01", hex(&bytes[..16]), hex(&bytes[16..]))
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::RequestId;

    #[test]
    fn ids_are_sixteen_hex_digits_and_differ() {
        let (a, b) = (RequestId::next(), RequestId::next());
        assert_eq!(a.as_str().len(), 16);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.as_str(), b.as_str());
        assert_eq!(a.as_str()[..8], b.as_str()[..8], "one prefix per process");
    }
}
