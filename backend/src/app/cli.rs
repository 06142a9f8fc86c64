//! The `backend` command: logging, settings, then the application until Ctrl-C. Kept in
//! the library so test harnesses can run the very same program as a separate process.

use super::Application;
use crate::config::args::Args;

/// Runs the BFF as a program: exits with 2 on bad settings, 1 when start-up fails.
pub fn main() -> std::process::ExitCode {
    let settings = Args::settings_from_env();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let _log_flush = crate::telemetry::init(settings.log_json);
        let app = match Application::build(settings).await {
            Ok(app) => app,
            Err(e) => {
                // One line with the cause chain, not a backtrace.
                eprintln!("error: {e:#}");
                return std::process::ExitCode::FAILURE;
            }
        };
        match app.run_until_stopped().await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}
