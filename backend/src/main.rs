//! Starts the BFF: logging, settings, then the application until Ctrl-C.

use backend::config::Settings;
use backend::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env_and_args();
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
