//! The GitHub emulator program, built with the tests so they can run it as its own
//! process beside BFF processes.

fn main() -> anyhow::Result<()> {
    emulator::cli::main()
}
