//! The baseline of the proxy benchmarks: the least a reverse proxy in actix-web can be
//! (one shared client, the path and query appended to the upstream, status and body
//! streamed back), with no session, identity, header policy or logging.
//!
//! Usage: `bare_proxy <port> <upstream> <workers>`.

use std::net::TcpListener;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use futures_util::StreamExt as _;

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
            .default_service(web::to(forward))
    })
    .workers(workers)
    .listen(TcpListener::bind(("127.0.0.1", port))?)?
    .run()
    .await?;
    Ok(())
}
