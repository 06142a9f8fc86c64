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
/// per request, unlike drawing fresh random bytes).
pub fn request_id() -> String {
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).expect("the OS random number generator failed");
        u32::from_le_bytes(bytes)
    });
    format!("{prefix:08x}{:08x}", NEXT.fetch_add(1, Ordering::Relaxed))
}
