//! `cargo xtask bench`.

pub fn bench() -> Result<(), String> {
    Err("benchmarks are not implemented yet".into())
}
