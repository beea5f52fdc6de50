//! Everything `cargo xtask` installs on a fresh machine: the Debian packages of the cross
//! stages (with `apt-get`, as root) and the pinned `defmt-print` (with `cargo install`).
//!
//! Each stage's [`Needs`] looks first and installs only when something is missing; where it
//! cannot install, it fails and says what to install.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use xshell::cmd;

use crate::cross;

/// What a cross stage needs from the machine, and the Debian packages that bring it.
pub struct Needs {
    /// Names the stage in messages.
    stage: &'static str,
    /// Tools that must be on `PATH`.
    tools: &'static [&'static str],
    /// Files or directories that must exist.
    paths: &'static [&'static str],
    /// Without rustup's standard library for these targets, Debian's Rust must be there.
    targets: &'static [&'static str],
    /// What `apt-get install` installs when something is missing.
    packages: &'static [&'static str],
}

/// The Cortex-M library build: rustup's targets, or Debian's Rust.
pub const CORTEX_M: Needs = Needs {
    stage: "the Cortex-M build",
    tools: &[],
    paths: &[],
    targets: &cross::CORTEX_M,
    packages: &["rustc-web", "cargo-web", "rust-web-src"],
};

/// The firmware stage: the Cortex-M toolchain, the linker, qemu (and `defmt-print`).
pub const FIRMWARE: Needs = Needs {
    stage: "the firmware stage",
    tools: &["arm-none-eabi-ld", "qemu-system-arm"],
    paths: &[],
    targets: &cross::CORTEX_M,
    packages: &[
        "rustc-web",
        "cargo-web",
        "rust-web-src",
        "gcc-arm-none-eabi",
        "qemu-system-arm",
    ],
};

/// The aarch64 stage: a toolchain, a cross linker and libc, qemu-user.
pub const AARCH64: Needs = Needs {
    stage: "the aarch64 stage",
    tools: &["qemu-aarch64", "aarch64-linux-gnu-gcc"],
    paths: &["/usr/aarch64-linux-gnu/lib"],
    targets: &[cross::AARCH64],
    packages: &[
        "rustc-web",
        "cargo-web",
        "rust-web-src",
        "qemu-user",
        "gcc-aarch64-linux-gnu",
        "libc6-dev-arm64-cross",
    ],
};

/// The pinned defmt decoder.
const DEFMT_PRINT_VERSION: &str = "1.2.0";

impl Needs {
    /// Installs what is missing when it can (as root, with apt-get), then checks again.
    pub fn ensure(&self) -> Result<()> {
        let before = self.missing();
        if before.is_empty() {
            return Ok(());
        }
        println!("--- missing for {}: {}", self.stage, before.join(", "));
        apt_get_install(self.packages)?;
        let after = self.missing();
        let after = after.join(", ");
        ensure!(after.is_empty(), "still missing after the install: {after}");
        Ok(())
    }

    /// What the stage needs and does not find.
    fn missing(&self) -> Vec<String> {
        let tools = self.tools.iter().filter(|t| which(t).is_none());
        let mut paths: Vec<&str> = self.paths.to_vec();
        if !cross::rustup_has_targets(self.targets) {
            paths.extend([
                cross::DEBIAN_CARGO,
                cross::DEBIAN_RUSTC,
                cross::DEBIAN_STD_SRC,
            ]);
        }
        let paths = paths.into_iter().filter(|p| !Path::new(p).exists());
        tools.copied().chain(paths).map(str::to_owned).collect()
    }

    /// The hint printed when the stage fails.
    pub fn hint(&self) -> String {
        format!(
            "{} needs `apt-get install {}` (run as root, the xtask installs them itself; \
             Debian's Rust only where rustup lacks the targets); run `cargo xtask test --host` \
             to leave cross targets out",
            self.stage,
            self.packages.join(" ")
        )
    }
}

/// Makes sure the firmware can be built and run, `defmt-print` included.
pub fn ensure_firmware() -> Result<()> {
    FIRMWARE.ensure()?;
    defmt_print().map(drop)
}

/// `defmt-print`, installed with `cargo install` when it is on neither `PATH` nor in
/// `$CARGO_HOME/bin`.
pub fn defmt_print() -> Result<PathBuf> {
    let installed = home::cargo_home().map(|home| home.join("bin/defmt-print"));
    let installed = installed.ok().filter(|path| path.is_file());
    let found = || which("defmt-print").or_else(|| installed.clone());
    if let Some(path) = found() {
        return Ok(path);
    }
    println!("--- cargo install defmt-print --locked --version {DEFMT_PRINT_VERSION}");
    let sh = crate::shell()?;
    let version = DEFMT_PRINT_VERSION;
    cmd!(sh, "cargo install defmt-print --locked --version {version}")
        .quiet()
        .run()?;
    found().context("defmt-print is still not found after `cargo install`")
}

/// `apt-get install` of `packages` when this is root on a system with apt-get.
fn apt_get_install(packages: &[&str]) -> Result<()> {
    let sh = crate::shell()?;
    let command = format!(
        "apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    );
    let root = cmd!(sh, "id -u").quiet().read().is_ok_and(|uid| uid == "0");
    if !root || !Path::new("/usr/bin/apt-get").exists() {
        bail!("install them first (as root, on Debian / Ubuntu): apt-get update && {command}");
    }
    println!("--- apt-get update && {command}");
    let _frontend = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    cmd!(sh, "apt-get update").quiet().run()?;
    cmd!(
        sh,
        "apt-get install -y --no-install-recommends {packages...}"
    )
    .quiet()
    .run()?;
    Ok(())
}

/// Where `tool` is on `PATH`.
fn which(tool: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}
