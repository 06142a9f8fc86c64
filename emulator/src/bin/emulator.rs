//! Runs the GitHub emulator on its own (see `emulator::cli`).

fn main() -> anyhow::Result<()> {
    emulator::cli::main()
}
