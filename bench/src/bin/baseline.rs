//! The baseline: a bare actix-web server answering the same bytes as the product, with no
//! session, no middleware and no logging. What "close to a bare handler" is measured against.
//!
//! Usage: `baseline <dir> <port> <workers> [same-headers]`; `<dir>` holds `me.json`,
//! `signed-out.json`, `index.html` and `app.wasm.gz`, captured from the product by the
//! bench, and `page.html` and `page-sized.html`, the static pages of the page-load
//! baselines (the second also as `/page-sized-same-headers`, with the document headers of
//! the product's `index.html`, read from `index.headers`). With `same-headers` it also
//! answers each of the first three with the headers the product sent with it
//! (`me.headers`, ...: its security headers, cache policy, ETag) and a fresh request id,
//! so its answers are the product's byte for byte and what is left between the two is
//! the product's own work.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpResponse, HttpServer};

/// One of the product's answers as captured: its body and, with `same-headers`, the
/// headers it came with and a fresh request id per answer.
#[derive(Clone)]
struct Canned {
    body: web::Bytes,
    headers: Arc<[(HeaderName, HeaderValue)]>,
    request_id: bool,
}

impl Canned {
    /// `<name>.<ext>` and, with `same`, `<name>.headers` (`name: value` lines) in `dir`.
    fn read(dir: &Path, name: &str, ext: &str, same: bool) -> anyhow::Result<Self> {
        let body = std::fs::read(dir.join(format!("{name}.{ext}")))?.into();
        let headers = if same {
            read_headers(&dir.join(format!("{name}.headers")))?
        } else {
            Arc::from([])
        };
        Ok(Self {
            body,
            headers,
            request_id: same,
        })
    }

    fn answer(&self, status: StatusCode, content_type: &'static str) -> HttpResponse {
        let mut response = HttpResponse::build(status);
        response.content_type(content_type);
        for (name, value) in self.headers.iter() {
            response.insert_header((name.clone(), value.clone()));
        }
        if self.request_id {
            response.insert_header((HeaderName::from_static("x-request-id"), next_request_id()));
        }
        response.body(self.body.clone())
    }
}

/// The `name: value` lines of `path`.
fn read_headers(path: &Path) -> anyhow::Result<Arc<[(HeaderName, HeaderValue)]>> {
    let mut headers = Vec::new();
    for line in std::fs::read_to_string(path)?.lines() {
        let (name, value) = line
            .split_once(": ")
            .ok_or_else(|| anyhow::anyhow!("not a header line in {}: {line}", path.display()))?;
        headers.push((
            HeaderName::from_bytes(name.as_bytes())?,
            HeaderValue::from_str(value)?,
        ));
    }
    Ok(headers.into())
}

#[derive(Clone)]
struct Bodies {
    me: Canned,
    signed_out: Canned,
    index: Canned,
    wasm_gz: web::Bytes,
    page: web::Bytes,
    page_sized: web::Bytes,
    document_headers: Arc<[(HeaderName, HeaderValue)]>,
}

/// A static page of the page-load baselines: its type and `headers` (none, or the
/// product's document headers: see [`document_headers`]).
fn page(body: &web::Bytes, headers: &[(HeaderName, HeaderValue)]) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response.content_type("text/html; charset=utf-8");
    for (name, value) in headers {
        response.insert_header((name.clone(), value.clone()));
    }
    response.body(body.clone())
}

/// The headers the product sent with `index.html` (`index.headers`) that apply to any
/// document: its CSP (which allows only the product's own inline script) and ETag (which
/// names the product's page) are left out. `Cross-Origin-Opener-Policy` is among them, and
/// it decides whether a navigation needs a fresh renderer process.
fn document_headers(dir: &Path) -> anyhow::Result<Arc<[(HeaderName, HeaderValue)]>> {
    Ok(read_headers(&dir.join("index.headers"))?
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "content-security-policy" | "etag"))
        .cloned()
        .collect())
}

/// Sixteen hex digits from a counter, as the product's request ids (no allocation).
fn next_request_id() -> HeaderValue {
    static NEXT: AtomicU64 = AtomicU64::new(0x5eed_0000_0000_0000);
    let value = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut hex = [0u8; 16];
    for (i, digit) in hex.iter_mut().enumerate() {
        *digit = b"0123456789abcdef"[((value >> (60 - 4 * i)) & 0xf) as usize];
    }
    HeaderValue::from_bytes(&hex).expect("hex digits are a valid header value")
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(&args[0]);
    let port: u16 = args[1].parse()?;
    let workers: usize = args[2].parse()?;
    let same = args.get(3).is_some_and(|a| a == "same-headers");
    let read =
        |name: &str| -> anyhow::Result<web::Bytes> { Ok(std::fs::read(dir.join(name))?.into()) };
    let bodies = Bodies {
        me: Canned::read(&dir, "me", "json", same)?,
        signed_out: Canned::read(&dir, "signed-out", "json", same)?,
        index: Canned::read(&dir, "index", "html", same)?,
        wasm_gz: read("app.wasm.gz")?,
        page: read("page.html")?,
        page_sized: read("page-sized.html")?,
        document_headers: document_headers(&dir)?,
    };
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    println!("baseline listening on {}", listener.local_addr()?);
    HttpServer::new(move || {
        let b = bodies.clone();
        let (b1, b2, b3, b4, b5, b6) = (
            b.clone(),
            b.clone(),
            b.clone(),
            b.clone(),
            b.clone(),
            b.clone(),
        );
        App::new()
            .route(
                "/healthz",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
            .route(
                "/api/me",
                web::get().to(move || {
                    let me = b.me.clone();
                    async move { me.answer(StatusCode::OK, "application/json") }
                }),
            )
            .route(
                "/signed-out",
                web::get().to(move || {
                    let signed_out = b1.signed_out.clone();
                    async move { signed_out.answer(StatusCode::UNAUTHORIZED, "application/json") }
                }),
            )
            .route(
                "/",
                web::get().to(move || {
                    let index = b2.index.clone();
                    async move { index.answer(StatusCode::OK, "text/html; charset=utf-8") }
                }),
            )
            .route(
                "/page",
                web::get().to(move || {
                    let body = b4.page.clone();
                    async move { page(&body, &[]) }
                }),
            )
            .route(
                "/page-sized",
                web::get().to(move || {
                    let body = b5.page_sized.clone();
                    async move { page(&body, &[]) }
                }),
            )
            .route(
                "/page-sized-same-headers",
                web::get().to(move || {
                    let (body, headers) = (b6.page_sized.clone(), b6.document_headers.clone());
                    async move { page(&body, &headers) }
                }),
            )
            .route(
                "/app.wasm",
                web::get().to(move || {
                    let body = b3.wasm_gz.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/wasm")
                            .insert_header(("content-encoding", "gzip"))
                            .body(body)
                    }
                }),
            )
    })
    .workers(workers)
    .listen(listener)?
    .run()
    .await?;
    Ok(())
}
