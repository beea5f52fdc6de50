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
    /// Tools that must be on `PATH`, and (absolute) paths that must exist.
    tools: &'static [&'static str],
    /// Without rustup's standard library for these targets, Debian's Rust must be there.
    targets: &'static [&'static str],
    /// What `apt-get install` installs besides [`DEBIAN_RUST`] when something is missing.
    packages: &'static [&'static str],
    /// Whether the stage decodes `defmt` output, with [`defmt_print`].
    defmt_print: bool,
    /// Whether the stage links with a rustup toolchain's `rust-lld` ([`cross::rust_lld`]),
    /// which no Debian package brings.
    rust_lld: bool,
}

/// Debian's Rust, which every cross stage falls back on.
const DEBIAN_RUST: [&str; 3] = ["rustc-web", "cargo-web", "rust-web-src"];

/// The Cortex-M library build: rustup's targets, or Debian's Rust.
pub const CORTEX_M: Needs = Needs {
    stage: "the Cortex-M build",
    tools: &[],
    targets: &cross::CORTEX_M,
    packages: &[],
    defmt_print: false,
    rust_lld: false,
};

/// The firmware stage: the Cortex-M toolchain, the linker, qemu (and `defmt-print`).
pub const FIRMWARE: Needs = Needs {
    stage: "the firmware stage",
    tools: &[
        "arm-none-eabi-ld",
        "arm-none-eabi-objdump",
        "qemu-system-arm",
    ],
    targets: &cross::CORTEX_M,
    packages: &["gcc-arm-none-eabi", "qemu-system-arm"],
    defmt_print: true,
    rust_lld: false,
};

/// The C API's host stage: a C compiler, make and cmake (the examples' two builds).
pub const CAPI_HOST: Needs = Needs {
    stage: "the C API host stage",
    tools: &["cc", "make", "cmake"],
    targets: &[],
    packages: &["gcc", "libc6-dev", "make", "cmake"],
    defmt_print: false,
    rust_lld: false,
};

/// The C API's Cortex-M stage: the Cortex-M toolchain, newlib (the C test's libc, with
/// semihosting), qemu.
pub const CAPI_CORTEX_M: Needs = Needs {
    stage: "the C API Cortex-M stage",
    tools: &[
        "arm-none-eabi-gcc",
        "qemu-system-arm",
        "/usr/lib/arm-none-eabi/newlib/rdimon.specs",
    ],
    targets: &cross::CORTEX_M,
    packages: &[
        "gcc-arm-none-eabi",
        "libnewlib-arm-none-eabi",
        "qemu-system-arm",
    ],
    defmt_print: false,
    rust_lld: false,
};

/// The RISC-V firmware stage: the RISC-V toolchain, `rust-lld`, qemu-system-riscv32 (package
/// `qemu-system-misc`) and `defmt-print`.
pub const RISCV: Needs = Needs {
    stage: "the RISC-V firmware stage",
    tools: &["qemu-system-riscv32"],
    targets: &cross::RISCV,
    packages: &["qemu-system-misc"],
    defmt_print: true,
    rust_lld: true,
};

/// The aarch64 stage: a toolchain, a cross linker and libc, qemu-user.
pub const AARCH64: Needs = Needs {
    stage: "the aarch64 stage",
    tools: &[
        "qemu-aarch64",
        "aarch64-linux-gnu-gcc",
        "/usr/aarch64-linux-gnu/lib",
    ],
    targets: &[cross::AARCH64],
    packages: &[
        "qemu-user",
        "gcc-aarch64-linux-gnu",
        "libc6-dev-arm64-cross",
    ],
    defmt_print: false,
    rust_lld: false,
};

/// The pinned defmt decoder.
const DEFMT_PRINT_VERSION: &str = "1.2.0";

impl Needs {
    /// Installs what is missing when it can (as root, with apt-get), then checks again.
    pub fn ensure(&self) -> Result<()> {
        let before = self.missing();
        if !before.is_empty() {
            println!("--- missing for {}: {}", self.stage, before.join(", "));
            apt_get_install(&self.all_packages())?;
            let after = self.missing().join(", ");
            ensure!(after.is_empty(), "still missing after the install: {after}");
        }
        if self.defmt_print {
            defmt_print()?;
        }
        Ok(())
    }

    /// What the stage needs and does not find.
    fn missing(&self) -> Vec<&'static str> {
        let mut needed = self.tools.to_vec();
        if !cross::rustup_has_targets(self.targets) {
            needed.extend([
                cross::DEBIAN_CARGO,
                cross::DEBIAN_RUSTC,
                cross::DEBIAN_STD_SRC,
            ]);
        }
        let found = |t: &&str| which(t).is_some() || (t.starts_with('/') && Path::new(t).exists());
        let mut missing: Vec<_> = needed.into_iter().filter(|t| !found(t)).collect();
        if self.rust_lld && cross::rust_lld().is_none() {
            missing.push("rust-lld");
        }
        missing
    }

    /// Debian's Rust and the stage's own packages.
    fn all_packages(&self) -> Vec<&'static str> {
        DEBIAN_RUST.iter().chain(self.packages).copied().collect()
    }

    /// The hint printed when the stage fails.
    pub fn hint(&self) -> String {
        let lld = if self.rust_lld {
            " and a rustup toolchain (for its `rust-lld`)"
        } else {
            ""
        };
        format!(
            "{} needs `apt-get install {}`{lld} (run as root, the xtask installs them itself; \
             Debian's Rust only where rustup lacks the targets); run `cargo xtask test --host` \
             to leave cross targets out",
            self.stage,
            self.all_packages().join(" ")
        )
    }
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
    let version = DEFMT_PRINT_VERSION;
    println!("--- cargo install defmt-print --locked --version {version}");
    let sh = crate::shell()?;
    let install = cmd!(sh, "cargo install defmt-print --locked --version {version}");
    install.quiet().run()?;
    found().context("defmt-print is still not found after `cargo install`")
}

/// `apt-get install` of `packages` when this is root on a system with apt-get.
fn apt_get_install(packages: &[&str]) -> Result<()> {
    let sh = crate::shell()?;
    let flags = ["-y", "--no-install-recommends"];
    let command = format!("apt-get install {} {}", flags.join(" "), packages.join(" "));
    let root = cmd!(sh, "id -u").quiet().read().is_ok_and(|uid| uid == "0");
    if !root || !Path::new("/usr/bin/apt-get").exists() {
        bail!("install them first (as root, on Debian / Ubuntu): apt-get update && {command}");
    }
    println!("--- apt-get update && {command}");
    let _frontend = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    cmd!(sh, "apt-get update").quiet().run()?;
    let install = cmd!(sh, "apt-get install {flags...} {packages...}");
    install.quiet().run()?;
    Ok(())
}

/// Where `tool` is on `PATH`.
pub fn which(tool: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}
