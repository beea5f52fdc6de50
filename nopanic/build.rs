//! Links the host's C library (start-up code, `memcpy`, `memset`), which rustc leaves out
//! of a `no_std` program.
fn main() {
    println!("cargo:rustc-link-arg-bins=-lc");
}
