//! Starts the BFF (see `backend::cli`).

fn main() -> std::process::ExitCode {
    backend::cli::main()
}
