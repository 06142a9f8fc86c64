//! Prometheus metrics, recorded here and served in the text format on their own listener
//! by the web room (`METRICS_ADDR`, off by default). Off, recording costs one atomic load; on, one label lookup and an
//! atomic add per event.
//!
//! Exported: `http_requests` and `http_request_duration_seconds` by route pattern and
//! status class; `sign_ins` by outcome and reason; `provider_request_duration_seconds`
//! by provider endpoint and outcome; `token_refreshes` by outcome;
//! `session_cache_lookups` by result; `store_errors` by operation; for upstream APIs,
//! `api_requests` and `api_request_duration_seconds` (to the response headers) by API
//! and status class, `api_upstream_errors` by API and kind, `api_websockets_open` by API.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignInLabels {
    outcome: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    endpoint: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    api: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamFailureLabels {
    api: String,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiNameLabels {
    api: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

fn latency_buckets() -> Histogram {
    // 0.25 ms to about 8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RequestLabels, Histogram, fn() -> Histogram>,
    sign_ins: Family<SignInLabels, Counter>,
    provider_seconds: Family<ProviderLabels, Histogram, fn() -> Histogram>,
    token_refreshes: Family<OutcomeLabels, Counter>,
    cache_lookups: Family<ResultLabels, Counter>,
    store_errors: Family<OperationLabels, Counter>,
    refusals: Family<KindLabels, Counter>,
    writes_dropped: Family<KindLabels, Counter>,
    api_requests: Family<ApiLabels, Counter>,
    api_seconds: Family<ApiLabels, Histogram, fn() -> Histogram>,
    api_errors: Family<UpstreamFailureLabels, Counter>,
    api_sockets: Family<ApiNameLabels, Gauge>,
}

static METRICS: OnceLock<Arc<Metrics>> = OnceLock::new();

/// The process's metrics, once [`enable`] ran.
#[inline]
fn get() -> Option<&'static Metrics> {
    METRICS.get().map(|m| &**m)
}

/// Turns recording on for this process (idempotent) and returns the registry holder.
pub fn enable() -> Arc<Metrics> {
    METRICS.get_or_init(|| Arc::new(Metrics::new())).clone()
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("bff");
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds =
            Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_buckets,
            );
        let sign_ins = Family::<SignInLabels, Counter>::default();
        let provider_seconds =
            Family::<ProviderLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_buckets,
            );
        let token_refreshes = Family::<OutcomeLabels, Counter>::default();
        let cache_lookups = Family::<ResultLabels, Counter>::default();
        let store_errors = Family::<OperationLabels, Counter>::default();
        let refusals = Family::<KindLabels, Counter>::default();
        let writes_dropped = Family::<KindLabels, Counter>::default();
        let api_requests = Family::<ApiLabels, Counter>::default();
        let api_seconds = Family::<ApiLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_buckets,
        );
        let api_errors = Family::<UpstreamFailureLabels, Counter>::default();
        let api_sockets = Family::<ApiNameLabels, Gauge>::default();
        registry.register(
            "http_requests",
            "Requests answered, by route pattern and status class",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route pattern and status class",
            request_seconds.clone(),
        );
        registry.register(
            "sign_ins",
            "Finished sign-ins (callbacks), by outcome and error code",
            sign_ins.clone(),
        );
        registry.register(
            "provider_request_duration_seconds",
            "Calls to identity providers, by endpoint and outcome",
            provider_seconds.clone(),
        );
        registry.register(
            "token_refreshes",
            "Provider token refreshes, by outcome",
            token_refreshes.clone(),
        );
        registry.register(
            "session_cache_lookups",
            "Session reads served from the in-process cache (hit) or the store (miss)",
            cache_lookups.clone(),
        );
        registry.register(
            "store_errors",
            "Failed store operations, by operation",
            store_errors.clone(),
        );
        registry.register(
            "refusals",
            "Refused requests (CSRF, rate limits, failed sign-ins), by audit kind",
            refusals.clone(),
        );
        registry.register(
            "store_writes_dropped",
            "Writes the store dropped because its queue was full, by kind",
            writes_dropped.clone(),
        );
        registry.register(
            "api_requests",
            "Requests forwarded to upstream APIs, by API prefix and status class",
            api_requests.clone(),
        );
        registry.register(
            "api_request_duration_seconds",
            "Time until an upstream API's response headers, by API prefix and status class",
            api_seconds.clone(),
        );
        registry.register(
            "api_upstream_errors",
            "Upstream API failures (unreachable, timeout, broken stream), by API prefix and kind",
            api_errors.clone(),
        );
        registry.register(
            "api_websockets_open",
            "WebSockets open through upstream APIs, by API prefix",
            api_sockets.clone(),
        );
        Self {
            registry,
            requests,
            request_seconds,
            sign_ins,
            provider_seconds,
            token_refreshes,
            cache_lookups,
            store_errors,
            refusals,
            writes_dropped,
            api_requests,
            api_seconds,
            api_errors,
            api_sockets,
        }
    }

    /// The registry in the Prometheus/OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!(error = %e, "could not render the metrics");
        }
        text
    }
}

/// True when recording is on (callers skip work that only feeds metrics).
#[inline]
pub fn enabled() -> bool {
    METRICS.get().is_some()
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// One answered request: `route` is the matched pattern (`/api/me`), or `other`.
pub fn request(route: String, status: u16, elapsed: Duration) {
    if let Some(m) = get() {
        let labels = RequestLabels {
            route,
            status: status_class(status),
        };
        m.requests.get_or_create(&labels).inc();
        m.request_seconds
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }
}

/// A finished callback: `Ok` or the error code it failed with.
pub fn sign_in(outcome: Result<(), &'static str>) {
    if let Some(m) = get() {
        let labels = match outcome {
            Ok(()) => SignInLabels {
                outcome: "succeeded",
                reason: "none",
            },
            Err(code) => SignInLabels {
                outcome: "failed",
                reason: code,
            },
        };
        m.sign_ins.get_or_create(&labels).inc();
    }
}

/// Times a provider call.
pub async fn provider_call<T, E>(
    endpoint: &'static str,
    call: impl std::future::Future<Output = Result<T, E>>,
    outcome: impl Fn(&Result<T, E>) -> &'static str,
) -> Result<T, E> {
    if !enabled() {
        return call.await;
    }
    let started = Instant::now();
    let result = call.await;
    if let Some(m) = get() {
        m.provider_seconds
            .get_or_create(&ProviderLabels {
                endpoint,
                outcome: outcome(&result),
            })
            .observe(started.elapsed().as_secs_f64());
    }
    result
}

/// A token refresh ended with `outcome` (`succeeded`, `refused`, `failed`).
pub fn token_refresh(outcome: &'static str) {
    if let Some(m) = get() {
        m.token_refreshes
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }
}

/// A session read was served from the cache (`hit`) or not (`miss`).
pub fn cache_lookup(hit: bool) {
    if let Some(m) = get() {
        let result = if hit { "hit" } else { "miss" };
        m.cache_lookups
            .get_or_create(&ResultLabels { result })
            .inc();
    }
}

/// A refused request (CSRF, rate limit, failed sign-in), by audit kind.
pub fn refusal(kind: &'static str) {
    if let Some(m) = get() {
        m.refusals.get_or_create(&KindLabels { kind }).inc();
    }
}

/// A write the store dropped because its queue was full (`audit`).
pub fn write_dropped(kind: &'static str) {
    if let Some(m) = get() {
        m.writes_dropped.get_or_create(&KindLabels { kind }).inc();
    }
}

/// A store operation failed.
pub fn store_error(operation: &'static str) {
    if let Some(m) = get() {
        m.store_errors
            .get_or_create(&OperationLabels { operation })
            .inc();
    }
}

/// A request an upstream API answered (its status), or the BFF answered for it.
pub fn api_request(api: &str, status: u16, elapsed: Duration) {
    if let Some(m) = get() {
        let labels = ApiLabels {
            api: api.to_owned(),
            status: status_class(status),
        };
        m.api_requests.get_or_create(&labels).inc();
        m.api_seconds
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }
}

/// An upstream API failure: `unreachable`, `timeout`, `stream`.
pub fn api_upstream_error(api: &str, kind: &'static str) {
    if let Some(m) = get() {
        m.api_errors
            .get_or_create(&UpstreamFailureLabels {
                api: api.to_owned(),
                kind,
            })
            .inc();
    }
}

/// A WebSocket through `api` opened (`+1`) or closed (`-1`).
pub fn api_websockets(api: &str, change: i64) {
    if let Some(m) = get() {
        m.api_sockets
            .get_or_create(&ApiNameLabels {
                api: api.to_owned(),
            })
            .inc_by(change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_events_show_up_in_the_text() {
        let metrics = enable();
        request("/api/me".into(), 200, Duration::from_millis(2));
        sign_in(Err("access_denied"));
        cache_lookup(true);
        store_error("Failed to load a session");
        let text = metrics.render();
        assert!(
            text.contains("bff_http_requests_total{route=\"/api/me\",status=\"2xx\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("bff_sign_ins_total{outcome=\"failed\",reason=\"access_denied\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("bff_session_cache_lookups_total{result=\"hit\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("bff_http_request_duration_seconds_bucket"),
            "{text}"
        );
    }
}
