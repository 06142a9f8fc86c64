//! Starts the BFF (see `backend::app::cli`).

fn main() -> std::process::ExitCode {
    backend::app::cli::main()
}
