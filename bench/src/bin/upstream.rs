//! The upstream API of the proxy benchmarks: answers what a small JSON API answers,
//! without checking anything, so that what is measured is the path to it.
//!
//! Usage: `upstream <port> <workers>`. `GET /item`: a small JSON object; `POST /upload`:
//! counts the body as it streams in; `GET /ws`: a WebSocket that echoes.

use std::net::TcpListener;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use futures_util::StreamExt as _;

const ITEM: &str = r#"{"id":7,"title":"Write the quarterly report","done":false,"owner":"octocat","tags":["work","q4"]}"#;

async fn upload(mut body: web::Payload) -> HttpResponse {
    let mut bytes = 0usize;
    while let Some(Ok(chunk)) = body.next().await {
        bytes += chunk.len();
    }
    HttpResponse::Ok().json(serde_json::json!({ "bytes": bytes }))
}

async fn echo(req: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    let (response, mut session, messages) = actix_ws::handle(&req, body)?;
    let mut messages = messages.aggregate_continuations();
    actix_web::rt::spawn(async move {
        while let Some(Ok(message)) = messages.next().await {
            let sent = match message {
                actix_ws::AggregatedMessage::Text(text) => session.text(text).await,
                actix_ws::AggregatedMessage::Binary(bytes) => session.binary(bytes).await,
                actix_ws::AggregatedMessage::Ping(bytes) => session.pong(&bytes).await,
                actix_ws::AggregatedMessage::Close(reason) => {
                    let _ = session.close(reason).await;
                    return;
                }
                actix_ws::AggregatedMessage::Pong(_) => Ok(()),
            };
            if sent.is_err() {
                return;
            }
        }
    });
    Ok(response)
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args[0].parse()?;
    let workers: usize = args[1].parse()?;
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    HttpServer::new(|| {
        App::new()
            .route(
                "/healthz",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
            .route(
                "/item",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(ITEM)
                }),
            )
            .route("/upload", web::post().to(upload))
            .route("/ws", web::get().to(echo))
    })
    .workers(workers)
    .listen(listener)?
    .run()
    .await?;
    Ok(())
}
