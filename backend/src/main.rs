//! Starts the BFF (see `backend::app::cli`).

/// mimalloc instead of the C library's allocator: a request through the BFF allocates
/// and frees many small buffers on two or more threads, and glibc's malloc spent about
/// an eighth of the backend's time on them under load (BENCHMARKS.md).
///
/// Built with `no_thp`: by default mimalloc asks for transparent huge pages on the
/// memory it reserves, so every thread's first small allocation made 2 MiB resident and
/// the idle backend held 41 MiB instead of 19, with no measurable gain in speed.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    backend::app::cli::main()
}
