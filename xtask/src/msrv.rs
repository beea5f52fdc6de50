//! The minimum supported Rust version, tested: the `rust-version` the packages declare is
//! installed with rustup and builds the library (every feature, and none) and the C API.
//!
//! Clippy's `incompatible_msrv` lint (denied in `Cargo.toml`) reads the same declaration and
//! flags standard-library items newer than it; this stage also catches language features and
//! dependencies, which the lint cannot see.

use anyhow::{Context, Result, ensure};

use crate::cargo::CargoCmd;

/// The version every package of the workspace declares as `rust-version`.
pub const MSRV: &str = "1.89";

/// The stage's commands: install the toolchain (rustup does nothing when it is there), then
/// build with it into a target directory of its own.
pub fn commands() -> Vec<CargoCmd> {
    let install = format!("toolchain install {MSRV} --profile minimal");
    let build =
        |args: &str| CargoCmd::new(&format!("+{MSRV} build {args} --target-dir target/msrv"));
    vec![
        CargoCmd::new(&install).program("rustup"),
        build("-p focal-loss --all-features"),
        build("-p focal-loss --no-default-features"),
        build("-p focal-loss-c"),
    ]
}

/// Every workspace package (and the firmware) declares [`MSRV`], so what the stage built is
/// what they promise.
pub fn check_declared() -> Result<()> {
    let root = crate::workspace_root();
    for manifest in ["Cargo.toml", "capi/Cargo.toml", "testkit/Cargo.toml"] {
        let path = root.join(manifest);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let declared = text
            .lines()
            .find_map(|l| l.strip_prefix("rust-version = "))
            .map(|v| v.trim().trim_matches('"'));
        ensure!(
            declared == Some(MSRV),
            "{manifest} declares rust-version {declared:?}, the MSRV stage tests {MSRV} \
             (xtask/src/msrv.rs): make them agree"
        );
    }
    println!("--- rust-version {MSRV} is declared by every package and built with Rust {MSRV}");
    Ok(())
}
