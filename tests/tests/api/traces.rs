//! OpenTelemetry: the `backend` program exporting spans over OTLP/HTTP to a receiver of
//! the test's own, which decodes them with the protocol's own message types. A sign-in
//! is one trace (the request, the provider calls, the store operations under it); a
//! `traceparent` from a trusted proxy is continued and passed on to an upstream API, one
//! from a browser is not; no span attribute holds a secret or an email.

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use backend::crypto::KeyRing;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message as _;
use serde_json::json;
use testkit::process::{free_port, ChildGuard as Process};

use crate::helpers::{github_env, pkce_pair, wait_until_answers, Browser, PUBLIC_URL};
use crate::recording_upstream::Recorder;

/// One exported span, flattened.
#[derive(Clone, Debug)]
struct Span {
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    attributes: HashMap<String, String>,
    service: String,
}

impl Span {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(value: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(n)) => n.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// An OTLP/HTTP receiver: `POST /v1/traces` with a protobuf body.
struct Receiver {
    url: String,
    spans: Arc<Mutex<Vec<Span>>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let spans = Arc::new(Mutex::new(Vec::new()));
        let kept = web::Data::new(spans.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(kept.clone())
                .app_data(web::PayloadConfig::new(16 << 20))
                .route("/v1/traces", web::post().to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self { url, spans }
    }

    fn spans(&self) -> Vec<Span> {
        self.spans.lock().unwrap().clone()
    }

    /// Waits until a span matching `wanted` has arrived (the exporter sends in batches).
    async fn wait_for(&self, what: &str, wanted: impl Fn(&Span) -> bool) -> Span {
        let started = Instant::now();
        loop {
            if let Some(span) = self.spans().into_iter().find(&wanted) {
                return span;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no span {what} arrived; got {:#?}",
                self.spans()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn receive(kept: web::Data<Arc<Mutex<Vec<Span>>>>, body: web::Bytes) -> HttpResponse {
    let request = match ExportTraceServiceRequest::decode(body) {
        Ok(request) => request,
        Err(e) => return HttpResponse::BadRequest().body(e.to_string()),
    };
    let mut kept = kept.lock().unwrap();
    for resource in request.resource_spans {
        let service = resource
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|a| a.key == "service.name")
            .map(|a| text(a.value.as_ref()))
            .unwrap_or_default();
        for scope in resource.scope_spans {
            for span in scope.spans {
                kept.push(Span {
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    attributes: span
                        .attributes
                        .iter()
                        .map(|a| (a.key.clone(), text(a.value.as_ref())))
                        .collect(),
                    service: service.clone(),
                });
            }
        }
    }
    // An empty ExportTraceServiceResponse.
    HttpResponse::Ok()
        .content_type("application/x-protobuf")
        .finish()
}

/// The BFF as a process exporting to `receiver`, trusting `trusted` as proxies, with one
/// public upstream API (`/api/notes`) at `upstream`.
async fn bff(
    receiver: &Receiver,
    trusted: &str,
    emulator: &emulator::Emulator,
    upstream: &str,
) -> (Process, String) {
    let port = free_port();
    let data = tempfile::tempdir().unwrap().keep();
    let file = data.join("bff.toml");
    std::fs::write(
        &file,
        format!("[[api]]\nprefix = \"notes\"\nupstream = \"{upstream}\"\nidentity = \"none\"\npublic = true\n"),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_bff-process"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("PUBLIC_URL", PUBLIC_URL)
        .env("DATA_DIR", &data)
        .env("CONFIG_FILE", &file)
        .envs(github_env(emulator))
        .env("TOKEN_KEYS", KeyRing::generate_key())
        .env("TRUSTED_PROXIES", trusted)
        .env("WORKERS", "1")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.url)
        .env("OTEL_SERVICE_NAME", "bff-under-test")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .spawn()
        .unwrap();
    let process = Process::new(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_until_answers(&base, "/healthz", "the BFF did not start").await;
    (process, base)
}

fn start_emulator() -> emulator::Emulator {
    emulator::Emulator::start(
        emulator::AppRegistration::random("Traces", &format!("{PUBLIC_URL}/callback")),
        TcpListener::bind("127.0.0.1:0").unwrap(),
        1,
    )
    .unwrap()
}

/// Every span below `root` (children, their children, ...).
fn descendants<'a>(spans: &'a [Span], root: &Span) -> Vec<&'a Span> {
    let mut found: Vec<&Span> = Vec::new();
    let mut frontier = vec![root.span_id.clone()];
    while let Some(parent) = frontier.pop() {
        for span in spans.iter().filter(|s| s.parent_span_id == parent) {
            frontier.push(span.span_id.clone());
            found.push(span);
        }
    }
    found
}

#[tokio::test]
async fn a_sign_in_is_one_trace_and_a_trusted_proxys_trace_is_continued_to_the_api() {
    let receiver = Receiver::start();
    let upstream = Recorder::start();
    let emulator = start_emulator();
    let (_process, base) = bff(&receiver, "127.0.0.1", &emulator, &upstream.url).await;
    let browser = Browser::new(&base).seen_from("198.51.100.20");

    // The sign-in, step by step, keeping every secret it involves.
    let (verifier, challenge) = pkce_pair();
    let login = browser
        .post_json(
            "/api/auth/login",
            &json!({
                "provider": "github",
                "code_verifier": verifier,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }),
        )
        .await;
    assert_eq!(login.status(), 200, "{:?}", login.text().await);
    let login: serde_json::Value = login.json().await.unwrap();
    let redirect = browser
        .authorize(
            login["authorize_url"].as_str().unwrap(),
            "octocat",
            "approve",
        )
        .await;
    let callback = browser.callback(&redirect).await;
    assert_eq!(callback.status(), 200);
    let me: serde_json::Value = browser.get("/api/me").await.json().await.unwrap();
    let email = me["email"]
        .as_str()
        .unwrap_or("octocat@github.com")
        .to_owned();

    // The callback: a server span for the route, with its provider calls and store
    // operations under it, all in its trace.
    let request = receiver
        .wait_for("for the callback", |s| {
            s.name == "request" && s.attribute("http.route") == Some("/api/auth/callback")
        })
        .await;
    assert_eq!(request.service, "bff-under-test");
    assert_eq!(request.attribute("http.response.status_code"), Some("200"));
    assert_eq!(request.attribute("id").map(str::len), Some(16));
    for endpoint in ["token", "profile"] {
        receiver
            .wait_for(&format!("provider {endpoint}"), |s| {
                s.name == "provider"
                    && s.attribute("endpoint") == Some(endpoint)
                    && s.trace_id == request.trace_id
            })
            .await;
    }
    receiver
        .wait_for("users.upsert", |s| {
            s.name == "store"
                && s.attribute("operation") == Some("users.upsert")
                && s.trace_id == request.trace_id
        })
        .await;
    let spans = receiver.spans();
    let under: Vec<&Span> = descendants(&spans, &request);
    let named = |name: &str, key: &str, value: &str| {
        under
            .iter()
            .any(|s| s.name == name && s.attribute(key) == Some(value))
    };
    assert!(under.iter().any(|s| s.name == "callback"), "{under:#?}");
    assert!(named("provider", "endpoint", "token"), "{under:#?}");
    assert!(named("provider", "endpoint", "profile"), "{under:#?}");
    assert!(named("store", "operation", "session.replace"), "{under:#?}");
    assert!(named("store", "operation", "users.upsert"), "{under:#?}");
    assert!(under.iter().all(|s| s.trace_id == request.trace_id));
    // The login before it was a trace of its own (no parent given to it).
    let login_span = receiver
        .wait_for("for the login", |s| {
            s.name == "request" && s.attribute("http.route") == Some("/api/auth/login")
        })
        .await;
    assert_ne!(login_span.trace_id, request.trace_id);
    assert_eq!(login_span.parent_span_id, "");

    // A trusted proxy's trace context is continued, and the upstream API gets a
    // `traceparent` in the same trace, naming a span of ours.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = "00f067aa0ba902b7";
    let forwarded = browser
        .send(
            browser
                .raw()
                .get(format!("{base}/api/notes/today"))
                .header("traceparent", format!("00-{trace_id}-{parent}-01"))
                .header("tracestate", "edge=1"),
        )
        .await;
    assert_eq!(forwarded.status(), 200);
    let continued = receiver
        .wait_for("for the forwarded request", |s| {
            s.name == "request" && s.trace_id == trace_id
        })
        .await;
    assert_eq!(continued.parent_span_id, parent);
    let seen = upstream.seen();
    let sent = seen.last().unwrap().header("traceparent").unwrap();
    let fields: Vec<&str> = sent.split('-').collect();
    assert_eq!(fields[1], trace_id, "{sent}");
    let ours = receiver
        .wait_for("the span the upstream's parent names", |s| {
            s.span_id == fields[2]
        })
        .await;
    assert_eq!(ours.trace_id, trace_id);

    // No attribute of any span holds a token, the code, the verifier, the cookie, the
    // client secret or the email.
    let mut secrets = emulator.control().issued_tokens();
    secrets.push(redirect.get("code").to_owned());
    secrets.push(verifier);
    secrets.push(browser.session_cookie().unwrap());
    secrets.push(emulator.control().app().client_secret.clone());
    secrets.push(email);
    let spans = receiver.spans();
    for span in &spans {
        for (key, value) in &span.attributes {
            for secret in &secrets {
                assert!(
                    !value.contains(secret.as_str()),
                    "span {} attribute {key} holds a secret",
                    span.name
                );
            }
            assert!(
                !value.contains('@'),
                "span {} attribute {key}: {value}",
                span.name
            );
        }
    }
}

#[tokio::test]
async fn a_browsers_traceparent_starts_nothing() {
    let receiver = Receiver::start();
    let upstream = Recorder::start();
    let emulator = start_emulator();
    // The only trusted proxy is elsewhere: the test is a browser.
    let (_process, base) = bff(&receiver, "192.0.2.1", &emulator, &upstream.url).await;
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let answer = reqwest::Client::new()
        .get(format!("{base}/api/me"))
        .header("traceparent", format!("00-{trace_id}-b7ad6b7169203331-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    let request = receiver
        .wait_for("for the refused read", |s| {
            s.name == "request" && s.attribute("http.route") == Some("/api/me")
        })
        .await;
    assert_eq!(request.attribute("http.response.status_code"), Some("401"));
    assert_ne!(request.trace_id, trace_id);
    assert_eq!(
        request.parent_span_id, "",
        "a browser's span was made our parent"
    );
    // Nor does it reach an upstream API.
    let forwarded = reqwest::Client::new()
        .get(format!("{base}/api/notes/x"))
        .header("traceparent", format!("00-{trace_id}-b7ad6b7169203331-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(forwarded.status(), 200);
    let sent = upstream
        .seen()
        .last()
        .unwrap()
        .header("traceparent")
        .unwrap()
        .to_owned();
    assert!(!sent.contains(trace_id), "{sent}");
    receiver
        .wait_for("for the forwarded request", |s| {
            s.name == "request"
                && s.attribute("http.route")
                    .is_some_and(|r| r.starts_with("/api/notes"))
        })
        .await;
    assert!(receiver.spans().iter().all(|s| s.trace_id != trace_id));
}
