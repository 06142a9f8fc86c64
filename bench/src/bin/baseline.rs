//! The baseline: a bare actix-web server answering the same bytes as the product, with no
//! session, no middleware and no logging. What "close to a bare handler" is measured against.
//!
//! Usage: `baseline <dir> <port> <workers> [same-headers]`; `<dir>` holds `me.json`,
//! `signed-out.json`, `index.html` and `app.wasm.gz`, captured from the product by the
//! bench, and `page.html` and `page-sized.html`, the static pages of the page-load
//! baselines. With `same-headers` it also answers each of the first three with the
//! headers the product sent with it (`me.headers`, ...: its security headers, cache
//! policy, ETag) and a fresh request id, so its answers are the product's byte for byte
//! and what is left between the two is the product's own work.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpResponse, HttpServer};

/// Headers to send with an answer, besides its type.
type Headers = Arc<[(HeaderName, HeaderValue)]>;

#[derive(Clone)]
struct Bodies {
    me: web::Bytes,
    signed_out: web::Bytes,
    index: web::Bytes,
    me_headers: Headers,
    signed_out_headers: Headers,
    index_headers: Headers,
    /// Whether answers carry a fresh request id, as the product's do.
    request_id: bool,
    wasm_gz: web::Bytes,
    page: web::Bytes,
    page_sized: web::Bytes,
}

fn answer(
    status: StatusCode,
    content_type: &'static str,
    body: &web::Bytes,
    headers: &Headers,
    request_id: bool,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.content_type(content_type);
    for (name, value) in headers.iter() {
        response.insert_header((name.clone(), value.clone()));
    }
    if request_id {
        response.insert_header((HeaderName::from_static("x-request-id"), next_request_id()));
    }
    response.body(body.clone())
}

/// A static page of the page-load baselines: its type and no other header.
fn page(body: &web::Bytes) -> HttpResponse {
    answer(
        StatusCode::OK,
        "text/html; charset=utf-8",
        body,
        &Arc::from([]),
        false,
    )
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

/// The `name: value` lines of `path`, or none without `same-headers`.
fn headers(path: &Path, same: bool) -> anyhow::Result<Headers> {
    if !same {
        return Ok(Arc::from([]));
    }
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
        me: read("me.json")?,
        signed_out: read("signed-out.json")?,
        index: read("index.html")?,
        me_headers: headers(&dir.join("me.headers"), same)?,
        signed_out_headers: headers(&dir.join("signed-out.headers"), same)?,
        index_headers: headers(&dir.join("index.headers"), same)?,
        request_id: same,
        wasm_gz: read("app.wasm.gz")?,
        page: read("page.html")?,
        page_sized: read("page-sized.html")?,
    };
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    println!("baseline listening on {}", listener.local_addr()?);
    HttpServer::new(move || {
        let b = bodies.clone();
        let (b1, b2, b3, b4, b5) = (b.clone(), b.clone(), b.clone(), b.clone(), b.clone());
        App::new()
            .route(
                "/healthz",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
            .route(
                "/api/me",
                web::get().to(move || {
                    let (body, headers, id) = (b.me.clone(), b.me_headers.clone(), b.request_id);
                    async move { answer(StatusCode::OK, "application/json", &body, &headers, id) }
                }),
            )
            .route(
                "/signed-out",
                web::get().to(move || {
                    let (body, headers, id) = (
                        b1.signed_out.clone(),
                        b1.signed_out_headers.clone(),
                        b1.request_id,
                    );
                    async move {
                        answer(
                            StatusCode::UNAUTHORIZED,
                            "application/json",
                            &body,
                            &headers,
                            id,
                        )
                    }
                }),
            )
            .route(
                "/",
                web::get().to(move || {
                    let (body, headers, id) =
                        (b2.index.clone(), b2.index_headers.clone(), b2.request_id);
                    async move {
                        answer(
                            StatusCode::OK,
                            "text/html; charset=utf-8",
                            &body,
                            &headers,
                            id,
                        )
                    }
                }),
            )
            .route(
                "/page",
                web::get().to(move || {
                    let body = b4.page.clone();
                    async move { page(&body) }
                }),
            )
            .route(
                "/page-sized",
                web::get().to(move || {
                    let body = b5.page_sized.clone();
                    async move { page(&body) }
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
