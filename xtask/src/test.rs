//! `cargo xtask test`: every check CI runs, in order, stopping at the first failure.

use std::time::Instant;

use anyhow::{Result, anyhow};

use crate::cargo::CargoCmd;
use crate::embedded_report::check_firmware;
use crate::qemu::Family;
use crate::{capi, cross, install, msrv};

/// Run every check CI runs, in order, stopping at the first failure
///
/// rustfmt, clippy (default and defmt features; the fuzz and nopanic crates), cargo test,
/// the fuzz smoke (the seed corpus of `fuzz/` replayed), no-default and defmt builds, rustdoc with -D warnings, bench build,
/// the packaged crate unpacked and built, the C API on the host (header drift, the C test,
/// the examples' Makefile and CMake builds), the host's no-panic proof (`nopanic/`), the
/// MSRV build, the determinism test on an AVX2 build (x86_64 hosts; the `test` stage's build
/// is the SSE2 one) and with 8 and 1 lanes, then (left out by `--host`) no_std builds for
/// Cortex-M0/M3/M4F/M33, the C API's libraries for them (linked with a panic handler that
/// cannot link; the C test on the M4F under qemu), the on-device check firmware (and its
/// no-panic proof programs) on each and on the Cortex-M55 (MPS3 AN547, one lane; its library
/// code free of Helium float instructions) under qemu-system-arm and on
/// RISC-V RV32IMAC/RV32IMAFC under qemu-system-riscv32, and the whole test suite for aarch64
/// under qemu-user.
///
/// On a CPU without AVX2/FMA the AVX2 run is skipped with a notice, unless CI=true, where it
/// fails. Missing cross tools are installed (apt-get as root on Debian / Ubuntu, `cargo
/// install defmt-print`); where that cannot be done the stage fails and says what to install.
#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// The quick loop: only the stages that run on the host (leaves out the Cortex-M builds,
    /// the firmware under qemu-system-arm and qemu-system-riscv32, aarch64 under qemu-user).
    #[arg(long = "host")]
    host_only: bool,
    /// Print the stages and exit without running them.
    #[arg(long = "list")]
    list_only: bool,
}

/// One check: named cargo commands, run in order, possibly skipped on this machine.
struct Stage {
    /// Short name used in headers and failure messages.
    name: String,
    cmds: Vec<CargoCmd>,
    /// Why the stage cannot run on this machine, if it cannot; printed as a notice.
    skip: Option<&'static str>,
    /// Whether a skip is a failure under `CI=true` (the stage should run on CI's machine).
    must_run_on_ci: bool,
    /// A hint printed when the stage fails.
    hint: String,
    /// What the stage needs from the machine: found or installed before the command.
    needs: Option<&'static install::Needs>,
    /// Runs after the command succeeded: what the built programs must do.
    then: Option<fn() -> Result<()>>,
}

impl Stage {
    /// A stage that always runs.
    fn new(name: impl Into<String>, cmd: CargoCmd) -> Self {
        Self {
            name: name.into(),
            cmds: vec![cmd],
            skip: None,
            must_run_on_ci: false,
            hint: String::new(),
            needs: None,
            then: None,
        }
    }

    /// Runs `cmd` too, after the others.
    fn and(mut self, cmd: CargoCmd) -> Self {
        self.cmds.push(cmd);
        self
    }

    /// The commands as one shell line.
    fn display(&self) -> String {
        let cmds: Vec<String> = self.cmds.iter().map(CargoCmd::display).collect();
        cmds.join(" && ")
    }

    /// `[i/n] name`: the stage as the headers and messages name it.
    fn label(&self, i: usize, stages: usize) -> String {
        format!("[{}/{stages}] {}", i + 1, self.name)
    }

    /// A cross stage: installs what `needs` lists first, then runs `then` after the command.
    fn cross(mut self, needs: &'static install::Needs, then: Option<fn() -> Result<()>>) -> Self {
        (self.hint, self.needs, self.then) = (needs.hint(), Some(needs), then);
        self
    }
}

/// Entry point of `cargo xtask test`.
pub fn run(args: Args) -> Result<()> {
    let stages = plan(&args);
    if !args.list_only {
        return run_stages(&stages);
    }
    for (i, stage) in stages.iter().enumerate() {
        let skip = stage.skip.map(|r| format!("  [skipped here: {r}]"));
        let (label, cmd) = (stage.label(i, stages.len()), stage.display());
        println!("{label}: {cmd}{}", skip.unwrap_or_default());
    }
    Ok(())
}

/// The stages to run, in order.
fn plan(args: &Args) -> Vec<Stage> {
    let cargo = |name, args: &str| {
        let mut stage = Stage::new(name, CargoCmd::new(args));
        // A `--check` stage says how to fix what it finds.
        if let Some(fix) = args.strip_suffix(" --check") {
            stage.hint = format!("run `cargo {fix}` to fix the formatting");
        }
        stage
    };
    let rustdoc = CargoCmd::new("doc -p focal-loss --no-deps --all-features");
    let mut stages = vec![
        cargo("rustfmt", "fmt --all --check"),
        Stage {
            cmds: ["firmware", "fuzz", "nopanic"]
                .map(|dir| CargoCmd::new(&format!("fmt --manifest-path {dir}/Cargo.toml --check")))
                .into(),
            ..cargo(
                "rustfmt, firmware, fuzz and nopanic",
                "fmt --manifest-path firmware/Cargo.toml --check",
            )
        },
        cargo("clippy", "clippy --workspace --all-targets -- -D warnings"),
        cargo(
            "clippy, defmt feature",
            "clippy -p focal-loss --all-targets --features defmt -- -D warnings",
        ),
        // Their own workspaces, sharing the main target dir (checks only: seconds). nopanic
        // without --all-targets: its test harness would bring std's panic handler.
        Stage {
            cmds: [
                "clippy --manifest-path fuzz/Cargo.toml --all-targets --target-dir target -- -D warnings",
                "clippy --manifest-path nopanic/Cargo.toml --target-dir target -- -D warnings",
            ]
            .map(CargoCmd::new)
            .into(),
            ..cargo(
                "clippy, fuzz and nopanic",
                "clippy --manifest-path fuzz/Cargo.toml",
            )
        },
        cargo("test", "test --workspace"),
        Stage {
            hint: "a seed input fails its checks: `cargo run --release --manifest-path \
                   fuzz/Cargo.toml --example replay -- <target> <file>` shows why"
                .into(),
            ..cargo(
                "fuzz smoke (the seed corpus replayed through every target's checks)",
                crate::fuzz::SMOKE,
            )
        },
        cargo(
            "build, no default features",
            "build -p focal-loss --no-default-features",
        ),
        cargo(
            "build, defmt feature",
            "build -p focal-loss --features defmt",
        ),
        Stage::new("rustdoc", rustdoc.env("RUSTDOCFLAGS", "-D warnings")),
        cargo("bench build", "bench --no-run"),
        Stage {
            hint: "the package must build as crates.io users get it (Cargo.toml's `include`)"
                .into(),
            then: Some(crate::package::check_unpacked),
            ..cargo(
                "package: unpacked, it builds",
                "package -p focal-loss --allow-dirty --no-verify",
            )
        },
        Stage::new(
            "C API on the host (header matches capi/src; C test of the vectors, the digest, \
             every status; the examples' Makefile and CMakeLists.txt)",
            capi::host_build(),
        )
        .cross(&install::CAPI_HOST, Some(capi::check_host)),
        Stage {
            hint: "a panic is reachable from an entry point: docs/reliability.md says how to \
                   find the call sites"
                .into(),
            ..cargo(
                "no panic reachable on the host (every entry point, LTO, a panic handler \
                 that cannot link)",
                "build --release --manifest-path nopanic/Cargo.toml --target-dir target/nopanic",
            )
        },
    ];
    stages.push(Stage {
        cmds: msrv::commands(),
        then: Some(msrv::check_declared),
        hint: "rustup installs the declared rust-version; code newer than it fails here".into(),
        ..Stage::new(
            format!("MSRV: Rust {} builds the library and the C API", msrv::MSRV),
            CargoCmd::new("--version"),
        )
    });
    // The determinism test built for AVX2+FMA (x86_64 hosts only), then with eight lanes and
    // with the one lane microcontrollers use: each compares against the committed digest, so
    // all passing means the same bits. The SSE2 build is the `test` stage's own: x86_64's
    // default target features are SSE and SSE2 only, so a build with AVX, AVX2 and FMA turned
    // off compiled the same code again (5 minutes of CI) for the same run.
    for (build, rustflags, dir) in [
        ("AVX2", "-C target-feature=+avx2,+fma", "avx2"),
        ("8-lane", "--cfg focal_loss_lanes8", "lanes8"),
        ("1-lane", "--cfg focal_loss_lanes1", "lanes1"),
    ] {
        let cmd = CargoCmd::new("test -p focal-loss --test determinism")
            .args(["--target-dir".to_owned(), format!("target/{dir}")])
            .rustflags(rustflags);
        let mut stage = Stage::new(format!("determinism, {build} build"), cmd);
        if dir.starts_with("lanes") {
            stage.hint = "the bits must not depend on the lane width".into();
        } else if !cfg!(target_arch = "x86_64") {
            stage.skip = Some("not an x86_64 host");
        } else if dir == "avx2" && !crate::host::has_avx2_fma() {
            stage.skip = Some("this CPU lacks AVX2/FMA, so the AVX2 build cannot run here");
            stage.must_run_on_ci = true;
        }
        stages.push(stage);
    }
    if !args.host_only {
        let firmware = "Cortex-M firmware (M0, M3, M4F, M33; M55 with its own build) under \
                        qemu-system-arm: reference vectors, same bits as the host, training, \
                        footprint bars, no Helium float instruction in the M55's library code, \
                        no panic reachable (the no_panic_* programs link)";
        let riscv = "RISC-V firmware (RV32IMAC, RV32IMAFC) under qemu-system-riscv32: reference \
                     vectors, same bits as the host, training, footprint bars, no panic \
                     reachable (the no_panic_* programs link)";
        stages.extend([
            Stage::new(
                "Cortex-M0/M3/M4F/M33: no_std release builds",
                cross::cortex_m_build(),
            )
            .cross(&install::CORTEX_M, None),
            Stage::new(
                "C API on Cortex-M0/M3/M4F/M33 (every function links with an unlinkable panic \
                 handler; the C test on the M4F under qemu-system-arm)",
                capi::cortex_m_build(true),
            )
            .cross(&install::CAPI_CORTEX_M, Some(capi::check_cortex_m)),
            Stage::new(firmware, cross::firmware_build())
                .and(cross::m55_firmware_build())
                .cross(&install::FIRMWARE, Some(|| check_firmware(Family::CortexM))),
            Stage::new(riscv, cross::riscv_firmware_build())
                .cross(&install::RISCV, Some(|| check_firmware(Family::RiscV))),
            Stage::new(
                "aarch64 NEON under qemu-user: the host test suite",
                cross::aarch64_test(),
            )
            .cross(&install::AARCH64, None),
        ]);
    }
    stages
}

/// Runs the stages in order, stopping at the first failure; prints each stage's time.
fn run_stages(stages: &[Stage]) -> Result<()> {
    let start = Instant::now();
    // Each stage's time (or `skipped`) and name, for the summary.
    let mut times = Vec::with_capacity(stages.len());
    let mut skipped = 0;
    for (i, stage) in stages.iter().enumerate() {
        let label = stage.label(i, stages.len());
        println!("\n==> {label}: {}", stage.display());
        let fail = |detail: String| {
            let secs = start.elapsed().as_secs_f64();
            println!("\nxtask test: FAILED at stage {label} after {secs:.1}s");
            let hint = Some(&stage.hint).filter(|h| !h.is_empty());
            let hint = hint.map(|h| format!("\n  hint: {h}")).unwrap_or_default();
            anyhow!("stage {label} failed: {detail}{hint}")
        };
        if let Some(reason) = stage.skip {
            if stage.must_run_on_ci && crate::on_ci() {
                return Err(fail(format!("{reason} (CI=true: a skip is a failure)")));
            }
            println!("--> {label}: SKIPPED: {reason}");
            times.push((format!("{:>9}", "skipped"), &stage.name));
            skipped += 1;
            continue;
        }
        let stage_start = Instant::now();
        if let Some(needs) = stage.needs {
            needs.ensure().map_err(|e| fail(format!("{e:#}")))?;
        }
        let then = || stage.then.map_or(Ok(()), |then| then());
        let result = stage
            .cmds
            .iter()
            .try_for_each(CargoCmd::run)
            .and_then(|()| then());
        let secs = stage_start.elapsed().as_secs_f64();
        result.map_err(|e| fail(format!("{e:#} after {secs:.1}s")))?;
        println!("--> {label}: passed in {secs:.1}s");
        times.push((format!("{secs:>8.1}s"), &stage.name));
    }
    println!("\nstage times:");
    for (time, name) in &times {
        println!("  {time}  {name}");
    }
    let passed = times.len() - skipped;
    let skipped = match skipped {
        0 => String::new(),
        n => format!(", {n} skipped"),
    };
    let total = start.elapsed().as_secs_f64();
    println!("xtask test: {passed} stages passed{skipped} in {total:.1}s");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The host stages, exactly as `--list` prints them (without inherited `RUSTFLAGS`).
    const HOST_STAGES: [&str; 18] = [
        "rustfmt: cargo fmt --all --check",
        "rustfmt, firmware, fuzz and nopanic: cargo fmt --manifest-path firmware/Cargo.toml --check && cargo fmt --manifest-path fuzz/Cargo.toml --check && cargo fmt --manifest-path nopanic/Cargo.toml --check",
        "clippy: cargo clippy --workspace --all-targets -- -D warnings",
        "clippy, defmt feature: cargo clippy -p focal-loss --all-targets --features defmt -- -D warnings",
        "clippy, fuzz and nopanic: cargo clippy --manifest-path fuzz/Cargo.toml --all-targets --target-dir target -- -D warnings && cargo clippy --manifest-path nopanic/Cargo.toml --target-dir target -- -D warnings",
        "test: cargo test --workspace",
        "fuzz smoke (the seed corpus replayed through every target's checks): cargo test --manifest-path fuzz/Cargo.toml --test corpus --target-dir target",
        "build, no default features: cargo build -p focal-loss --no-default-features",
        "build, defmt feature: cargo build -p focal-loss --features defmt",
        "rustdoc: RUSTDOCFLAGS=\"-D warnings\" cargo doc -p focal-loss --no-deps --all-features",
        "bench build: cargo bench --no-run",
        "package: unpacked, it builds: cargo package -p focal-loss --allow-dirty --no-verify",
        "C API on the host (header matches capi/src; C test of the vectors, the digest, every status; the examples' Makefile and CMakeLists.txt): cargo build -p focal-loss-c --release",
        "no panic reachable on the host (every entry point, LTO, a panic handler that cannot link): cargo build --release --manifest-path nopanic/Cargo.toml --target-dir target/nopanic",
        "MSRV: Rust 1.89 builds the library and the C API: rustup toolchain install 1.89 --profile minimal && cargo +1.89 build -p focal-loss --all-features --target-dir target/msrv && cargo +1.89 build -p focal-loss --no-default-features --target-dir target/msrv && cargo +1.89 build -p focal-loss-c --target-dir target/msrv",
        "determinism, AVX2 build: RUSTFLAGS=\"-C target-feature=+avx2,+fma\" cargo test -p focal-loss --test determinism --target-dir target/avx2",
        "determinism, 8-lane build: RUSTFLAGS=\"--cfg focal_loss_lanes8\" cargo test -p focal-loss --test determinism --target-dir target/lanes8",
        "determinism, 1-lane build: RUSTFLAGS=\"--cfg focal_loss_lanes1\" cargo test -p focal-loss --test determinism --target-dir target/lanes1",
    ];

    #[test]
    fn plan_order_and_commands() {
        // Inherited RUSTFLAGS go into the commands that set their own; compare names only then.
        let exact = std::env::var_os("RUSTFLAGS").is_none();
        let lines = |args: &Args| -> Vec<String> {
            let stages = plan(args);
            let line = |s: &Stage| match exact {
                true => format!("{}: {}", s.name, s.display()),
                false => s.name.clone(),
            };
            stages.iter().map(line).collect()
        };
        let host_stages = HOST_STAGES.map(|l| match exact {
            true => l.to_owned(),
            false => l.split(": ").next().unwrap_or(l).to_owned(),
        });
        let host_only = Args {
            host_only: true,
            list_only: false,
        };
        assert_eq!(lines(&host_only), host_stages);
        // The cross stages' commands depend on which toolchain this machine has.
        let all = lines(&Args::default());
        assert_eq!(all.len(), host_stages.len() + 5);
        assert_eq!(all[..host_stages.len()], host_stages);
        let cross = [
            "--target thumbv6m-none-eabi",
            "-p focal-loss-c --release --features panic-check",
            "--target-dir target/firmware-m55",
            "--target riscv32imac-unknown-none-elf --target riscv32imafc-unknown-none-elf",
            "--target aarch64-unknown-linux-gnu",
        ];
        for (stage, part) in plan(&Args::default())[host_stages.len()..]
            .iter()
            .zip(cross)
        {
            assert!(stage.display().contains(part), "{}: {part}", stage.name);
        }
    }
}
