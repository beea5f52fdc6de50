//! `cargo xtask bench-report`: the `sigmoid` and `softmax` criterion benches on a baseline
//! build, an AVX2 build (x86-64) and a `target-cpu=native` build, as Markdown tables of
//! ns/element.
//!
//! Criterion (0.8) leaves, per benchmark, `<criterion home>/<group>/<function>/<parameter>/
//! new/benchmark.json` (ids and the `Elements` throughput) and `new/estimates.json` (the
//! median and mean `point_estimate`, ns per iteration); `base/` beside `new/` holds the
//! previous run. The report divides the median by the throughput. Criterion picks its
//! directory from `CRITERION_HOME`, else `CARGO_TARGET_DIR`, else `cargo metadata`, which
//! ignores a `--target-dir` flag, so each run sets `CRITERION_HOME` explicitly.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use crate::cargo::CargoCmd;
use crate::{host, markdown};

/// The criterion benches the report runs.
const BENCHES: [&str; 2] = ["sigmoid", "softmax"];
/// The implementation the ratio columns divide by.
const REFERENCE_FUNCTION: &str = "simd";
/// Function columns come in this order; others follow alphabetically.
const FUNCTION_ORDER: [&str; 3] = ["simd", "libm", "naive"];

/// Benchmark the focal losses and print Markdown tables
///
/// Runs `cargo bench --bench sigmoid --bench softmax -- --noplot` on a baseline build (target
/// dir `target`), on x86-64 an AVX2 + FMA build (`target/avx2`), and with
/// RUSTFLAGS="-C target-cpu=native" (`target/native`), then prints, per build and per criterion
/// group, the median ns/element of each implementation and the ratios to `simd`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run and report one build only (avx2: x86-64 hosts only).
    #[arg(long, value_enum)]
    only: Option<Build>,
    /// Do not run the bench; report the results already on disk.
    #[arg(long)]
    report_only: bool,
    /// Also write the Markdown report to FILE (between its `<!-- bench-report: begin -->` and
    /// `<!-- bench-report: end -->` lines when it has them, as in docs/benchmarks.md).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Baseline target dir (default: $CARGO_TARGET_DIR or `target`); the others use DIR/avx2
    /// and DIR/native.
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
    /// Arguments for criterion, e.g. `-- --quick`, or `-- loss_and_grad/` to filter.
    #[arg(last = true, value_name = "CRITERION ARGS")]
    criterion_args: Vec<String>,
}

/// One of the builds the report compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Build {
    /// Default codegen for the target (x86-64: SSE2 only).
    Baseline,
    /// x86-64 with AVX2 and FMA enabled and nothing newer (`-C target-feature=+avx2,+fma`).
    Avx2,
    /// `-C target-cpu=native`.
    Native,
}

impl Build {
    /// Heading of the build's section.
    fn title(self) -> &'static str {
        match self {
            Build::Baseline if cfg!(target_arch = "x86_64") => "Baseline x86-64",
            Build::Baseline => "Baseline (default target CPU)",
            Build::Avx2 => "x86-64 + AVX2 + FMA (target-feature=+avx2,+fma)",
            Build::Native => "target-cpu=native",
        }
    }

    /// The build's cargo target dir, given the baseline one.
    fn target_dir(self, base: &Path) -> PathBuf {
        match self {
            Build::Baseline => base.to_path_buf(),
            Build::Avx2 => base.join("avx2"),
            Build::Native => base.join("native"),
        }
    }

    /// `cargo bench` for this build, writing criterion's results to `target_dir/criterion`.
    fn command(self, target_dir: &Path, criterion_args: &[String]) -> CargoCmd {
        // Relative to the workspace root when inside it: cargo runs from the root and runs
        // the bench binary in its package root, which is the same directory.
        let root = crate::workspace_root();
        let dir = target_dir.strip_prefix(&root).unwrap_or(target_dir);
        let criterion_home = dir.join("criterion").display().to_string();
        let cmd = CargoCmd::new("bench")
            .args(BENCHES.iter().flat_map(|b| ["--bench", b]))
            .args(["--target-dir".to_owned(), dir.display().to_string()])
            .args(["--", "--noplot"])
            .args(criterion_args.iter().cloned())
            .env("CRITERION_HOME", criterion_home);
        match self {
            Build::Baseline => cmd,
            Build::Avx2 => cmd.rustflags("-C target-feature=+avx2,+fma"),
            Build::Native => cmd.rustflags("-C target-cpu=native"),
        }
    }
}

/// One benchmark's result.
#[derive(Debug, Clone, PartialEq)]
struct Measurement {
    group: String,
    function: String,
    /// The parameter (N), as criterion prints it.
    parameter: String,
    /// Elements processed per iteration.
    elements: u64,
    /// Median time per iteration, ns.
    median_ns: f64,
}

impl Measurement {
    /// Median time per element, ns.
    fn ns_per_element(&self) -> f64 {
        self.median_ns / self.elements as f64
    }

    /// Sort key: group, function, then parameter.
    fn key(&self) -> (&str, &str, (u8, u64, &str)) {
        (&self.group, &self.function, parameter_key(&self.parameter))
    }
}

/// Entry point of `cargo xtask bench-report`.
pub fn run(args: Args) -> Result<()> {
    let env_dir = || std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from);
    let base_dir = args
        .target_dir
        .clone()
        .or_else(env_dir)
        .unwrap_or("target".into());
    let base_dir = crate::workspace_root().join(base_dir);
    let builds: Vec<Build> = [Build::Baseline, Build::Avx2, Build::Native]
        .into_iter()
        .filter(|b| args.only.is_none_or(|only| only == *b))
        .filter(|b| *b != Build::Avx2 || cfg!(target_arch = "x86_64"))
        .collect();
    let mut sections = Vec::new();
    for (i, build) in builds.iter().enumerate() {
        let label = format!("[{}/{}] {}", i + 1, builds.len(), build.title());
        sections.push(run_build(*build, &base_dir, &args, &label)?);
    }
    let report = render_report(&sections);
    println!("\n{report}");
    if let Some(path) = &args.out {
        markdown::write_out(path, "bench-report", &report)?;
    }
    Ok(())
}

/// Runs the bench for `build` (unless `--report-only`) and renders its section of the report.
fn run_build(build: Build, base_dir: &Path, args: &Args, label: &str) -> Result<String> {
    let target_dir = build.target_dir(base_dir);
    let cmd = build.command(&target_dir, &args.criterion_args);
    let fresh_since = if args.report_only {
        None
    } else {
        println!("\n==> {label}: {}", cmd.display());
        // Margin for file systems with coarse timestamps.
        let start = SystemTime::now() - Duration::from_secs(1);
        cmd.run()
            .with_context(|| format!("bench run {label} failed"))?;
        Some(start)
    };
    let criterion_dir = target_dir.join("criterion");
    let results = collect(&criterion_dir, fresh_since)?;
    let (which, dir) = (
        if fresh_since.is_some() { "new " } else { "" },
        criterion_dir.display(),
    );
    ensure!(
        !results.is_empty(),
        "no {which}criterion results under {dir} for {label}"
    );
    let source = if args.report_only {
        format!("results already in `{dir}` (not re-run)")
    } else {
        format!("`{}`", cmd.display())
    };
    let mut out = format!("\n### {}\n\nFrom {source}.\n", build.title());
    for group in unique(results.iter().map(|m| m.group.as_str())) {
        let rows: Vec<&Measurement> = results.iter().filter(|m| m.group == group).collect();
        let _ = write!(out, "\n#### `{group}`\n\n{}", render_group(&rows));
    }
    Ok(out)
}

/// Reads every `<...>/new/benchmark.json` under `dir` (those modified at or after `since`,
/// when given), sorted by group, function and parameter.
fn collect(dir: &Path, since: Option<SystemTime>) -> Result<Vec<Measurement>> {
    let mut results = Vec::new();
    let entries = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok);
    for entry in entries {
        let benchmark = entry.path().join("benchmark.json");
        if !entry.file_type().is_dir() || entry.file_name() != "new" || !benchmark.is_file() {
            continue;
        }
        let fresh = since.is_none_or(|since| {
            let modified = std::fs::metadata(&benchmark).and_then(|m| m.modified());
            modified.is_ok_and(|t| t >= since)
        });
        if fresh && let Some(m) = read_measurement(entry.path())? {
            results.push(m);
        }
    }
    results.sort_by(|a, b| a.key().cmp(&b.key()));
    Ok(results)
}

/// Reads one benchmark's `benchmark.json` and `estimates.json`.
///
/// Returns `None` (with a warning) for a benchmark without an element-count throughput.
fn read_measurement(new_dir: &Path) -> Result<Option<Measurement>> {
    let [benchmark, estimates] = ["benchmark.json", "estimates.json"].map(|name| {
        let path = new_dir.join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str::<Value>(&text)
            .with_context(|| format!("cannot parse {}", path.display()))
    });
    let measurement = measurement(&benchmark?, &estimates?);
    if let Ok(None) = measurement {
        eprintln!(
            "warning: skipping {}: no `Elements` throughput, so no per-element time",
            new_dir.display()
        );
    }
    measurement.with_context(|| new_dir.display().to_string())
}

/// The measurement criterion's two files describe: the throughput is `{"Elements":N}` or
/// `{"ElementsAndBytes":{"elements":N,...}}`, the time the median (else mean) estimate.
fn measurement(benchmark: &Value, estimates: &Value) -> Result<Option<Measurement>> {
    let elements = [
        "/throughput/Elements",
        "/throughput/ElementsAndBytes/elements",
    ]
    .iter()
    .find_map(|p| benchmark.pointer(p)?.as_u64())
    .filter(|n| *n >= 1);
    let Some(elements) = elements else {
        return Ok(None);
    };
    let median_ns = ["/median/point_estimate", "/mean/point_estimate"]
        .iter()
        .find_map(|p| estimates.pointer(p)?.as_f64())
        .context("no median/mean point_estimate")?;
    let text = |key: &str| benchmark[key].as_str().map(str::to_owned);
    Ok(Some(Measurement {
        group: text("group_id").unwrap_or_default(),
        function: text("function_id").unwrap_or_else(|| "-".into()),
        parameter: text("value_str").unwrap_or_else(|| elements.to_string()),
        elements,
        median_ns,
    }))
}

/// Sort key for parameters: numbers numerically, then other strings.
fn parameter_key(parameter: &str) -> (u8, u64, &str) {
    match parameter.parse::<u64>() {
        Ok(n) => (0, n, parameter),
        Err(_) => (1, 0, parameter),
    }
}

/// The whole Markdown report: machine facts, then one section per build.
fn render_report(sections: &[String]) -> String {
    let cpu = host::cpu_model().unwrap_or_else(|| "unknown CPU".into());
    let mut out = format!("## Benchmark report: `{}`\n\n", BENCHES.join("`, `"));
    let _ = writeln!(out, "- CPU: {cpu} ({} logical CPUs)", host::logical_cpus());
    let _ = writeln!(out, "- rustc: {}", host::rustc_version());
    let _ = writeln!(out, "- Date: {}", host::utc_now());
    let _ = writeln!(
        out,
        "- Figures: criterion's median time per iteration / N, in ns per element (lower is \
         better). `x/{REFERENCE_FUNCTION}` is x's time over {REFERENCE_FUNCTION}'s (above 1: \
         {REFERENCE_FUNCTION} is faster)."
    );
    out.extend(sections.iter().map(String::as_str));
    out
}

/// One group's table: a row per parameter, a column per function, then the ratio columns.
fn render_group(rows: &[&Measurement]) -> String {
    let mut functions = unique(rows.iter().map(|m| m.function.as_str()));
    functions.sort_by_key(|f| {
        let rank = FUNCTION_ORDER.iter().position(|k| k == f);
        (rank.unwrap_or(FUNCTION_ORDER.len()), *f)
    });
    let has_reference = functions.contains(&REFERENCE_FUNCTION);
    let ratios = functions
        .iter()
        .filter(|f| has_reference && **f != REFERENCE_FUNCTION);
    let ratios: Vec<&str> = ratios.copied().collect();
    let mut parameters = unique(rows.iter().map(|m| m.parameter.as_str()));
    parameters.sort_by_key(|p| parameter_key(p));

    // Sigmoid groups are parameterised by the element count, softmax groups by the classes.
    let key = if rows.iter().any(|m| m.group.starts_with("softmax")) {
        "C"
    } else {
        "N"
    };
    let mut header = vec![key.to_owned()];
    header.extend(functions.iter().map(|f| (*f).to_owned()));
    header.extend(ratios.iter().map(|f| format!("{f}/{REFERENCE_FUNCTION}")));
    let mut out = markdown::row(&header);
    out.push_str(&markdown::row(&vec!["--:".to_owned(); header.len()]));

    for parameter in parameters {
        let time = |function: &str| {
            rows.iter()
                .find(|m| m.parameter == parameter && m.function == function)
                .map(|m| m.ns_per_element())
        };
        let mut cells = vec![parameter.to_owned()];
        cells.extend(
            functions
                .iter()
                .map(|f| time(f).map_or("–".into(), format_ns)),
        );
        cells.extend(
            ratios
                .iter()
                .map(|f| match (time(f), time(REFERENCE_FUNCTION)) {
                    (Some(t), Some(reference)) if reference > 0.0 => {
                        format!("{:.2}×", t / reference)
                    }
                    _ => "–".into(),
                }),
        );
        out.push_str(&markdown::row(&cells));
    }
    out
}

/// The distinct items, in first-seen order.
fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    items.filter(|item| seen.insert(*item)).collect()
}

/// ns/element with three or four significant digits.
fn format_ns(ns: f64) -> String {
    match ns {
        x if x >= 100.0 => format!("{x:.0}"),
        x if x >= 10.0 => format!("{x:.1}"),
        x if x >= 1.0 => format!("{x:.2}"),
        x => format!("{x:.3}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(group: &str, function: &str, n: u64, median_ns: f64) -> Measurement {
        Measurement {
            group: group.into(),
            function: function.into(),
            parameter: n.to_string(),
            elements: n,
            median_ns,
        }
    }

    #[test]
    fn group_table() {
        let data = [
            m("loss", "naive", 64, 640.0),
            m("loss", "simd", 4096, 4096.0),
            m("loss", "libm", 64, 320.0),
            m("loss", "simd", 64, 64.0),
            m("loss", "naive", 4096, 40960.0),
        ];
        let rows: Vec<&Measurement> = data.iter().collect();
        let expected = "\
| N | simd | libm | naive | libm/simd | naive/simd |
| --: | --: | --: | --: | --: | --: |
| 64 | 1.00 | 5.00 | 10.0 | 5.00× | 10.00× |
| 4096 | 1.00 | – | 10.0 | – | 10.00× |
";
        assert_eq!(render_group(&rows), expected);
    }

    #[test]
    fn reads_criterion_json() {
        use serde_json::json;
        let estimates =
            json!({"mean": {"point_estimate": 2048.0}, "median": {"point_estimate": 1024.0}});
        let benchmark = json!({"group_id": "loss", "function_id": "simd", "value_str": "4096",
            "throughput": {"Elements": 4096}, "full_id": "loss/simd/4096"});
        let simd = measurement(&benchmark, &estimates).unwrap().unwrap();
        assert_eq!(simd, m("loss", "simd", 4096, 1024.0));
        assert_eq!(simd.ns_per_element(), 0.25);
        let both = json!({"group_id": "loss", "function_id": "libm", "value_str": null,
            "throughput": {"ElementsAndBytes": {"elements": 64, "bytes": 256}}});
        let mean_only = json!({"mean": {"point_estimate": 2048.0}});
        let libm = measurement(&both, &mean_only).unwrap().unwrap();
        assert_eq!(libm, m("loss", "libm", 64, 2048.0));
        let bytes = json!({"group_id": "loss", "throughput": {"Bytes": 64}});
        assert_eq!(measurement(&bytes, &estimates).unwrap(), None);
        assert!(measurement(&benchmark, &json!({})).is_err());
    }

    #[test]
    fn collects_fresh_results() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-report-{}", std::process::id()));
        let new_dir = dir.join("loss/simd/4096/new");
        std::fs::create_dir_all(&new_dir).unwrap();
        std::fs::create_dir_all(dir.join("loss/simd/4096/base")).unwrap();
        let benchmark = r#"{"group_id":"loss","function_id":"simd","value_str":"4096","throughput":{"Elements":4096}}"#;
        std::fs::write(new_dir.join("benchmark.json"), benchmark).unwrap();
        let estimates = r#"{"mean":{"point_estimate":2048.0},"median":{"point_estimate":1024.0}}"#;
        std::fs::write(new_dir.join("estimates.json"), estimates).unwrap();
        let all = collect(&dir, None).unwrap();
        let fresh = collect(&dir, Some(SystemTime::now() + Duration::from_secs(3600))).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(all, [m("loss", "simd", 4096, 1024.0)]);
        assert!(fresh.is_empty());
    }

    #[test]
    fn parameters_sort_numerically() {
        let mut ps = vec!["65536", "256", "big", "4096"];
        ps.sort_by_key(|p| parameter_key(p));
        assert_eq!(ps, ["256", "4096", "65536", "big"]);
    }
}
