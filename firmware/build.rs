//! Puts the board's memory map, as `memory.x`, where cortex-m-rt's `link.x` finds it.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let target = std::env::var("TARGET").unwrap_or_default();
    let map = if target.starts_with("thumbv8m") {
        "memory-an505.x"
    } else if target.starts_with("thumbv6m") {
        "memory-microbit.x"
    } else {
        "memory-mps2.x"
    };
    std::fs::copy(map, out.join("memory.x")).expect("copy the memory map");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory-mps2.x");
    println!("cargo:rerun-if-changed=memory-an505.x");
    println!("cargo:rerun-if-changed=memory-microbit.x");
}
