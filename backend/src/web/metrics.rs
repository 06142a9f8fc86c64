//! `GET /metrics` on a listener of its own (`METRICS_ADDR`): the public listener never
//! shows it.

use std::net::SocketAddr;

use actix_web::{web, App, HttpResponse, HttpServer};

use crate::metrics::enable;

/// Serves `GET /metrics` on `addr` (its own listener: the public one never shows it).
/// Returns the server, to run beside the application, and the port bound.
pub fn serve(addr: SocketAddr) -> anyhow::Result<(actix_web::dev::Server, u16)> {
    let metrics = enable();
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| anyhow::anyhow!("METRICS_ADDR: cannot listen on {addr}: {e}"))?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        let metrics = metrics.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let metrics = metrics.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
                        .body(metrics.render())
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok((server, port))
}
