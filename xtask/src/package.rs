//! The crate as crates.io users get it: `cargo package` writes the `.crate`; it is unpacked
//! outside the workspace, its contents checked, and its library and remaining targets built.
//!
//! `cargo package` keeps only what the manifest includes and drops path-only
//! dev-dependencies (`testkit`), so anything still in the package must build on its own.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::workspace_root;

/// Paths the package must hold (relative to its root).
const REQUIRED: [&str; 6] = [
    "Cargo.toml",
    "README.md",
    "docs/numerics.md",
    "LICENSE-MIT",
    "LICENSE-APACHE",
    "src/lib.rs",
];
/// Path prefixes that must not be in the package: the workspace alias (its `xtask` is not
/// packaged), and the tests, benches and data that need the workspace's `testkit`.
const FORBIDDEN: [&str; 5] = [".cargo/", "tests/", "benches/", "testkit/", "xtask/"];

/// Checks the `.crate` that the stage's `cargo package` wrote, then builds it unpacked.
pub fn check_unpacked() -> Result<()> {
    let root = workspace_root();
    let crate_file = packaged_crate(&root)?;
    let unpacked_parent = std::env::temp_dir().join("focal-loss-package-check");
    if unpacked_parent.exists() {
        std::fs::remove_dir_all(&unpacked_parent)
            .with_context(|| format!("cannot clear {}", unpacked_parent.display()))?;
    }
    std::fs::create_dir_all(&unpacked_parent)?;
    let sh = crate::shell()?;
    xshell::cmd!(sh, "tar -xzf {crate_file} -C {unpacked_parent}").run()?;
    let stem = crate_file.file_stem().context("the .crate has no name")?;
    let unpacked = unpacked_parent.join(stem);
    check_contents(&unpacked)?;
    // Its own target dir under the workspace's, so a rerun reuses the build.
    let target_dir = root.join("target/package-check");
    sh.change_dir(&unpacked);
    xshell::cmd!(
        sh,
        "cargo build --all-targets --features train --target-dir {target_dir}"
    )
    .run()?;
    // The doc tests too: they include README.md and docs/*.md.
    xshell::cmd!(
        sh,
        "cargo test --doc --features train --target-dir {target_dir}"
    )
    .run()?;
    println!("package: {} builds unpacked", crate_file.display());
    Ok(())
}

/// `target/package/focal-loss-<version>.crate` for the workspace's version.
fn packaged_crate(root: &Path) -> Result<PathBuf> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .context("no `version = \"…\"` line in Cargo.toml")?;
    let path = root.join(format!("target/package/focal-loss-{version}.crate"));
    if !path.is_file() {
        bail!("{} was not written by cargo package", path.display());
    }
    Ok(path)
}

/// Fails naming every required path missing from the package and every forbidden one in it.
fn check_contents(unpacked: &Path) -> Result<()> {
    let files: Vec<String> = walkdir::WalkDir::new(unpacked)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e.path().strip_prefix(unpacked).ok()?;
            Some(rel.to_string_lossy().replace('\\', "/"))
        })
        .collect();
    let mut problems: Vec<String> = REQUIRED
        .iter()
        .filter(|r| !files.iter().any(|f| f == *r))
        .map(|r| format!("missing {r}"))
        .collect();
    problems.extend(
        files
            .iter()
            .filter(|f| FORBIDDEN.iter().any(|p| f.starts_with(p)))
            .map(|f| format!("ships {f}")),
    );
    let manifest = std::fs::read_to_string(unpacked.join("Cargo.toml")).unwrap_or_default();
    if !manifest.contains("[package.metadata.docs.rs]") {
        problems.push("no [package.metadata.docs.rs] in the manifest".into());
    }
    if !problems.is_empty() {
        bail!("the package is wrong: {}", problems.join("; "));
    }
    println!("package: {} files, none forbidden", files.len());
    Ok(())
}
