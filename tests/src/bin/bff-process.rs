//! The BFF program, built with the tests so they can run instances as real processes
//! (several behind one origin, killed halfway through a sign-in).

fn main() -> std::process::ExitCode {
    backend::app::cli::main()
}
