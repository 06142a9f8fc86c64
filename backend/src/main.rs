//! Starts the BFF (see `backend::app::cli`).

/// mimalloc instead of the C library's allocator: a request through the BFF allocates
/// and frees many small buffers on two or more threads, and glibc's malloc spent about
/// an eighth of the backend's time on them under load (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    backend::app::cli::main()
}
