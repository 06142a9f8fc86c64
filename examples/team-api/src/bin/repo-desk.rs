//! The BFF with the example's local API mounted (`/api/greetings`): the whole program a
//! team writes to add its own handlers.

fn main() -> std::process::ExitCode {
    backend::app::cli::main_with(|app| app.local_api(team_api::local::api()))
}
