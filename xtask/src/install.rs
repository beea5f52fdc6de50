//! Everything `cargo xtask` installs on a fresh machine: the Debian packages of the cross
//! stages (with `apt-get`, as root) and the pinned `defmt-print` (with `cargo install`).
//!
//! Each `ensure_*` looks first and installs only when something is missing; where it cannot
//! install, it fails and says what to install.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};

use crate::cross::{self, AARCH64, AARCH64_SYSROOT, CORTEX_M};

/// Debian's Rust, for building `core` and `std` for targets rustup does not have.
const DEBIAN_RUST: &[&str] = &["rustc-web", "cargo-web", "rust-web-src"];
/// Debian packages for the firmware stage, besides Debian's Rust.
const FIRMWARE_PACKAGES: &[&str] = &["gcc-arm-none-eabi", "qemu-system-arm"];
/// Debian packages for the aarch64 stage: the toolchain, a cross linker and libc, qemu-user.
const AARCH64_PACKAGES: &[&str] = &[
    "rustc-web",
    "cargo-web",
    "rust-web-src",
    "qemu-user",
    "gcc-aarch64-linux-gnu",
    "libc6-dev-arm64-cross",
];
/// The pinned defmt decoder.
const DEFMT_PRINT_VERSION: &str = "1.2.0";

/// Printed when the Cortex-M build fails.
pub const CORTEX_M_HINT: &str = "the Cortex-M build needs the rustup targets or `apt-get \
    install rustc-web cargo-web rust-web-src` (run as root, the xtask installs them itself); \
    run `cargo xtask test --host` to leave cross targets out";
/// Printed when the firmware stage fails.
pub const FIRMWARE_HINT: &str = "the firmware stage needs `apt-get install rustc-web cargo-web \
    rust-web-src gcc-arm-none-eabi qemu-system-arm` (run as root, the xtask installs them \
    itself); run `cargo xtask test --host` to leave cross targets out";
/// Printed when the aarch64 stage fails.
pub const AARCH64_HINT: &str = "the aarch64 stage needs `apt-get install rustc-web cargo-web \
    rust-web-src qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross` (run as root, the \
    xtask installs them itself); run `cargo xtask test --host` to leave cross targets out";

/// Makes sure the Cortex-M build can run: rustup's targets, or Debian's Rust.
pub fn ensure_cortex_m() -> Result<()> {
    ensure_packages("Cortex-M", DEBIAN_RUST, || {
        if cross::rustup_has_targets(&CORTEX_M) {
            Vec::new()
        } else {
            debian_rust_missing()
        }
    })
}

/// Makes sure the firmware can be built and run: the Cortex-M toolchain, the linker, qemu and
/// `defmt-print`.
pub fn ensure_firmware() -> Result<()> {
    ensure_cortex_m()?;
    ensure_packages("the firmware", FIRMWARE_PACKAGES, || {
        missing_tools(&["arm-none-eabi-ld", "qemu-system-arm"])
    })?;
    defmt_print().map(drop)
}

/// Makes sure the aarch64 stage can run: qemu-user, the cross linker and libc, a toolchain.
pub fn ensure_aarch64() -> Result<()> {
    ensure_packages("aarch64", AARCH64_PACKAGES, || {
        let mut missing = missing_tools(&["qemu-aarch64", "aarch64-linux-gnu-gcc"]);
        if !Path::new(AARCH64_SYSROOT).join("lib").is_dir() {
            missing.push(format!("{AARCH64_SYSROOT}/lib (libc6-dev-arm64-cross)"));
        }
        if !cross::rustup_has_targets(&[AARCH64]) {
            missing.extend(debian_rust_missing());
        }
        missing
    })
}

/// `defmt-print`, installed with `cargo install` when it is on neither `PATH` nor in
/// `$CARGO_HOME/bin`.
pub fn defmt_print() -> Result<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    let installed = cargo_home.join("bin/defmt-print");
    let found = || which("defmt-print").or_else(|| installed.is_file().then(|| installed.clone()));
    if let Some(path) = found() {
        return Ok(path);
    }
    println!("--- cargo install defmt-print --locked --version {DEFMT_PRINT_VERSION}");
    let sh = crate::shell()?;
    let args = ["install", "defmt-print", "--locked", "--version"];
    let install = sh.cmd("cargo").args(args).arg(DEFMT_PRINT_VERSION);
    install.quiet().run()?;
    found().context("defmt-print is still not found after `cargo install`")
}

/// Installs `packages` when `missing` finds something missing, then checks again.
fn ensure_packages(what: &str, packages: &[&str], missing: impl Fn() -> Vec<String>) -> Result<()> {
    let before = missing();
    if before.is_empty() {
        return Ok(());
    }
    println!("--- missing for {what}: {}", before.join(", "));
    apt_get_install(packages)?;
    let after = missing();
    ensure!(
        after.is_empty(),
        "still missing after the install: {}",
        after.join(", ")
    );
    Ok(())
}

/// `apt-get install` of `packages` when this is root on a system with apt-get.
fn apt_get_install(packages: &[&str]) -> Result<()> {
    let sh = crate::shell()?;
    let command = format!(
        "apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    );
    let root = sh
        .cmd("id")
        .arg("-u")
        .quiet()
        .read()
        .is_ok_and(|uid| uid == "0");
    if !root || !Path::new("/usr/bin/apt-get").exists() {
        bail!("install them first (as root, on Debian / Ubuntu): apt-get update && {command}");
    }
    println!("--- apt-get update && {command}");
    let _frontend = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    sh.cmd("apt-get").arg("update").quiet().run()?;
    let install = sh
        .cmd("apt-get")
        .args(["install", "-y", "--no-install-recommends"]);
    Ok(install.args(packages).quiet().run()?)
}

/// The parts of Debian's Rust that are not installed.
fn debian_rust_missing() -> Vec<String> {
    [
        cross::DEBIAN_CARGO,
        cross::DEBIAN_RUSTC,
        cross::DEBIAN_STD_SRC,
    ]
    .into_iter()
    .filter(|p| !Path::new(p).exists())
    .map(str::to_owned)
    .collect()
}

/// The `tools` that are not on `PATH`.
fn missing_tools(tools: &[&str]) -> Vec<String> {
    tools
        .iter()
        .filter(|t| which(t).is_none())
        .map(|t| (*t).to_owned())
        .collect()
}

/// Where `tool` is on `PATH`.
fn which(tool: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}
