//! Starts the BFF: logging, settings, then the application until Ctrl-C.

use backend::config::args::Args;
use backend::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Args::settings_from_env();
    let _log_flush = backend::telemetry::init();
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => {
            // One line with the cause chain, not a backtrace.
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    };
    app.run_until_stopped().await?;
    Ok(())
}
