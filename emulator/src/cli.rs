//! The `emulator` command: the GitHub emulator on its own, for manual use, benchmarks
//! and tests that want the provider in a separate process.

use std::net::TcpListener;

use clap::Parser;

use crate::{AppRegistration, Emulator};

/// A GitHub OAuth + REST API emulator for local development and tests.
#[derive(Parser)]
struct Args {
    /// Address to listen on. Loopback only by default: this is not a real identity provider.
    #[arg(long, env = "EMULATOR_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "EMULATOR_PORT", default_value_t = 0)]
    port: u16,
    /// OAuth client id of the registered app.
    #[arg(long, env = "EMULATOR_CLIENT_ID", default_value = "emulator-client")]
    client_id: String,
    /// OAuth client secret of the registered app.
    #[arg(
        long,
        env = "EMULATOR_CLIENT_SECRET",
        default_value = "emulator-secret"
    )]
    client_secret: String,
    /// The registered callback URL (the only redirect_uri accepted).
    #[arg(
        long,
        env = "EMULATOR_CALLBACK_URL",
        default_value = "http://localhost:3000/callback"
    )]
    callback_url: String,
    /// Issue expiring tokens with refresh tokens (GitHub App style) instead of tokens
    /// that never expire (classic OAuth App).
    #[arg(long, env = "EMULATOR_EXPIRING_TOKENS")]
    expiring_tokens: bool,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    workers: usize,
}

/// Runs the emulator as a program until Ctrl-C.
pub fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let listener = TcpListener::bind((args.host.as_str(), args.port))?;
    let emulator = Emulator::start(
        AppRegistration {
            name: "BFF (development)".to_owned(),
            client_id: args.client_id,
            client_secret: args.client_secret,
            callback_url: args.callback_url,
            expiring_tokens: args.expiring_tokens,
        },
        listener,
        args.workers,
    )?;
    // One parseable line: scripts and the benchmark read the URL from it.
    println!("emulator listening on {}", emulator.base_url());
    tokio::signal::ctrl_c().await?;
    emulator.stop().await;
    Ok(())
}
