//! OpenTelemetry traces over OTLP/HTTP (protobuf), configured by the standard variables
//! and off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
//! is set: `OTEL_SERVICE_NAME` (default `repo-desk-bff`), `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_TRACES_SAMPLER` and `_ARG` (default parent-based, always on), `OTEL_BSP_*` for
//! the batch exporter. Off, nothing here runs and nothing is measured on a request.
//!
//! What is exported: the `tracing` spans of this crate (a request, the handler, each
//! provider call, each store operation, a token refresh as leader or follower) with the
//! fields they name: ids, routes, status codes, endpoint and operation names. Events (log
//! lines) are not exported, so nothing a line says reaches a span; no span field holds a
//! token, code, verifier, cookie or email.
//!
//! W3C trace context: accepted on a request only from `TRUSTED_PROXIES` (a browser could
//! otherwise choose ids in our traces), and sent on every outgoing request: to providers
//! and to upstream APIs.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::filter::{FilterExt as _, Targets};
use tracing_subscriber::Layer;

/// True once traces are exported (checked before any work for them on a request).
static ON: AtomicBool = AtomicBool::new(false);

/// The service name when `OTEL_SERVICE_NAME` does not give one.
const SERVICE: &str = "repo-desk-bff";

pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// A variable's value, unless it is unset or empty.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Where spans go, as the exporter reads the variables (the traces endpoint, else the
/// general one with `/v1/traces`); `None` keeps traces off.
fn endpoint() -> Option<String> {
    var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| {
        var("OTEL_EXPORTER_OTLP_ENDPOINT").map(|e| format!("{}/v1/traces", e.trim_end_matches('/')))
    })
}

/// One line for `backend check`: where traces go, or that they are off.
pub fn describe() -> String {
    // A password in the URL stays out of the output (headers are not shown at all).
    let endpoint = endpoint().map(|e| match url::Url::parse(&e) {
        Ok(mut url) => {
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => e,
    });
    match endpoint {
        None => "off (OTEL_EXPORTER_OTLP_ENDPOINT unset)".to_owned(),
        Some(endpoint) => format!(
            "OTLP/HTTP to {endpoint} as service {}, sampler {}",
            var("OTEL_SERVICE_NAME").unwrap_or_else(|| SERVICE.to_owned()),
            var("OTEL_TRACES_SAMPLER").unwrap_or_else(|| "parentbased_always_on".to_owned()),
        ),
    }
}

/// The tracer provider the variables describe, or `None` when no endpoint is set. An
/// exporter that cannot be built is reported on stderr and traces stay off: telemetry
/// never stops the BFF.
pub fn provider() -> Option<SdkTracerProvider> {
    endpoint()?;
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(exporter) => exporter,
        Err(e) => {
            eprintln!("warning: OpenTelemetry traces are off: the OTLP exporter failed: {e}");
            return None;
        }
    };
    let mut resource = Resource::builder();
    if var("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(SERVICE);
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    ON.store(true, Ordering::Relaxed);
    Some(provider)
}

/// The layer that turns this crate's spans into OpenTelemetry spans: spans only (no
/// events), down to debug (store operations and reads' request spans are debug, so they
/// cost nothing while traces are off).
pub fn layer<S>(provider: &SdkTracerProvider) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let spans_only = tracing_subscriber::filter::filter_fn(|metadata| metadata.is_span())
        .and(Targets::new().with_target("backend", tracing::Level::DEBUG));
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(SERVICE))
        .with_filter(spans_only)
}

/// Makes the W3C trace context a request carried (`traceparent`, `tracestate`) the parent
/// of `span`. The caller decides whom to believe (trusted proxies only).
pub fn continue_trace(span: &tracing::Span, traceparent: &str, tracestate: Option<&str>) {
    let carrier = Carrier {
        traceparent,
        tracestate,
    };
    let context = TraceContextPropagator::new().extract(&carrier);
    let _ = span.set_parent(context);
}

/// The W3C trace context of the current span as headers for an outgoing request; empty
/// while traces are off.
pub fn headers() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    if on() {
        let context = tracing::Span::current().context();
        TraceContextPropagator::new().inject_context(&context, &mut ReqwestHeaders(&mut headers));
    }
    headers
}

/// The current span's `traceparent` while traces are exported.
pub fn current_traceparent() -> Option<String> {
    if !on() {
        return None;
    }
    headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The two headers of an incoming trace context.
struct Carrier<'a> {
    traceparent: &'a str,
    tracestate: Option<&'a str>,
}

impl Extractor for Carrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => Some(self.traceparent),
            "tracestate" => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

struct ReqwestHeaders<'a>(&'a mut reqwest::header::HeaderMap);

impl Injector for ReqwestHeaders<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(key.as_bytes()),
            reqwest::header::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}
