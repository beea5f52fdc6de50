//! The `focal-loss` workspace's task runner: `cargo xtask <command>`.
//!
//! Std-only on purpose, so that it builds on a fresh clone with nothing but the toolchain.
//! Every command runs `cargo` from `PATH` in the workspace root and passes the environment
//! through unchanged, apart from the variables a stage sets explicitly (and prints).

mod bench_report;
mod cargo;
mod cross;
mod embedded;
mod host;
mod json;
mod test;
mod train_device;

use std::path::PathBuf;
use std::process::ExitCode;

/// What `cargo xtask --help` prints.
const HELP: &str = "\
cargo xtask: the focal-loss workspace's task runner

USAGE:
    cargo xtask <COMMAND> [OPTIONS]

COMMANDS:
    test            Run every check CI runs, in order, stopping at the first failure:
                    rustfmt, clippy (default and defmt features), cargo test, no-default and
                    defmt builds, rustdoc with -D warnings, bench build, the determinism
                    test on SSE2 and AVX2 builds (x86_64 hosts) and with 8 and 1 lanes,
                    then (skipped by `--host`) no_std builds for Cortex-M0/M3/M4F/M33, the
                    on-device check firmware on each under qemu-system-arm, and the whole
                    test suite for aarch64 under qemu-user.
    bench-report    Run the criterion benches (baseline, AVX2 and target-cpu=native builds)
                    and print Markdown tables of ns/element.
    embedded-report Build the firmware for every Cortex-M target and measure, under qemu,
                    instructions per element, flash per kernel and form, peak stack, heap.
    train-on-device Train the example's device configuration on the Cortex-M boards under
                    qemu and check every loss bit and the weights against the host's run.
    help            Print this help (also `-h`, `--help`).

Run `cargo xtask <COMMAND> --help` for the command's options.
";

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Error {
    /// The command line was wrong: print the message and exit with status 2.
    Usage(String),
    /// The task ran and failed: print the message and exit with status 1.
    Failed(String),
}

/// The result type of every command.
pub type Result<T> = std::result::Result<T, Error>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Usage(msg)) => {
            eprintln!("error: {msg}\n\nRun `cargo xtask --help` for usage.");
            ExitCode::from(2)
        }
        Err(Error::Failed(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the subcommand named by the first argument.
fn dispatch(args: &[String]) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        print!("{HELP}");
        return Err(Error::Usage("no command given".into()));
    };
    match command.as_str() {
        "test" => test::run(rest),
        "bench-report" => bench_report::run(rest),
        "embedded-report" => embedded::run(rest),
        "train-on-device" => train_device::run(rest),
        "help" | "-h" | "--help" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(Error::Usage(format!("unknown command `{other}`"))),
    }
}

/// The workspace root: the parent of this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.clone(), PathBuf::from)
}

/// Whether this run is on CI (`CI=true`, as CI services set it).
pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}
