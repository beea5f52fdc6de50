//! `cargo xtask fuzz`: every fuzz target of `fuzz/` (cargo-fuzz layout, its own workspace)
//! under libFuzzer for a fixed time each, one at a time, and a table of what they did.
//!
//! The targets are built by `cargo fuzz build` (installed here, pinned, if missing) with
//! `RUSTC_BOOTSTRAP=1` on the stable toolchain (libFuzzer's instrumentation needs nightly
//! flags) and without a sanitizer (the library has no `unsafe` that the targets reach; the
//! checks are assertions). Each run starts from the committed seed corpus
//! `fuzz/corpus/<target>/` (read only) and grows a scratch corpus in
//! `fuzz/target/corpus/<target>/`; a finding is written to `fuzz/artifacts/<target>/`.
//!
//! `cargo xtask test`'s smoke stage replays the seed corpus with plain `cargo test` instead
//! ([`SMOKE`]): no install, no nightly flags, no libFuzzer build.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use xshell::cmd;

use crate::{host, install, markdown, workspace_root};

/// The targets, in the order they run (`fuzz/fuzz_targets/<name>.rs`).
pub const TARGETS: [&str; 3] = ["sigmoid", "softmax", "variants"];

/// The pinned cargo-fuzz.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// The smoke stage's command: the seed corpus through every target's checks.
pub const SMOKE: &str = "test --manifest-path fuzz/Cargo.toml --test corpus --target-dir target";

/// Run every fuzz target under libFuzzer for a while, one after the other, and report
///
/// Builds the targets with `cargo fuzz build` (installing the pinned cargo-fuzz if it is not
/// on PATH), runs each for `--seconds` on one core from the seed corpus in
/// `fuzz/corpus/<target>/`, and prints (and with `--out` writes) a table: seconds run,
/// executions, corpus size, findings. Fails if any target found something (the input is in
/// `fuzz/artifacts/<target>/`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How long each target runs, in seconds.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Write the table to this Markdown file (between its `fuzz` markers).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run only these targets (default: all).
    #[arg(long = "target")]
    targets: Vec<String>,
}

/// What one target's run did.
struct Run {
    target: &'static str,
    seconds: f64,
    executions: u64,
    corpus: usize,
    finding: Option<String>,
}

/// Entry point of `cargo xtask fuzz`.
pub fn run(args: Args) -> Result<()> {
    let targets: Vec<&'static str> = TARGETS
        .into_iter()
        .filter(|t| args.targets.is_empty() || args.targets.iter().any(|a| a == t))
        .collect();
    if targets.is_empty() {
        bail!(
            "no such target: {:?} (the targets: {TARGETS:?})",
            args.targets
        );
    }
    cargo_fuzz()?;
    let sh = crate::shell()?;
    let _bootstrap = sh.push_env("RUSTC_BOOTSTRAP", "1");
    sh.change_dir(workspace_root().join("fuzz"));
    println!("--- cargo fuzz build -s none --features libfuzzer");
    cmd!(sh, "cargo fuzz build -s none --features libfuzzer").run()?;
    let mut runs = Vec::new();
    for target in targets {
        runs.push(fuzz_one(&sh, target, args.seconds)?);
    }
    let report = report(&runs);
    println!("\n{report}");
    if let Some(out) = &args.out {
        markdown::write_out(out, "fuzz", &report)?;
    }
    let found: Vec<_> = runs.iter().filter_map(|r| r.finding.as_deref()).collect();
    if !found.is_empty() {
        bail!("findings: {}", found.join(", "));
    }
    Ok(())
}

/// Installs the pinned cargo-fuzz unless `cargo-fuzz` is on PATH.
fn cargo_fuzz() -> Result<()> {
    if install::which("cargo-fuzz").is_some() {
        return Ok(());
    }
    println!("--- cargo install cargo-fuzz --version {CARGO_FUZZ_VERSION} --locked");
    let sh = crate::shell()?;
    cmd!(
        sh,
        "cargo install cargo-fuzz --version {CARGO_FUZZ_VERSION} --locked"
    )
    .run()
    .context("cannot install cargo-fuzz")
}

/// The built libFuzzer binary of `target`: `fuzz/target/<host triple>/release/<target>`.
fn binary(target: &str) -> Result<PathBuf> {
    let dir = workspace_root().join("fuzz/target");
    std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path().join("release").join(target))
        .find(|p| p.is_file())
        .with_context(|| format!("no fuzz target `{target}` built under {}", dir.display()))
}

/// Runs `target` for `seconds` from the seed corpus into its scratch corpus.
fn fuzz_one(sh: &xshell::Shell, target: &'static str, seconds: u64) -> Result<Run> {
    let fuzz = workspace_root().join("fuzz");
    let scratch = fuzz.join("target/corpus").join(target);
    let seeds = fuzz.join("corpus").join(target);
    let artifacts = fuzz.join("artifacts").join(target);
    for dir in [&scratch, &seeds, &artifacts] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let bin = binary(target)?;
    let prefix = format!("-artifact_prefix={}/", artifacts.display());
    let time = format!("-max_total_time={seconds}");
    println!("\n--- {target}: {seconds} s");
    let start = Instant::now();
    let output = cmd!(
        sh,
        "{bin} {scratch} {seeds} {time} {prefix} -print_final_stats=1"
    )
    .ignore_status()
    .output()?;
    let elapsed = start.elapsed().as_secs_f64();
    let log = String::from_utf8_lossy(&output.stderr);
    let executions = stat(&log, "stat::number_of_executed_units:").unwrap_or(0);
    let finding = (!output.status.success()).then(|| {
        let line = log
            .lines()
            .find(|l| l.contains("panicked at") || l.contains("ERROR:"))
            .unwrap_or("(no panic message)");
        let input = log
            .lines()
            .find_map(|l| l.split("Test unit written to ").nth(1))
            .unwrap_or("(no input written)");
        eprintln!("{log}");
        format!("{target}: {line} — {input}")
    });
    Ok(Run {
        target,
        seconds: elapsed,
        executions,
        corpus: count_files(&scratch),
        finding,
    })
}

/// The number after `key` in libFuzzer's final stats.
fn stat(log: &str, key: &str) -> Option<u64> {
    log.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().parse().ok())
}

/// The files in `dir`.
fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.filter_map(Result::ok).count())
}

/// The table, and the machine it ran on.
fn report(runs: &[Run]) -> String {
    let mut s = format!(
        "Produced by `cargo xtask fuzz` on {} ({} logical CPUs, one target at a time on one \
         core), {}:\n\n",
        host::cpu_model(),
        host::logical_cpus(),
        host::utc_now()
    );
    s.push_str(&markdown::row([
        "target",
        "seconds",
        "executions",
        "corpus",
        "findings",
    ]));
    s.push_str(&markdown::row(["---", "---:", "---:", "---:", "---"]));
    for r in runs {
        let finding = r
            .finding
            .as_deref()
            .map_or("none".to_owned(), |f| f.replace('|', "\\|"));
        s.push_str(&markdown::row([
            r.target.to_owned(),
            format!("{:.0}", r.seconds),
            r.executions.to_string(),
            r.corpus.to_string(),
            finding,
        ]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_stats_are_parsed() {
        let log = "INFO: x\nstat::number_of_executed_units: 123456\nstat::peak_rss_mb: 40\n";
        assert_eq!(stat(log, "stat::number_of_executed_units:"), Some(123_456));
        assert_eq!(stat("nothing", "stat::number_of_executed_units:"), None);
    }

    #[test]
    fn targets_match_the_fuzz_crate() {
        for t in TARGETS {
            let path = workspace_root().join(format!("fuzz/fuzz_targets/{t}.rs"));
            assert!(path.exists(), "{}", path.display());
            assert!(
                workspace_root().join("fuzz/corpus").join(t).is_dir(),
                "corpus of {t}"
            );
        }
    }
}
