//! The `backend` command: logging, settings, then the application until Ctrl-C. Kept in
//! the library so test harnesses can run the very same program as a separate process.

use super::{Application, Builder};
use crate::config::args::{Args, Command};

/// Runs the BFF as a program: exits with 2 on bad settings, 1 when start-up fails.
pub fn main() -> std::process::ExitCode {
    main_with(|app| app)
}

/// [`main`] with more in it: `extend` gets the application's [`Builder`] (settings read
/// already) and adds to it, typically your own handlers. The whole `main.rs` of a BFF
/// with a local API:
///
/// ```no_run
/// # mod my_api { pub fn api() -> backend::web::LocalApi {
/// #     backend::web::LocalApi::new("notes", |_| {}) } }
/// fn main() -> std::process::ExitCode {
///     backend::app::cli::main_with(|app| app.local_api(my_api::api()))
/// }
/// ```
pub fn main_with(extend: impl FnOnce(Builder) -> Builder) -> std::process::ExitCode {
    let (args, matches) = Args::parse_or_exit();
    match args.command {
        Some(Command::Check { probe, strict }) => {
            return super::check::run(args, &matches, probe, strict)
        }
        Some(Command::Openapi) => {
            print!("{}", crate::web::openapi::document());
            return std::process::ExitCode::SUCCESS;
        }
        None => {}
    }
    let settings = match args.settings() {
        Ok(settings) => settings,
        Err(message) => {
            for line in message.lines() {
                eprintln!("error: {line}");
            }
            return std::process::ExitCode::from(2);
        }
    };
    // Before the runtime: the trace exporter's HTTP client runs on a thread of its own
    // and must not be made (or dropped) inside async code.
    let telemetry = crate::telemetry::init(settings.log_json);
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
    let code = runtime.block_on(async {
        let app = match extend(Application::builder(settings)).build().await {
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
    });
    drop(runtime);
    // Flushes the log and exports the last spans.
    drop(telemetry);
    code
}
