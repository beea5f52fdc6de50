//! The `focal-loss` workspace's task runner: `cargo xtask <command>`.
//!
//! Every command runs its tools from `PATH` in the workspace root and passes the environment
//! through unchanged, apart from the variables a stage sets explicitly (and prints). What a
//! fresh machine lacks for the cross stages, [`install`] installs.

mod bench_report;
mod capi;
mod cargo;
mod cross;
mod elf;
mod embedded_report;
mod fuzz;
mod host;
mod install;
mod markdown;
mod msrv;
mod package;
mod qemu;
mod roofline;
mod test;
mod train_device;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

/// The focal-loss workspace's task runner
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
#[command(arg_required_else_help = true)]
enum Cli {
    Test(test::Args),
    BenchReport(bench_report::Args),
    Capi(capi::Args),
    EmbeddedReport(embedded_report::Args),
    Fuzz(fuzz::Args),
    Roofline(roofline::Args),
    TrainOnDevice(train_device::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse() {
        Cli::Test(args) => test::run(args),
        Cli::BenchReport(args) => bench_report::run(args),
        Cli::Capi(args) => capi::run(args),
        Cli::EmbeddedReport(args) => embedded_report::run(args),
        Cli::Fuzz(args) => fuzz::run(args),
        Cli::Roofline(args) => roofline::run(args),
        Cli::TrainOnDevice(args) => train_device::run(args),
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
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
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
    use clap::{CommandFactory, Parser};

    /// The parsed command line, as `Debug` text, or `None` if clap rejects it.
    fn parse(line: &str) -> Option<String> {
        let args = std::iter::once("cargo xtask").chain(line.split_whitespace());
        super::Cli::try_parse_from(args)
            .ok()
            .map(|cli| format!("{cli:?}"))
    }

    #[test]
    fn command_lines() {
        super::Cli::command().debug_assert();
        let test = parse("test --host --list").unwrap();
        assert_eq!(test, "Test(Args { host_only: true, list_only: true })");
        let bench = parse("bench-report --only=native --out r.md -- --quick loss/").unwrap();
        assert!(bench.contains("only: Some(Native)") && bench.contains("out: Some(\"r.md\")"));
        assert!(bench.contains("criterion_args: [\"--quick\", \"loss/\"]"));
        assert!(parse("embedded-report --no-build --out x.md").is_some());
        assert!(parse("train-on-device --no-build").is_some());
        let fuzz = parse("fuzz --seconds 5 --out r.md --target softmax").unwrap();
        assert!(fuzz.contains("seconds: 5") && fuzz.contains("targets: [\"softmax\"]"));
        assert!(parse("fuzz").unwrap().contains("seconds: 60"));
        assert!(
            parse("capi --header").is_some() && parse("capi --no-build --print-only").is_some()
        );
        let roofline = parse("roofline --max-n 4096 --only native --out r.md --svg p.svg").unwrap();
        assert!(roofline.contains("max_n: 4096") && roofline.contains("only: Some(Native)"));
        assert!(
            roofline.contains("out: Some(\"r.md\")") && roofline.contains("svg: Some(\"p.svg\")")
        );
        assert!(parse("roofline").unwrap().contains("max_n: 33554432"));
        let wrong = [
            "",
            "test --bogus",
            "bench-report --only",
            "bench-report --quick",
            "roofline --max-n",
            "roofline --max-n many",
            "roofline --only avx2",
            "fuzz --seconds soon",
        ];
        for line in wrong {
            assert_eq!(parse(line), None, "`{line}` must not parse");
        }
    }
}
