//! Cross-target stages: the toolchain they need (found, or installed when it can be) and the
//! commands that run the crate's tests there.
//!
//! Targets come from rustup when they are installed; otherwise from Debian's Rust (packages
//! `rustc-web cargo-web rust-web-src`: `/usr/bin/cargo`, `/usr/bin/rustc` and the standard
//! library's source), which builds `std` for the target with `-Zbuild-std` under
//! `RUSTC_BOOTSTRAP=1`, since `rustup target add` cannot download here.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::cargo::CargoCmd;

const AARCH64: &str = "aarch64-unknown-linux-gnu";

/// Debian packages for the aarch64 stage: the toolchain, a cross linker and libc, qemu-user.
const AARCH64_PACKAGES: &[&str] = &[
    "rustc-web",
    "cargo-web",
    "rust-web-src",
    "qemu-user",
    "gcc-aarch64-linux-gnu",
    "libc6-dev-arm64-cross",
];

/// Printed when the aarch64 stage fails.
pub const AARCH64_HINT: &str = "the aarch64 stage needs `apt-get install rustc-web cargo-web \
    rust-web-src qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross` (run as root, the \
    xtask installs them itself); run `cargo xtask test --host` to leave cross targets out";

/// The Cortex-M targets: M0, M3, M4F, M33.
const CORTEX_M: [&str; 4] = [
    "thumbv6m-none-eabi",
    "thumbv7m-none-eabi",
    "thumbv7em-none-eabihf",
    "thumbv8m.main-none-eabihf",
];

/// Debian packages for the firmware stage, besides Debian's Rust.
const FIRMWARE_PACKAGES: &[&str] = &["gcc-arm-none-eabi", "qemu-system-arm"];

/// Printed when the firmware stage fails.
pub const FIRMWARE_HINT: &str = "the firmware stage needs `apt-get install rustc-web cargo-web \
    rust-web-src gcc-arm-none-eabi qemu-system-arm` (run as root, the xtask installs them \
    itself); run `cargo xtask test --host` to leave cross targets out";

/// Debian packages for building `core` for targets rustup does not have.
const DEBIAN_RUST_PACKAGES: &[&str] = &["rustc-web", "cargo-web", "rust-web-src"];

/// Printed when the Cortex-M build fails.
pub const CORTEX_M_HINT: &str = "the Cortex-M build needs the rustup targets or `apt-get \
    install rustc-web cargo-web rust-web-src` (run as root, the xtask installs them itself); \
    run `cargo xtask test --host` to leave cross targets out";

/// Debian's cargo and rustc.
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_RUSTDOC: &str = "/usr/bin/rustdoc";
/// Where `rust-web-src` puts the standard library's source.
const DEBIAN_STD_SRC: &str = "/usr/lib/rustlib/src/rust/library";
/// The aarch64 sysroot of `libc6-dev-arm64-cross`, for qemu's loader.
const AARCH64_SYSROOT: &str = "/usr/aarch64-linux-gnu";

/// `cargo test` of the crate for aarch64 (NEON), run by qemu-aarch64.
pub fn aarch64_test() -> CargoCmd {
    let env_target = AARCH64.to_uppercase().replace('-', "_");
    let base = cross_cargo(&["test", "-p", "focal-loss"], &[AARCH64], "-Zbuild-std");
    base.args(["--target-dir", "target/aarch64"])
        .env(
            &format!("CARGO_TARGET_{env_target}_LINKER"),
            "aarch64-linux-gnu-gcc",
        )
        .env(
            &format!("CARGO_TARGET_{env_target}_RUNNER"),
            format!("qemu-aarch64 -L {AARCH64_SYSROOT}"),
        )
}

/// `cargo build` of the library (`defmt` and `train` features on) for every Cortex-M target:
/// `no_std`, no allocator, nothing from `std` may slip in.
pub fn cortex_m_build() -> CargoCmd {
    let args = [
        "build",
        "-p",
        "focal-loss",
        "--release",
        "--features",
        "defmt,train",
    ];
    cross_cargo(&args, &CORTEX_M, "-Zbuild-std=core").args(["--target-dir", "target/cortex-m"])
}

/// `cargo build` of the on-device programs (`firmware/`: the check, the cost measurements,
/// the footprint programs) for every Cortex-M target.
pub fn firmware_build() -> CargoCmd {
    let args = [
        "build",
        "--release",
        "--manifest-path",
        "firmware/Cargo.toml",
        "--bins",
    ];
    cross_cargo(&args, &CORTEX_M, "-Zbuild-std=core")
        .args(["--target-dir", "target/firmware"])
        .rustflags(
            "-C link-arg=-Tlink.x -C link-arg=-Tdefmt.x -C linker=arm-none-eabi-ld \
             -C linker-flavor=ld",
        )
}

/// `cargo <args> --target …` for `targets`: rustup's cargo when it has every one of them,
/// else Debian's, building the standard library itself with `build_std`.
fn cross_cargo(args: &[&str], targets: &[&str], build_std: &str) -> CargoCmd {
    let cmd = if targets.iter().all(|t| rustup_has_target(t)) {
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

/// Makes sure the firmware stage can run (see [`ensure_aarch64`]).
pub fn ensure_firmware() -> Result<(), String> {
    ensure_cortex_m()?;
    ensure("the firmware", missing_for_firmware, FIRMWARE_PACKAGES)
}

/// The linker and emulator the firmware stage needs and does not find.
fn missing_for_firmware() -> Vec<String> {
    [
        "arm-none-eabi-ld",
        "arm-none-eabi-size",
        "arm-none-eabi-nm",
        "qemu-system-arm",
    ]
    .into_iter()
    .filter(|t| !on_path(t))
    .map(str::to_owned)
    .collect()
}

/// Makes sure the Cortex-M build can run (see [`ensure_aarch64`]).
pub fn ensure_cortex_m() -> Result<(), String> {
    ensure("Cortex-M", missing_for_cortex_m, DEBIAN_RUST_PACKAGES)
}

/// What the Cortex-M build needs and does not find.
fn missing_for_cortex_m() -> Vec<String> {
    if CORTEX_M.iter().all(|t| rustup_has_target(t)) {
        Vec::new()
    } else {
        debian_rust_missing()
    }
}

/// Installs `packages` when `missing` finds something missing, then checks again.
fn ensure(what: &str, missing: fn() -> Vec<String>, packages: &[&str]) -> Result<(), String> {
    let before = missing();
    if before.is_empty() {
        return Ok(());
    }
    println!("--- missing for {what}: {}", before.join(", "));
    install(packages)?;
    let after = missing();
    if after.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "still missing after the install: {}",
            after.join(", ")
        ))
    }
}

/// The parts of Debian's Rust that are not installed.
fn debian_rust_missing() -> Vec<String> {
    [DEBIAN_CARGO, DEBIAN_RUSTC, DEBIAN_STD_SRC]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .map(str::to_owned)
        .collect()
}

/// Makes sure the aarch64 stage can run: installs what is missing when running as root on
/// Debian / Ubuntu, otherwise says exactly what to install.
pub fn ensure_aarch64() -> Result<(), String> {
    ensure("aarch64", missing_for_aarch64, AARCH64_PACKAGES)
}

/// What the aarch64 stage needs and does not find.
fn missing_for_aarch64() -> Vec<String> {
    let mut missing = Vec::new();
    for tool in ["qemu-aarch64", "aarch64-linux-gnu-gcc"] {
        if !on_path(tool) {
            missing.push(tool.to_owned());
        }
    }
    if !Path::new(AARCH64_SYSROOT).join("lib").is_dir() {
        missing.push(format!("{AARCH64_SYSROOT}/lib (libc6-dev-arm64-cross)"));
    }
    if !rustup_has_target(AARCH64) {
        missing.extend(debian_rust_missing());
    }
    missing
}

/// `apt-get install` of `packages` when this is root on a system with apt-get.
fn install(packages: &[&str]) -> Result<(), String> {
    let command = format!(
        "apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    );
    if !is_root() || !Path::new("/usr/bin/apt-get").exists() {
        return Err(format!(
            "install them first (as root, on Debian / Ubuntu): apt-get update && {command}"
        ));
    }
    println!("--- apt-get update && {command}");
    run_quiet("apt-get", &["update"])?;
    let mut args = vec!["install", "-y", "--no-install-recommends"];
    args.extend_from_slice(packages);
    run_quiet("apt-get", &args)
}

/// Runs a command with output to the terminal; an error names it.
fn run_quiet(program: &str, args: &[&str]) -> Result<(), String> {
    let status = Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("could not start `{program}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

/// Whether `rustup` is present and has the standard library for `target`.
fn rustup_has_target(target: &str) -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == target)
        })
}

/// Whether `tool` is an executable on `PATH`.
fn on_path(tool: &str) -> bool {
    which(tool).is_some()
}

/// Where `tool` is on `PATH`.
pub fn which(tool: &str) -> Option<std::path::PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

/// Whether this process runs as root.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
