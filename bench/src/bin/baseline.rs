//! The baseline: a bare actix-web server answering the same bytes as the product, with no
//! session, no middleware and no logging. What "close to a bare handler" is measured against.
//!
//! Usage: `baseline <dir> <port> <workers>`; `<dir>` holds `me.json`, `signed-out.json`,
//! `index.html` and `app.wasm.gz`, captured from the product by the bench, and
//! `page.html` and `page-sized.html`, the static pages of the page-load baselines.

use std::net::TcpListener;
use std::path::PathBuf;

use actix_web::http::StatusCode;
use actix_web::{web, App, HttpResponse, HttpServer};

#[derive(Clone)]
struct Bodies {
    me: web::Bytes,
    signed_out: web::Bytes,
    index: web::Bytes,
    wasm_gz: web::Bytes,
    page: web::Bytes,
    page_sized: web::Bytes,
}

fn answer(status: StatusCode, content_type: &'static str, body: &web::Bytes) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(content_type)
        .body(body.clone())
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(&args[0]);
    let port: u16 = args[1].parse()?;
    let workers: usize = args[2].parse()?;
    let read =
        |name: &str| -> anyhow::Result<web::Bytes> { Ok(std::fs::read(dir.join(name))?.into()) };
    let bodies = Bodies {
        me: read("me.json")?,
        signed_out: read("signed-out.json")?,
        index: read("index.html")?,
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
                    let body = b.me.clone();
                    async move { answer(StatusCode::OK, "application/json", &body) }
                }),
            )
            .route(
                "/signed-out",
                web::get().to(move || {
                    let body = b1.signed_out.clone();
                    async move { answer(StatusCode::UNAUTHORIZED, "application/json", &body) }
                }),
            )
            .route(
                "/",
                web::get().to(move || {
                    let body = b2.index.clone();
                    async move { answer(StatusCode::OK, "text/html; charset=utf-8", &body) }
                }),
            )
            .route(
                "/page",
                web::get().to(move || {
                    let body = b4.page.clone();
                    async move { answer(StatusCode::OK, "text/html; charset=utf-8", &body) }
                }),
            )
            .route(
                "/page-sized",
                web::get().to(move || {
                    let body = b5.page_sized.clone();
                    async move { answer(StatusCode::OK, "text/html; charset=utf-8", &body) }
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
