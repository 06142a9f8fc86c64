//! Upstream services for the upstream-API tests: a recording one of the test's own
//! (every request it receives is kept, so tests can assert what never arrived), and the
//! example upstream (`team-api`) that verifies the BFF's identity tokens for real.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use backend::config::ApiSettings;
use futures_util::StreamExt as _;
use tokio::sync::Notify;

use crate::helpers::{spawn_app_with, Options, TestApp, PUBLIC_URL};

/// One request as the upstream saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query, as received.
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Default)]
struct Shared {
    seen: Arc<Mutex<Vec<Seen>>>,
    gate: Arc<Notify>,
}

/// The recording upstream. Routes:
/// - `/slow`: answers after three seconds;
/// - `/upload`: counts the body as it streams in, answers `{"bytes": n}`;
/// - `/sse`: event 1 at once, event 2 once the test opens the gate;
/// - `/ticks`: an event every 100 ms, forever;
/// - `/download`: declares [`DOWNLOAD_BYTES`] and sends 1 KiB every 100 ms;
/// - `/status/{code}`: that status, with a JSON body of its own;
/// - anything else: `{"method","target"}`, with a `Set-Cookie`, a CSP of its own and
///   `X-Upstream: yes`.
pub struct Recorder {
    pub url: String,
    shared: Shared,
}

impl Recorder {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared::default();
        let state = web::Data::new(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .route("/slow", web::get().to(slow))
                .route("/upload", web::post().to(upload))
                .route("/sse", web::get().to(sse))
                .route("/ticks", web::get().to(ticks))
                .route("/download", web::get().to(download))
                .route("/status/{code}", web::to(status))
                .default_service(web::to(echo))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self { url, shared }
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Lets `/sse` send its second event.
    pub fn open_gate(&self) {
        self.shared.gate.notify_one();
    }
}

fn record(req: &HttpRequest, shared: &Shared) {
    let seen = Seen {
        method: req.method().to_string(),
        target: req.uri().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("?").to_owned()))
            .collect(),
    };
    shared.seen.lock().unwrap().push(seen);
}

async fn echo(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    record(&req, &shared);
    HttpResponse::Ok()
        .insert_header(("set-cookie", "upstream=1; Path=/"))
        .insert_header(("content-security-policy", "default-src *"))
        .insert_header(("x-upstream", "yes"))
        .json(serde_json::json!({
            "method": req.method().as_str(),
            "target": req.uri().to_string(),
        }))
}

async fn slow(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    record(&req, &shared);
    tokio::time::sleep(Duration::from_secs(3)).await;
    HttpResponse::Ok().finish()
}

async fn upload(
    req: HttpRequest,
    mut body: web::Payload,
    shared: web::Data<Shared>,
) -> HttpResponse {
    record(&req, &shared);
    let mut bytes = 0usize;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => bytes += chunk.len(),
            Err(_) => return HttpResponse::BadRequest().finish(),
        }
    }
    HttpResponse::Ok().json(serde_json::json!({ "bytes": bytes }))
}

fn event(n: u32) -> Result<Bytes, std::io::Error> {
    Ok(Bytes::from(format!("event: tick\ndata: {n}\n\n")))
}

async fn sse(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    record(&req, &shared);
    let gate = shared.gate.clone();
    let stream =
        futures_util::stream::iter([event(1)]).chain(futures_util::stream::once(async move {
            gate.notified().await;
            event(2)
        }));
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(stream)
}

async fn ticks(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    record(&req, &shared);
    let stream = futures_util::stream::unfold(1u32, |n| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((event(n), n + 1))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(stream)
}

/// The length `/download` declares: a large file, which takes minutes to arrive.
pub const DOWNLOAD_BYTES: u64 = 4 * 1024 * 1024;

async fn download(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    record(&req, &shared);
    let stream = futures_util::stream::unfold((), |()| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((
            Ok::<_, std::io::Error>(web::Bytes::from(vec![b'x'; 1024])),
            (),
        ))
    });
    HttpResponse::Ok()
        .content_type("application/octet-stream")
        .no_chunking(DOWNLOAD_BYTES)
        .streaming(stream)
}

async fn status(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    record(&req, &shared);
    let code: u16 = req.match_info().get("code").unwrap().parse().unwrap();
    HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap())
        .insert_header(("x-upstream", "yes"))
        .json(serde_json::json!({ "upstream_error": code }))
}

/// An app with the recording upstream at `/api/rec`, changed by `change` first.
pub async fn app_with_recorder(
    change: impl FnOnce(&mut ApiSettings),
    options: Options,
) -> (TestApp, Recorder) {
    let recorder = Recorder::start();
    let mut api = ApiSettings::new("rec", recorder.url.parse().unwrap());
    change(&mut api);
    let app = spawn_app_with(Options {
        apis: vec![api],
        ..options
    })
    .await;
    (app, recorder)
}

/// The example upstream (`team-api`) at `/api/example`, verifying tokens against this
/// BFF's key set; `change` adjusts the API's entry.
pub async fn app_with_example(change: impl FnOnce(&mut ApiSettings), options: Options) -> TestApp {
    let bff = TcpListener::bind("127.0.0.1:0").unwrap();
    let bff_address = bff.local_addr().unwrap();
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_url = format!("http://{}", upstream.local_addr().unwrap());
    let server = team_api::upstream::serve(
        upstream,
        team_api::upstream::Config {
            jwks_url: format!("http://{bff_address}/.well-known/jwks.json"),
            issuer: PUBLIC_URL.to_owned(),
            audience: format!("{PUBLIC_URL}/api/example"),
            tick: Duration::from_millis(200),
        },
    )
    .unwrap();
    tokio::spawn(server);
    let mut api = ApiSettings::new("example", upstream_url.parse().unwrap());
    api.websocket = true;
    change(&mut api);
    spawn_app_with(Options {
        apis: vec![api],
        listener: Some(bff),
        ..options
    })
    .await
}
