//! `cargo xtask test`: every check CI runs, in order, stopping at the first failure.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

use crate::cargo::CargoCmd;
use crate::{cross, embedded_report, install};

/// Run every check CI runs, in order, stopping at the first failure
///
/// rustfmt, clippy (default and defmt features), cargo test, no-default and defmt builds,
/// rustdoc with -D warnings, bench build, the determinism test on SSE2 and AVX2 builds
/// (x86_64 hosts) and with 8 and 1 lanes, then (left out by `--host`) no_std builds for
/// Cortex-M0/M3/M4F/M33, the on-device check firmware on each under qemu-system-arm, and the
/// whole test suite for aarch64 under qemu-user.
///
/// On a CPU without AVX2/FMA the AVX2 run is skipped with a notice, unless CI=true, where it
/// fails. Missing cross tools are installed (apt-get as root on Debian / Ubuntu, `cargo
/// install defmt-print`); where that cannot be done the stage fails and says what to install.
#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// The quick loop: only the stages that run on the host (leaves out the Cortex-M builds,
    /// the firmware under qemu-system-arm, aarch64 under qemu-user).
    #[arg(long = "host")]
    host_only: bool,
    /// Print the stages and exit without running them.
    #[arg(long = "list")]
    list_only: bool,
}

/// A step of a stage besides its command: finds or installs tools, or checks results.
type Step = fn() -> Result<()>;

/// One check: a named cargo command, possibly skipped on this machine.
struct Stage {
    /// Short name used in headers and failure messages.
    name: &'static str,
    /// The command the stage runs.
    cmd: CargoCmd,
    /// Why the stage cannot run here, if it cannot.
    skip: Option<Skip>,
    /// A hint printed when the stage fails.
    hint: String,
    /// Runs before the command: finds or installs what the stage needs.
    prepare: Option<Step>,
    /// Runs after the command succeeded: what the built programs must do.
    then: Option<Step>,
}

/// Why a stage cannot run on this machine; printed as a notice.
enum Skip {
    /// The stage is not for this machine.
    NotHere(&'static str),
    /// The stage should run here: with `CI=true`, the skip is a failure.
    FatalOnCi(&'static str),
}

impl Skip {
    /// Why the stage is skipped.
    fn reason(&self) -> &'static str {
        match self {
            Skip::NotHere(reason) | Skip::FatalOnCi(reason) => reason,
        }
    }
}

impl Stage {
    /// A stage that always runs.
    fn new(name: &'static str, cmd: CargoCmd) -> Self {
        Self {
            name,
            cmd,
            skip: None,
            hint: String::new(),
            prepare: None,
            then: None,
        }
    }

    /// Adds a failure hint.
    fn hint(self, hint: impl Into<String>) -> Self {
        let hint = hint.into();
        Self { hint, ..self }
    }

    /// A cross stage: installs what it needs first, then runs `then` after the command.
    fn cross(self, prepare: Step, then: Option<Step>, hint: String) -> Self {
        Self {
            prepare: Some(prepare),
            then,
            hint,
            ..self
        }
    }
}

/// Entry point of `cargo xtask test`.
pub fn run(args: Args) -> Result<()> {
    let stages = plan(&args);
    if args.list_only {
        for (i, stage) in stages.iter().enumerate() {
            let skip = stage.skip.as_ref().map(Skip::reason);
            let skip = skip
                .map(|r| format!("  [skipped here: {r}]"))
                .unwrap_or_default();
            let (n, name, cmd) = (i + 1, stage.name, stage.cmd.display());
            println!("[{n}/{}] {name}: {cmd}{skip}", stages.len());
        }
        return Ok(());
    }
    run_stages(&stages)
}

/// The stages to run, in order.
fn plan(args: &Args) -> Vec<Stage> {
    let cargo = |name, args| Stage::new(name, CargoCmd::new(args));
    let mut stages = vec![
        cargo("rustfmt", "fmt --all --check").hint("run `cargo fmt --all` to fix the formatting"),
        cargo(
            "rustfmt, firmware",
            "fmt --manifest-path firmware/Cargo.toml --check",
        )
        .hint("run `cargo fmt --manifest-path firmware/Cargo.toml` to fix the formatting"),
        cargo("clippy", "clippy --workspace --all-targets -- -D warnings"),
        cargo(
            "clippy, defmt feature",
            "clippy -p focal-loss --all-targets --features defmt -- -D warnings",
        ),
        cargo("test", "test --workspace"),
        cargo(
            "build, no default features",
            "build -p focal-loss --no-default-features",
        ),
        cargo(
            "build, defmt feature",
            "build -p focal-loss --features defmt",
        ),
        Stage::new(
            "rustdoc",
            CargoCmd::new("doc -p focal-loss --no-deps --all-features")
                .env("RUSTDOCFLAGS", "-D warnings"),
        ),
        cargo("bench build", "bench --no-run"),
    ];
    // The determinism test built for SSE2 only and for AVX2+FMA (x86_64 hosts only), then
    // with eight lanes and with the one lane microcontrollers use: each compares against the
    // committed digest, so all passing means the same bits.
    let x86_64 = cfg!(target_arch = "x86_64");
    for (name, rustflags, dir) in [
        (
            "determinism, SSE2 build",
            "-C target-feature=-avx,-avx2,-fma",
            "sse2",
        ),
        (
            "determinism, AVX2 build",
            "-C target-feature=+avx2,+fma",
            "avx2",
        ),
        (
            "determinism, 8-lane build",
            "--cfg focal_loss_lanes8",
            "lanes8",
        ),
        (
            "determinism, 1-lane build",
            "--cfg focal_loss_lanes1",
            "lanes1",
        ),
    ] {
        let cmd = CargoCmd::new("test -p focal-loss --test determinism")
            .args(["--target-dir", &format!("target/{dir}")])
            .rustflags(rustflags);
        let mut stage = Stage::new(name, cmd);
        if dir.starts_with("lanes") {
            stage.hint = "the bits must not depend on the lane width".into();
        } else if !x86_64 {
            stage.skip = Some(Skip::NotHere("not an x86_64 host"));
        } else if dir == "avx2" && !crate::host::has_avx2_fma() {
            let reason = "this CPU lacks AVX2/FMA, so the AVX2 build cannot run here";
            stage.skip = Some(Skip::FatalOnCi(reason));
        }
        stages.push(stage);
    }
    if !args.host_only {
        stages.extend([
            Stage::new(
                "Cortex-M0/M3/M4F/M33: no_std release builds",
                cross::cortex_m_build(),
            )
            .cross(
                || install::CORTEX_M.ensure(),
                None,
                install::CORTEX_M.hint(),
            ),
            Stage::new(
                "Cortex-M firmware under qemu-system-arm: reference vectors, same bits as the \
                 host, training, footprint bars",
                cross::firmware_build(),
            )
            .cross(
                install::ensure_firmware,
                Some(embedded_report::check_firmware),
                install::FIRMWARE.hint(),
            ),
            Stage::new(
                "aarch64 NEON under qemu-user: the host test suite",
                cross::aarch64_test(),
            )
            .cross(|| install::AARCH64.ensure(), None, install::AARCH64.hint()),
        ]);
    }
    stages
}

/// Runs the stages in order, stopping at the first failure; prints each stage's time.
fn run_stages(stages: &[Stage]) -> Result<()> {
    let on_ci = crate::on_ci();
    let start = Instant::now();
    let mut times: Vec<(&str, Option<Duration>)> = Vec::with_capacity(stages.len());
    for (i, stage) in stages.iter().enumerate() {
        let label = format!("[{}/{}] {}", i + 1, stages.len(), stage.name);
        println!("\n==> {label}: {}", stage.cmd.display());
        let fail = |detail: String| {
            let secs = start.elapsed().as_secs_f64();
            println!("\nxtask test: FAILED at stage {label} after {secs:.1}s");
            let hint = if stage.hint.is_empty() {
                String::new()
            } else {
                format!("\n  hint: {}", stage.hint)
            };
            anyhow!("stage {label} failed: {detail}{hint}")
        };
        if let Some(skip) = &stage.skip {
            let reason = skip.reason();
            if on_ci && matches!(skip, Skip::FatalOnCi(_)) {
                return Err(fail(format!("{reason} (CI=true: a skip is a failure)")));
            }
            println!("--> {label}: SKIPPED: {reason}");
            times.push((stage.name, None));
            continue;
        }
        let stage_start = Instant::now();
        if let Some(prepare) = stage.prepare {
            prepare().map_err(|e| fail(format!("{e:#}")))?;
        }
        let result = stage
            .cmd
            .run()
            .and_then(|()| stage.then.map_or(Ok(()), |then| then()));
        let time = stage_start.elapsed();
        result.map_err(|e| fail(format!("{e:#} after {:.1}s", time.as_secs_f64())))?;
        println!("--> {label}: passed in {:.1}s", time.as_secs_f64());
        times.push((stage.name, Some(time)));
    }
    println!("\nstage times:");
    for (name, time) in &times {
        match time {
            Some(t) => println!("  {:>8.1}s  {name}", t.as_secs_f64()),
            None => println!("  {:>9}  {name}", "skipped"),
        }
    }
    let passed = times.iter().filter(|(_, t)| t.is_some()).count();
    let skipped = match times.len() - passed {
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

    #[test]
    fn plan_order_and_commands() {
        let stages = plan(&Args::default());
        let lines: Vec<String> = stages.iter().map(|s| s.cmd.display()).collect();
        assert_eq!(stages.len(), 16);
        assert_eq!(lines[0], "cargo fmt --all --check");
        assert!(lines[1].ends_with("--manifest-path firmware/Cargo.toml --check"));
        assert_eq!(
            lines[3],
            "cargo clippy -p focal-loss --all-targets --features defmt -- -D warnings"
        );
        assert_eq!(
            lines[7],
            "RUSTDOCFLAGS=\"-D warnings\" cargo doc -p focal-loss --no-deps --all-features"
        );
        assert_eq!(lines[8], "cargo bench --no-run");
        assert!(lines[9].starts_with("RUSTFLAGS="));
        assert!(lines[9].ends_with("--test determinism --target-dir target/sse2"));
        assert!(lines[11].contains("--cfg focal_loss_lanes8"));
        assert!(lines[12].contains("--cfg focal_loss_lanes1"));
        assert!(lines[13].contains("--target thumbv6m-none-eabi"));
        assert!(lines[14].contains("--manifest-path firmware/Cargo.toml"));
        assert!(lines[15].contains("--target aarch64-unknown-linux-gnu"));
        let host_only = Args {
            host_only: true,
            ..Args::default()
        };
        assert_eq!(plan(&host_only).len(), 13);
    }
}
