//! `cargo xtask test`: every check CI runs, in order, stopping at the first failure.

use std::time::{Duration, Instant};

use crate::cargo::CargoCmd;
use crate::{Error, Result};

/// What `cargo xtask test --help` prints.
const HELP: &str = "\
cargo xtask test: run every check CI runs, in order, stopping at the first failure

USAGE:
    cargo xtask test [--host] [--list]

OPTIONS:
    --host      The quick loop: only the stages that run on the host (leaves out the
                Cortex-M builds, the firmware under qemu-system-arm, aarch64 under qemu-user).
    --list      Print the stages and exit without running them.
    -h, --help  Print this help.

On x86_64 the determinism test also runs on an SSE2-only build and an AVX2+FMA build. On a
CPU without AVX2/FMA the AVX2 run is skipped with a notice, unless CI=true, where it fails.
Missing cross tools are installed (apt-get as root on Debian / Ubuntu, `cargo install
defmt-print`); where that cannot be done the stage fails and says what to install.
";

/// Options of `cargo xtask test`.
#[derive(Debug, Default)]
struct Options {
    /// Host stages only (the quick loop).
    host_only: bool,
    /// Print the plan instead of running it.
    list_only: bool,
    /// Print the help instead of running anything.
    help: bool,
}

/// One check: a named cargo command, possibly skipped on this machine.
#[derive(Debug)]
struct Stage {
    /// Short name used in headers and failure messages.
    name: &'static str,
    /// The command the stage runs.
    cmd: CargoCmd,
    /// Why the stage cannot run here, if it cannot.
    skip: Option<Skip>,
    /// A hint printed when the stage fails.
    hint: Option<&'static str>,
    /// Runs before the command: finds or installs what the stage needs.
    prepare: Option<fn() -> std::result::Result<(), String>>,
    /// Runs after the command succeeded: what the built programs must do.
    then: Option<fn() -> std::result::Result<(), String>>,
}

/// A stage this machine cannot run.
#[derive(Debug)]
struct Skip {
    /// Printed as the notice (or as the failure on CI).
    reason: String,
    /// With `CI=true`, a skip of this stage is a failure.
    fatal_on_ci: bool,
}

impl Stage {
    /// A stage that always runs.
    fn new(name: &'static str, cmd: CargoCmd) -> Self {
        Self {
            name,
            cmd,
            skip: None,
            hint: None,
            prepare: None,
            then: None,
        }
    }

    /// Adds a failure hint.
    fn hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }
}

/// Entry point of `cargo xtask test`.
pub fn run(args: &[String]) -> Result<()> {
    let options = parse_args(args)?;
    if options.help {
        print!("{HELP}");
        return Ok(());
    }
    let stages = plan(&options);
    if options.list_only {
        print_plan(&stages);
        return Ok(());
    }
    run_stages(&stages)
}

/// Parses the options after `test`.
fn parse_args(args: &[String]) -> Result<Options> {
    let mut options = Options::default();
    for arg in args {
        match arg.as_str() {
            "--host" => options.host_only = true,
            "--list" => options.list_only = true,
            "-h" | "--help" => options.help = true,
            other => return Err(Error::Usage(format!("unknown option `{other}` for `test`"))),
        }
    }
    Ok(options)
}

/// The stages to run, in order.
fn plan(options: &Options) -> Vec<Stage> {
    let mut stages = host_stages();
    stages.extend(determinism_stages());
    stages.extend(lane_width_stages());
    if !options.host_only {
        // Cross-target stages; `--host` leaves them out.
        let mut cortex_m = Stage::new(
            "Cortex-M0/M3/M4F/M33: no_std release builds",
            crate::cross::cortex_m_build(),
        );
        cortex_m.prepare = Some(crate::cross::ensure_cortex_m);
        cortex_m.hint = Some(crate::cross::CORTEX_M_HINT);
        stages.push(cortex_m);
        let mut firmware = Stage::new(
            "Cortex-M firmware under qemu-system-arm: reference vectors, same bits as the host, \
             training, footprint bars",
            crate::cross::firmware_build(),
        );
        firmware.prepare = Some(prepare_firmware);
        firmware.then = Some(crate::embedded::run_checks_and_bars);
        firmware.hint = Some(crate::cross::FIRMWARE_HINT);
        stages.push(firmware);
        let aarch64 = crate::cross::aarch64_test();
        let mut stage = Stage::new("aarch64 NEON under qemu-user: the host test suite", aarch64);
        stage.prepare = Some(crate::cross::ensure_aarch64);
        stage.hint = Some(crate::cross::AARCH64_HINT);
        stages.push(stage);
    }
    stages
}

/// What the firmware stage needs: the cross toolchain, qemu, and the defmt decoder.
fn prepare_firmware() -> std::result::Result<(), String> {
    crate::cross::ensure_firmware()?;
    crate::embedded::defmt_print().map(drop)
}

/// The checks on the host's default target: format, lints, tests, builds, docs, benches.
fn host_stages() -> Vec<Stage> {
    vec![
        Stage::new("rustfmt", CargoCmd::new(&["fmt", "--all", "--check"]))
            .hint("run `cargo fmt --all` to fix the formatting"),
        Stage::new(
            "rustfmt, firmware",
            CargoCmd::new(&["fmt", "--manifest-path", "firmware/Cargo.toml", "--check"]),
        )
        .hint("run `cargo fmt --manifest-path firmware/Cargo.toml` to fix the formatting"),
        Stage::new(
            "clippy",
            CargoCmd::new(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
        ),
        Stage::new(
            "clippy, defmt feature",
            CargoCmd::new(&[
                "clippy",
                "-p",
                "focal-loss",
                "--all-targets",
                "--features",
                "defmt",
            ])
            .args(["--", "-D", "warnings"]),
        ),
        Stage::new("test", CargoCmd::new(&["test", "--workspace"])),
        Stage::new(
            "build, no default features",
            CargoCmd::new(&["build", "-p", "focal-loss", "--no-default-features"]),
        ),
        Stage::new(
            "build, defmt feature",
            CargoCmd::new(&["build", "-p", "focal-loss", "--features", "defmt"]),
        ),
        Stage::new(
            "rustdoc",
            CargoCmd::new(&["doc", "-p", "focal-loss", "--no-deps", "--all-features"])
                .env("RUSTDOCFLAGS", "-D warnings"),
        ),
        Stage::new("bench build", CargoCmd::new(&["bench", "--no-run"])),
    ]
}

/// The determinism test built for SSE2 only and for AVX2+FMA (x86_64 hosts only).
///
/// Both compare against the committed digest, so both passing means the same bits.
fn determinism_stages() -> Vec<Stage> {
    let on_x86_64 = cfg!(target_arch = "x86_64");
    let builds = [
        ("determinism, SSE2 build", "-avx,-avx2,-fma", "target/sse2"),
        ("determinism, AVX2 build", "+avx2,+fma", "target/avx2"),
    ];
    builds
        .into_iter()
        .map(|(name, features, target_dir)| {
            let cmd = CargoCmd::new(&["test", "-p", "focal-loss", "--test", "determinism"])
                .args(["--target-dir", target_dir])
                .rustflags(&format!("-C target-feature={features}"));
            let mut stage = Stage::new(name, cmd);
            stage.skip = if !on_x86_64 {
                Some(Skip {
                    reason: "not an x86_64 host".into(),
                    fatal_on_ci: false,
                })
            } else if features.starts_with("+avx2") && !cpu_has_avx2() {
                Some(Skip {
                    reason: "this CPU lacks AVX2/FMA, so the AVX2 build cannot run here".into(),
                    fatal_on_ci: true,
                })
            } else {
                None
            };
            stage
        })
        .collect()
}

/// The determinism test with eight lanes and with the one lane microcontrollers use: the
/// committed digest must not depend on the vector width.
fn lane_width_stages() -> [Stage; 2] {
    [
        ("determinism, 8-lane build", "lanes8"),
        ("determinism, 1-lane build", "lanes1"),
    ]
    .map(|(name, cfg)| {
        let cmd = CargoCmd::new(&["test", "-p", "focal-loss", "--test", "determinism"])
            .args(["--target-dir", &format!("target/{cfg}")])
            .rustflags(&format!("--cfg focal_loss_{cfg}"));
        Stage::new(name, cmd).hint("the bits must not depend on the lane width")
    })
}

/// Whether the host CPU can run AVX2+FMA code (always false off x86_64).
fn cpu_has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::host::has_avx2_fma()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Prints the stages without running them (`--list`).
fn print_plan(stages: &[Stage]) {
    let total = stages.len();
    for (i, stage) in stages.iter().enumerate() {
        let skip = stage
            .skip
            .as_ref()
            .map(|s| format!("  [skipped here: {}]", s.reason))
            .unwrap_or_default();
        println!(
            "[{}/{total}] {}: {}{skip}",
            i + 1,
            stage.name,
            stage.cmd.display()
        );
    }
}

/// How a stage ended.
struct Outcome {
    name: &'static str,
    /// `None` when skipped.
    time: Option<Duration>,
}

/// Runs the stages in order, stopping at the first failure.
fn run_stages(stages: &[Stage]) -> Result<()> {
    let root = crate::workspace_root();
    let on_ci = crate::on_ci();
    let start = Instant::now();
    let total = stages.len();
    let mut outcomes = Vec::with_capacity(total);
    for (i, stage) in stages.iter().enumerate() {
        let label = format!("[{}/{total}] {}", i + 1, stage.name);
        println!("\n==> {label}: {}", stage.cmd.display());
        if let Some(skip) = &stage.skip {
            if on_ci && skip.fatal_on_ci {
                return Err(failure(
                    &label,
                    &skip.reason,
                    "CI=true: a skip is a failure",
                    start,
                ));
            }
            println!("--> {label}: SKIPPED: {}", skip.reason);
            outcomes.push(Outcome {
                name: stage.name,
                time: None,
            });
            continue;
        }
        let stage_start = Instant::now();
        if let Some(prepare) = stage.prepare
            && let Err(err) = prepare()
        {
            return Err(failure(&label, &err, stage.hint.unwrap_or_default(), start));
        }
        let result = stage
            .cmd
            .run(&root)
            .and_then(|()| stage.then.map_or(Ok(()), |then| then()));
        let time = stage_start.elapsed();
        if let Err(err) = result {
            let hint = stage.hint.unwrap_or_default();
            let detail = format!("{err} after {:.1}s", time.as_secs_f64());
            return Err(failure(&label, &detail, hint, start));
        }
        println!("--> {label}: passed in {:.1}s", time.as_secs_f64());
        outcomes.push(Outcome {
            name: stage.name,
            time: Some(time),
        });
    }
    print_summary(&outcomes, start.elapsed());
    Ok(())
}

/// The error for a failed stage; also prints the failure summary line on stdout.
fn failure(label: &str, detail: &str, hint: &str, start: Instant) -> Error {
    println!(
        "\nxtask test: FAILED at stage {label} after {:.1}s",
        start.elapsed().as_secs_f64()
    );
    let hint = if hint.is_empty() {
        String::new()
    } else {
        format!("\n  hint: {hint}")
    };
    Error::Failed(format!("stage {label} failed: {detail}{hint}"))
}

/// Prints each stage's wall time and the final summary line.
fn print_summary(outcomes: &[Outcome], total: Duration) {
    println!("\nstage times:");
    for outcome in outcomes {
        match outcome.time {
            Some(t) => println!("  {:>8.1}s  {}", t.as_secs_f64(), outcome.name),
            None => println!("  {:>9}  {}", "skipped", outcome.name),
        }
    }
    let passed = outcomes.iter().filter(|o| o.time.is_some()).count();
    let skipped = outcomes.len() - passed;
    let skipped = if skipped == 0 {
        String::new()
    } else {
        format!(", {skipped} skipped")
    };
    println!(
        "xtask test: {passed} stages passed{skipped} in {:.1}s",
        total.as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_order_and_commands() {
        let stages = plan(&Options::default());
        let lines: Vec<String> = stages.iter().map(|s| s.cmd.display()).collect();
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
        assert_eq!(stages.len(), 16);
        assert!(lines[13].contains("--target thumbv6m-none-eabi"));
        assert!(lines[14].contains("--manifest-path firmware/Cargo.toml"));
        assert!(lines[15].contains("--target aarch64-unknown-linux-gnu"));
        let host_only = Options {
            host_only: true,
            ..Options::default()
        };
        assert_eq!(plan(&host_only).len(), 13);
        assert!(lines[9].starts_with("RUSTFLAGS="));
        assert!(lines[9].ends_with("--test determinism --target-dir target/sse2"));
        assert!(lines[11].contains("--cfg focal_loss_lanes8"));
        assert!(lines[12].contains("--cfg focal_loss_lanes1"));
    }

    #[test]
    fn args() {
        let parsed = parse_args(&["--host".into(), "--list".into()]).unwrap();
        assert!(parsed.host_only && parsed.list_only);
        assert!(matches!(
            parse_args(&["--bogus".into()]),
            Err(Error::Usage(_))
        ));
    }
}
