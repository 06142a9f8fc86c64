//! The example upstream service as a program (`cargo xtask run` starts it in dev mode).
//!
//! `PORT` (default 4000), `BFF_URL` where the BFF is reachable from here (default
//! `http://127.0.0.1:3000`), `ISSUER` the BFF's public URL (default
//! `http://localhost:3000`), `AUDIENCE` (default `$ISSUER/api/example`).

use std::net::TcpListener;
use std::time::Duration;

use team_api::upstream::{serve, Config};

fn var(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let port = var("PORT", "4000");
    let bff = var("BFF_URL", "http://127.0.0.1:3000");
    let issuer = var("ISSUER", "http://localhost:3000");
    let config = Config {
        jwks_url: format!("{}/.well-known/jwks.json", bff.trim_end_matches('/')),
        audience: var(
            "AUDIENCE",
            &format!("{}/api/example", issuer.trim_end_matches('/')),
        ),
        issuer,
        tick: Duration::from_secs(1),
    };
    let listener = TcpListener::bind(("127.0.0.1", port.parse::<u16>()?))?;
    println!("team-api: listening on http://127.0.0.1:{port}");
    serve(listener, config)?.await?;
    Ok(())
}
