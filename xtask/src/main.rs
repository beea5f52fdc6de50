//! The `focal-loss` workspace's task runner: `cargo xtask <command>`.
//!
//! Every command runs its tools from `PATH` in the workspace root and passes the environment
//! through unchanged, apart from the variables a stage sets explicitly (and prints). What a
//! fresh machine lacks for the cross stages, [`install`] installs.

mod bench_report;
mod cargo;
mod cross;
mod elf;
mod embedded_report;
mod host;
mod install;
mod markdown;
mod qemu;
mod test;
mod train_device;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The focal-loss workspace's task runner
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
enum Command {
    Test(test::Args),
    BenchReport(bench_report::Args),
    EmbeddedReport(embedded_report::Args),
    TrainOnDevice(train_device::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Test(args) => test::run(args),
        Command::BenchReport(args) => bench_report::run(args),
        Command::EmbeddedReport(args) => embedded_report::run(args),
        Command::TrainOnDevice(args) => train_device::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.clone(), PathBuf::from)
}

/// A shell whose commands run in the workspace root.
pub fn shell() -> anyhow::Result<xshell::Shell> {
    let sh = xshell::Shell::new()?;
    sh.change_dir(workspace_root());
    Ok(sh)
}

/// Whether this run is on CI (`CI=true`, as CI services set it).
pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &str) -> Result<Command, clap::Error> {
        let args = std::iter::once("cargo xtask").chain(args.split_whitespace());
        Cli::try_parse_from(args).map(|cli| cli.command)
    }

    #[test]
    fn command_lines() {
        Cli::command().debug_assert();
        let Ok(Command::Test(args)) = parse("test --host --list") else {
            panic!("test --host --list")
        };
        assert!(args.host_only && args.list_only);
        let Ok(Command::BenchReport(args)) =
            parse("bench-report --only=native --out r.md -- --quick loss/")
        else {
            panic!("bench-report")
        };
        let debug = format!("{args:?}");
        assert!(
            debug.contains("Native")
                && debug.contains("\"r.md\"")
                && debug.contains("[\"--quick\", \"loss/\"]")
        );
        assert!(matches!(
            parse("embedded-report --no-build --out x.md"),
            Ok(Command::EmbeddedReport(_))
        ));
        assert!(matches!(
            parse("train-on-device --no-build"),
            Ok(Command::TrainOnDevice(_))
        ));
        for wrong in [
            "test --bogus",
            "bench-report --only",
            "bench-report --only=fast",
            "bench-report --quick",
            "",
        ] {
            assert!(parse(wrong).is_err(), "`{wrong}` must not parse");
        }
    }
}
