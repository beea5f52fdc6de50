//! Cross-target commands and the toolchain that builds them.
//!
//! Targets come from rustup when they are installed; otherwise from Debian's Rust (packages
//! `rustc-web cargo-web rust-web-src`: `/usr/bin/cargo`, `/usr/bin/rustc` and the standard
//! library's source), which builds `std` for the target with `-Zbuild-std` under
//! `RUSTC_BOOTSTRAP=1`, since `rustup target add` cannot download here. Debian's Rust has no
//! `rust-lld`, so the RISC-V firmware is linked with a rustup toolchain's ([`rust_lld`]).

use std::path::{Path, PathBuf};

use crate::cargo::CargoCmd;

/// The NEON target, run by qemu-user.
pub const AARCH64: &str = "aarch64-unknown-linux-gnu";
/// The Cortex-M targets: M0, M3, M4F, M33 (and, built with [`M55_FEATURES`], M55).
pub const CORTEX_M: [&str; 4] = [
    "thumbv6m-none-eabi",
    "thumbv7m-none-eabi",
    "thumbv7em-none-eabihf",
    "thumbv8m.main-none-eabihf",
];
/// The Cortex-M55's target features on top of `thumbv8m.main-none-eabihf`'s (the M33's):
/// Armv8.1-M with Helium (MVE) integer and float, the double-precision FPU, half precision,
/// DSP and low-overhead branches. (`-C target-cpu=cortex-m55` for the whole build crashes
/// LLVM in `core::fmt`.)
pub const M55_FEATURES: &str = "-C target-feature=+v8.1m.main,+mve.fp,+fp64,+fullfp16,+dsp,+lob";
/// The cfg of the four-lane Helium opt-in (`src/simd/mod.rs`).
pub const HELIUM_CFG: &str = "--cfg focal_loss_helium";
/// binutils' `ld`, which links the Cortex-M firmware.
const ARM_LINKER: &str = "-C linker=arm-none-eabi-ld -C linker-flavor=ld";

/// The RISC-V microcontroller targets: without an FPU (ESP32-C6, GD32VF103, CH32V203) and with
/// a single-precision one (CH32V307, ESP32-P4).
pub const RISCV: [&str; 2] = [
    "riscv32imac-unknown-none-elf",
    "riscv32imafc-unknown-none-elf",
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

/// The target directory of the firmware of the four Cortex-M targets' and the RISC-V ones.
pub const FIRMWARE_DIR: &str = "target/firmware";
/// The Cortex-M55's: its flags differ from the M33's, so `core` is built again, apart.
pub const M55_DIR: &str = "target/firmware-m55";
/// The four-lane Helium opt-in's (`embedded-report` only).
pub const HELIUM_DIR: &str = "target/firmware-m55-helium";

/// `cargo build` of the on-device programs (`firmware/`: the check, the cost measurements,
/// the footprint programs) for every Cortex-M target, linked by binutils' `ld`.
pub fn firmware_build() -> CargoCmd {
    firmware(&CORTEX_M, ARM_LINKER, FIRMWARE_DIR)
}

/// The same programs for the Cortex-M55: `thumbv8m.main` with [`M55_FEATURES`], one lane.
pub fn m55_firmware_build() -> CargoCmd {
    let flags = format!("{ARM_LINKER} {M55_FEATURES}");
    firmware(&[M55_TARGET], &flags, M55_DIR)
}

/// The Cortex-M55 programs with four Helium lanes ([`HELIUM_CFG`]): those the report
/// measures. The `no_panic_*` proofs are left out: the opt-in is outside the guarantees, and
/// with four lanes `no_panic_options` does not fit the AN547's flash region.
pub fn helium_firmware_build() -> CargoCmd {
    let flags = format!("{ARM_LINKER} {M55_FEATURES} {HELIUM_CFG}");
    let mut args = String::from(FIRMWARE_BUILD);
    for program in crate::embedded_report::programs() {
        args.push_str(" --bin ");
        args.push_str(program);
    }
    programs(&args, &[M55_TARGET], &flags, HELIUM_DIR)
}

/// The Cortex-M55's target (the M33's).
pub const M55_TARGET: &str = CORTEX_M[3];

/// The same programs for the RISC-V targets, into the same target directory (the host build
/// scripts and macros are shared), linked by [`rust_lld`].
pub fn riscv_firmware_build() -> CargoCmd {
    let lld = rust_lld().unwrap_or_else(|| PathBuf::from("rust-lld"));
    firmware(
        &RISCV,
        &format!("-C linker={}", lld.display()),
        FIRMWARE_DIR,
    )
}

/// `cargo build` of `firmware/` for `targets` into `dir`, with the runtime's and defmt's
/// linker scripts and `flags` (those that pick the linker, and any target features).
fn firmware(targets: &[&str], flags: &str, dir: &str) -> CargoCmd {
    programs(&format!("{FIRMWARE_BUILD} --bins"), targets, flags, dir)
}

/// `cargo build` of `firmware/`, before the programs are chosen.
const FIRMWARE_BUILD: &str = "build --release --manifest-path firmware/Cargo.toml";

/// [`firmware`] with `args` ([`FIRMWARE_BUILD`] and the programs: `--bins` or `--bin`s).
fn programs(args: &str, targets: &[&str], flags: &str, dir: &str) -> CargoCmd {
    cross_cargo(args, targets, "-Zbuild-std=core")
        .args(["--target-dir", dir])
        .rustflags(&format!(
            "-C link-arg=-Tlink.x -C link-arg=-Tdefmt.x {flags}"
        ))
}

/// A rustup toolchain's `rust-lld`: the active toolchain's (the sysroot of `rustc` on `PATH`)
/// first, else any installed toolchain's, else one on `PATH`.
pub fn rust_lld() -> Option<PathBuf> {
    let sh = crate::shell().ok()?;
    let sysroot = sh.cmd("rustc").args(["--print", "sysroot"]);
    let sysroot = sysroot
        .quiet()
        .ignore_stderr()
        .read()
        .ok()
        .map(PathBuf::from);
    let toolchains = home::rustup_home().ok().map(|home| home.join("toolchains"));
    let mut toolchains: Vec<PathBuf> = toolchains
        .and_then(|dir| std::fs::read_dir(dir).ok())
        .into_iter()
        .flatten()
        .filter_map(|entry| Some(entry.ok()?.path()))
        .collect();
    toolchains.sort();
    let in_toolchain = |root: &Path| {
        let hosts = std::fs::read_dir(root.join("lib/rustlib")).ok()?;
        let mut lld = hosts.filter_map(|host| Some(host.ok()?.path().join("bin/rust-lld")));
        lld.find(|path| path.is_file())
    };
    sysroot
        .into_iter()
        .chain(toolchains)
        .find_map(|root| in_toolchain(&root))
        .or_else(|| crate::install::which("rust-lld"))
}

/// `cargo <args> --target …` for `targets`: rustup's cargo when it has every one of them,
/// else Debian's, building the standard library itself with `build_std`.
pub fn cross_cargo(args: &str, targets: &[&str], build_std: &str) -> CargoCmd {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The Helium build makes the report's programs, each named, and no others.
    #[test]
    fn helium_build_names_the_report_programs() {
        let cmd = helium_firmware_build().display();
        assert!(!cmd.contains("--bins"), "{cmd}");
        for program in crate::embedded_report::programs() {
            assert!(
                cmd.contains(&format!("--bin {program} ")),
                "{program}: {cmd}"
            );
        }
        assert!(!cmd.contains("no_panic"), "{cmd}");
        assert!(cmd.contains(&format!("--target-dir {HELIUM_DIR}")), "{cmd}");
    }
}
