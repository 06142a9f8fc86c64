//! The baseline of the proxy benchmarks: the least a reverse proxy in actix-web can be
//! (one shared client, the path and query appended to the upstream, status and body
//! streamed back), with no session, identity, header policy or logging. `GET /ws` is the
//! least WebSocket relay: the upstream's socket opened, the caller's accepted, messages
//! passed both ways until either side closes, with the same libraries as the BFF's relay
//! (actix-ws towards the caller, tokio-tungstenite towards the upstream) and none of its
//! checks (origin, session, its end at sign-out).
//!
//! Usage: `bare_proxy <port> <upstream> <workers>`.

use std::net::TcpListener;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_ws::AggregatedMessage;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message as Up;

async fn forward(req: HttpRequest, upstream: web::Data<(reqwest::Client, String)>) -> HttpResponse {
    let (client, base) = upstream.get_ref();
    let target = format!(
        "{base}{}",
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    match client.get(target).send().await {
        Ok(answer) => {
            let status = actix_web::http::StatusCode::from_u16(answer.status().as_u16())
                .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY);
            let body = answer
                .bytes_stream()
                .map(|c| c.map_err(std::io::Error::other));
            HttpResponse::build(status).streaming(body)
        }
        Err(_) => HttpResponse::BadGateway().finish(),
    }
}

async fn relay(
    req: HttpRequest,
    body: web::Payload,
    upstream: web::Data<(reqwest::Client, String)>,
) -> actix_web::Result<HttpResponse> {
    let target = format!("{}/ws", upstream.1.replacen("http://", "ws://", 1));
    let (socket, _) = tokio_tungstenite::connect_async(target)
        .await
        .map_err(actix_web::error::ErrorBadGateway)?;
    let (response, mut caller, messages) = actix_ws::handle(&req, body)?;
    let mut from_caller = messages.aggregate_continuations();
    let (mut to_upstream, mut from_upstream) = socket.split();
    actix_web::rt::spawn(async move {
        loop {
            tokio::select! {
                message = from_caller.next() => {
                    let up = match message {
                        Some(Ok(AggregatedMessage::Text(text))) => Up::text(text.to_string()),
                        Some(Ok(AggregatedMessage::Binary(bytes))) => Up::binary(bytes),
                        Some(Ok(AggregatedMessage::Ping(_) | AggregatedMessage::Pong(_))) => continue,
                        _ => break,
                    };
                    if to_upstream.send(up).await.is_err() {
                        break;
                    }
                }
                message = from_upstream.next() => {
                    let sent = match message {
                        Some(Ok(Up::Text(text))) => caller.text(text.as_str().to_owned()).await,
                        Some(Ok(Up::Binary(bytes))) => caller.binary(bytes).await,
                        Some(Ok(Up::Ping(_) | Up::Pong(_) | Up::Frame(_))) => Ok(()),
                        _ => break,
                    };
                    if sent.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to_upstream.send(Up::Close(None)).await;
        let _ = caller.close(None).await;
    });
    Ok(response)
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (port, upstream, workers): (u16, String, usize) =
        (args[0].parse()?, args[1].clone(), args[2].parse()?);
    let state = web::Data::new((reqwest::Client::new(), upstream));
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route(
                "/healthz",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
            .route("/ws", web::get().to(relay))
            .default_service(web::to(forward))
    })
    .workers(workers)
    .listen(TcpListener::bind(("127.0.0.1", port))?)?
    .run()
    .await?;
    Ok(())
}
