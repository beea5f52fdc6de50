//! Cross-target commands and the toolchain that builds them.
//!
//! Targets come from rustup when they are installed; otherwise from Debian's Rust (packages
//! `rustc-web cargo-web rust-web-src`: `/usr/bin/cargo`, `/usr/bin/rustc` and the standard
//! library's source), which builds `std` for the target with `-Zbuild-std` under
//! `RUSTC_BOOTSTRAP=1`, since `rustup target add` cannot download here.

use crate::cargo::CargoCmd;

/// The NEON target, run by qemu-user.
pub const AARCH64: &str = "aarch64-unknown-linux-gnu";
/// The Cortex-M targets: M0, M3, M4F, M33.
pub const CORTEX_M: [&str; 4] = [
    "thumbv6m-none-eabi",
    "thumbv7m-none-eabi",
    "thumbv7em-none-eabihf",
    "thumbv8m.main-none-eabihf",
];

/// Debian's cargo, rustc and rustdoc.
pub const DEBIAN_CARGO: &str = "/usr/bin/cargo";
pub const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_RUSTDOC: &str = "/usr/bin/rustdoc";
/// Where `rust-web-src` puts the standard library's source.
pub const DEBIAN_STD_SRC: &str = "/usr/lib/rustlib/src/rust/library";
/// The aarch64 sysroot of `libc6-dev-arm64-cross`, for qemu's loader.
pub const AARCH64_SYSROOT: &str = "/usr/aarch64-linux-gnu";

/// `cargo test` of the crate for aarch64 (NEON), run by qemu-aarch64.
pub fn aarch64_test() -> CargoCmd {
    let prefix = format!("CARGO_TARGET_{}", AARCH64.to_uppercase().replace('-', "_"));
    let runner = format!("qemu-aarch64 -L {AARCH64_SYSROOT}");
    cross_cargo("test -p focal-loss", &[AARCH64], "-Zbuild-std")
        .args(["--target-dir", "target/aarch64"])
        .env(&format!("{prefix}_LINKER"), "aarch64-linux-gnu-gcc")
        .env(&format!("{prefix}_RUNNER"), runner)
}

/// `cargo build` of the library (`defmt` and `train` features on) for every Cortex-M target:
/// `no_std`, no allocator, nothing from `std` may slip in.
pub fn cortex_m_build() -> CargoCmd {
    let args = "build -p focal-loss --release --features defmt,train";
    cross_cargo(args, &CORTEX_M, "-Zbuild-std=core").args(["--target-dir", "target/cortex-m"])
}

/// `cargo build` of the on-device programs (`firmware/`: the check, the cost measurements,
/// the footprint programs) for every Cortex-M target.
pub fn firmware_build() -> CargoCmd {
    let args = "build --release --manifest-path firmware/Cargo.toml --bins";
    cross_cargo(args, &CORTEX_M, "-Zbuild-std=core")
        .args(["--target-dir", "target/firmware"])
        .rustflags(
            "-C link-arg=-Tlink.x -C link-arg=-Tdefmt.x -C linker=arm-none-eabi-ld \
             -C linker-flavor=ld",
        )
}

/// `cargo <args> --target …` for `targets`: rustup's cargo when it has every one of them,
/// else Debian's, building the standard library itself with `build_std`.
fn cross_cargo(args: &str, targets: &[&str], build_std: &str) -> CargoCmd {
    let cmd = if rustup_has_targets(targets) {
        CargoCmd::new(args)
    } else {
        CargoCmd::new(args)
            .args([build_std])
            .program(DEBIAN_CARGO)
            .env("RUSTC", DEBIAN_RUSTC)
            .env("RUSTDOC", DEBIAN_RUSTDOC)
            .env("RUSTC_BOOTSTRAP", "1")
    };
    cmd.args(targets.iter().flat_map(|t| ["--target", *t]))
}

/// Whether `rustup` is present and has the standard library for every one of `targets`.
pub fn rustup_has_targets(targets: &[&str]) -> bool {
    let installed = crate::shell().and_then(|sh| {
        let cmd = sh.cmd("rustup").args(["target", "list", "--installed"]);
        Ok(cmd.quiet().ignore_stderr().read()?)
    });
    installed.is_ok_and(|list| targets.iter().all(|t| list.lines().any(|l| l.trim() == *t)))
}
