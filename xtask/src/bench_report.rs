//! `cargo xtask bench-report` (see [`Args`]): criterion's results as Markdown tables.
//!
//! Criterion (0.8) leaves, per benchmark, `<criterion home>/<group>/<function>/<parameter>/
//! new/benchmark.json` (ids and the `Elements` throughput) and `new/estimates.json` (the
//! median and mean `point_estimate`, ns per iteration); `base/` beside `new/` holds the
//! previous run. The report divides the median by the throughput. Criterion picks its
//! directory from `CRITERION_HOME`, else `CARGO_TARGET_DIR`, else `cargo metadata`, which
//! ignores a `--target-dir` flag, so each run sets `CRITERION_HOME` explicitly.

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
/// Runs `cargo bench --bench sigmoid --bench softmax -- --noplot` on the default build (target
/// dir `target`; on x86-64 three times: dispatched to the widest level the CPU has, and capped
/// at SSE2 and at AVX2 with FOCAL_LOSS_DISPATCH) and with RUSTFLAGS="-C target-cpu=native"
/// (`target/native`), then prints, per build and per criterion group, the median ns/element of
/// each implementation and the ratios to `simd`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run and report one build only (sse2, avx2: x86-64 hosts only).
    #[arg(long, value_enum)]
    only: Option<Build>,
    /// Do not run the bench; report the results already on disk.
    #[arg(long)]
    report_only: bool,
    /// Also write the Markdown report to FILE (between its `<!-- bench-report: begin -->` and
    /// `<!-- bench-report: end -->` lines when it has them, as in docs/benchmarks.md).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Target dir of the default build (default: $CARGO_TARGET_DIR or `target`); the native
    /// build uses DIR/native, and the capped runs keep their results in DIR/sse2 and DIR/avx2.
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
    /// Arguments for criterion, e.g. `-- --quick`, or `-- loss_and_grad/` to filter.
    #[arg(last = true, value_name = "CRITERION ARGS")]
    criterion_args: Vec<String>,
}

/// One of the builds the report compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Build {
    /// The default build (no RUSTFLAGS), as `cargo add` users get it: on x86-64 it
    /// dispatches at run time to the widest lanes the CPU has.
    Default,
    /// The default build capped at its compile-time lanes (`FOCAL_LOSS_DISPATCH=baseline`:
    /// SSE2 on x86-64), what a CPU without AVX2 gets (x86-64 hosts only).
    Sse2,
    /// The default build capped at AVX2 (`FOCAL_LOSS_DISPATCH=avx2`), what an AVX2 CPU
    /// without AVX-512 gets (x86-64 hosts only).
    Avx2,
    /// `-C target-cpu=native`.
    Native,
}

impl Build {
    /// Heading of the build's section.
    fn title(self) -> &'static str {
        match self {
            Build::Default if cfg!(target_arch = "x86_64") => {
                "Default build, runtime dispatch (the widest level this CPU has)"
            }
            Build::Default => "Default build",
            Build::Sse2 => "Default build capped at SSE2 (FOCAL_LOSS_DISPATCH=baseline)",
            Build::Avx2 => "Default build capped at AVX2 (FOCAL_LOSS_DISPATCH=avx2)",
            Build::Native => "target-cpu=native",
        }
    }

    /// The build's directory under the baseline target dir (for its criterion results), the
    /// RUSTFLAGS it adds (then it is built in that directory too), and its dispatch cap.
    fn spec(self) -> [Option<&'static str>; 3] {
        match self {
            Build::Default => [None, None, None],
            Build::Sse2 => [Some("sse2"), None, Some("baseline")],
            Build::Avx2 => [Some("avx2"), None, Some("avx2")],
            Build::Native => [Some("native"), Some("-C target-cpu=native"), None],
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
    /// Median time per element (the median per iteration over the elements per iteration).
    ns_per_element: f64,
}

/// Entry point of `cargo xtask bench-report`.
pub fn run(args: Args) -> Result<()> {
    let env_dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from);
    let base_dir = args.target_dir.clone().or(env_dir);
    let base_dir = crate::workspace_root().join(base_dir.unwrap_or("target".into()));
    let builds: Vec<Build> = [Build::Default, Build::Sse2, Build::Avx2, Build::Native]
        .into_iter()
        .filter(|b| args.only.is_none_or(|only| only == *b))
        .filter(|b| matches!(b, Build::Default | Build::Native) || cfg!(target_arch = "x86_64"))
        .collect();
    let mut sections = String::new();
    let mut simd = Vec::new();
    for (i, build) in builds.iter().enumerate() {
        let label = format!("[{}/{}] {}", i + 1, builds.len(), build.title());
        let (section, results) = run_build(*build, &base_dir, &args, &label)?;
        sections += &section;
        let own = results
            .into_iter()
            .filter(|m| m.function == REFERENCE_FUNCTION);
        simd.extend(own.map(|m| (*build, m)));
    }
    let report = render_header() + &render_builds(&builds, &simd) + &sections;
    println!("\n{report}");
    if let Some(path) = &args.out {
        markdown::write_out(path, "bench-report", &report)?;
    }
    Ok(())
}

/// Runs the bench for `build` (unless `--report-only`) and renders its section of the report.
///
/// The bench writes criterion's results to its target dir's `criterion/`.
fn run_build(
    build: Build,
    base_dir: &Path,
    args: &Args,
    label: &str,
) -> Result<(String, Vec<Measurement>)> {
    let [subdir, rustflags, dispatch] = build.spec();
    let results_dir = subdir.map_or(base_dir.to_path_buf(), |dir| base_dir.join(dir));
    let target_dir = rustflags.map_or(base_dir, |_| &results_dir);
    let criterion_dir = results_dir.join("criterion");
    // Relative to the workspace root when inside it: cargo runs from the root and runs
    // the bench binary in its package root, which is the same directory.
    let root = crate::workspace_root();
    let relative = |dir: &Path| dir.strip_prefix(&root).unwrap_or(dir).display().to_string();
    let criterion_home = relative(&criterion_dir);
    let mut cmd = CargoCmd::new("bench")
        .args(BENCHES.iter().flat_map(|b| ["--bench", b]))
        .args(["--target-dir".to_owned(), relative(target_dir)])
        .args(["--", "--noplot"])
        .args(args.criterion_args.iter().cloned())
        .env("CRITERION_HOME", criterion_home);
    if let Some(rustflags) = rustflags {
        cmd = cmd.rustflags(rustflags);
    }
    if let Some(level) = dispatch {
        cmd = cmd.env("FOCAL_LOSS_DISPATCH", level);
    }
    let (fresh_since, source) = if args.report_only {
        let dir = criterion_dir.display();
        (None, format!("results already in `{dir}` (not re-run)"))
    } else {
        println!("\n==> {label}: {}", cmd.display());
        // Margin for file systems with coarse timestamps.
        let start = SystemTime::now() - Duration::from_secs(1);
        cmd.run()
            .with_context(|| format!("bench run {label} failed"))?;
        (Some(start), format!("`{}`", cmd.display()))
    };
    let results = collect(&criterion_dir, fresh_since)?;
    let which = if fresh_since.is_some() { "new " } else { "" };
    ensure!(
        !results.is_empty(),
        "no {which}criterion results under {} for {label}",
        criterion_dir.display()
    );
    let mut out = format!("\n### {}\n\nFrom {source}.\n", build.title());
    for rows in results.chunk_by(|a, b| a.group == b.group) {
        let _ = write!(out, "\n#### `{}`\n\n{}", rows[0].group, render_group(rows));
    }
    Ok((out, results))
}

/// Reads every `<...>/new/benchmark.json` under `dir` (those modified at or after `since`,
/// when given), sorted by group (so that each group's results are adjacent).
fn collect(dir: &Path, since: Option<SystemTime>) -> Result<Vec<Measurement>> {
    let mut results = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        let benchmark = entry.path().join("benchmark.json");
        if !entry.file_type().is_dir() || entry.file_name() != "new" || !benchmark.is_file() {
            continue;
        }
        let modified = || std::fs::metadata(&benchmark).and_then(|m| m.modified());
        let fresh = since.is_none_or(|since| modified().is_ok_and(|t| t >= since));
        if fresh && let Some(m) = read_measurement(entry.path())? {
            results.push(m);
        }
    }
    results.sort_by(|a, b| a.group.cmp(&b.group));
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
    let throughput = [
        "/throughput/Elements",
        "/throughput/ElementsAndBytes/elements",
    ];
    let elements = throughput
        .iter()
        .find_map(|p| benchmark.pointer(p)?.as_u64());
    let Some(elements) = elements.filter(|n| *n >= 1) else {
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
        ns_per_element: median_ns / elements as f64,
    }))
}

/// `simd`'s ns/element in every build side by side, and each build's speed as a fraction of
/// the native build's (native time / build time; 100 % is native speed).
fn render_builds(builds: &[Build], simd: &[(Build, Measurement)]) -> String {
    if builds.len() < 2 {
        return String::new();
    }
    let native = builds.contains(&Build::Native);
    let fractions: Vec<Build> = builds
        .iter()
        .copied()
        .filter(|b| native && *b != Build::Native)
        .collect();
    let header = ["group".to_owned(), "N".to_owned()].into_iter();
    let header = header.chain(builds.iter().map(|b| format!("{b:?}")));
    let header = header.chain(fractions.iter().map(|b| format!("{b:?} / native")));
    let mut out = "\n### `simd` in every build\n\n".to_owned() + &markdown::row(header);
    out += &format!(
        "|---|---|{}\n",
        "---:|".repeat(builds.len() + fractions.len())
    );
    let mut keys: Vec<(&str, &str)> = simd
        .iter()
        .map(|(_, m)| (m.group.as_str(), m.parameter.as_str()))
        .collect();
    keys.sort_by_key(|(g, p)| (*g, p.parse::<u64>().unwrap_or(u64::MAX), *p));
    keys.dedup();
    for (group, parameter) in keys {
        let ns = |build: Build| {
            simd.iter()
                .find(|(b, m)| *b == build && m.group == group && m.parameter == parameter)
                .map(|(_, m)| m.ns_per_element)
        };
        let times = builds
            .iter()
            .map(|b| ns(*b).map_or("–".into(), |v| format!("{v:.3}")));
        let fraction = |b: &Build| match (ns(*b), ns(Build::Native)) {
            (Some(t), Some(native)) => format!("{:.0} %", 100.0 * native / t),
            _ => "–".into(),
        };
        let cells = [format!("`{group}`"), parameter.to_owned()].into_iter();
        out += &markdown::row(cells.chain(times).chain(fractions.iter().map(fraction)));
    }
    out
}

/// The report's heading and machine facts; the builds' sections follow.
fn render_header() -> String {
    let cpu = host::cpu_model();
    let rustc = host::version("rustc", "-V");
    let rustc = rustc.unwrap_or_else(|| "unknown (`rustc -V` failed)".to_owned());
    let mut out = format!("## Benchmark report: `{}`\n\n", BENCHES.join("`, `"));
    let _ = writeln!(out, "- CPU: {cpu} ({} logical CPUs)", host::logical_cpus());
    let _ = writeln!(out, "- rustc: {rustc}");
    let _ = writeln!(out, "- Date: {}", host::utc_now());
    let _ = writeln!(
        out,
        "- Figures: criterion's median time per iteration / N, in ns per element (lower is \
         better). `x/{REFERENCE_FUNCTION}` is x's time over {REFERENCE_FUNCTION}'s (above 1: \
         {REFERENCE_FUNCTION} is faster)."
    );
    out
}

/// One group's table: a row per parameter, a column per function, then the ratio columns.
fn render_group(rows: &[Measurement]) -> String {
    let mut functions: Vec<&str> = rows.iter().map(|m| m.function.as_str()).collect();
    functions.sort_by_key(|f| {
        let rank = FUNCTION_ORDER.iter().position(|k| k == f);
        (rank.unwrap_or(FUNCTION_ORDER.len()), *f)
    });
    functions.dedup();
    let has_reference = functions.contains(&REFERENCE_FUNCTION);
    let ratios = functions
        .iter()
        .filter(|f| has_reference && **f != REFERENCE_FUNCTION);
    let ratios: Vec<&str> = ratios.copied().collect();
    // Numbers numerically, then other strings.
    let mut parameters: Vec<&str> = rows.iter().map(|m| m.parameter.as_str()).collect();
    parameters.sort_by_key(|p| (p.parse::<u64>().map_err(drop), *p));
    parameters.dedup();

    // Sigmoid groups are parameterised by the element count, softmax groups by the classes.
    let softmax = rows.iter().any(|m| m.group.starts_with("softmax"));
    let header = std::iter::once(if softmax { "C" } else { "N" }.to_owned())
        .chain(functions.iter().map(|f| (*f).to_owned()))
        .chain(ratios.iter().map(|f| format!("{f}/{REFERENCE_FUNCTION}")));
    let header: Vec<String> = header.collect();
    let mut out = markdown::row(&header);
    out += &markdown::row(vec!["--:"; header.len()]);
    for parameter in parameters {
        let time = |function: &str| {
            let mut all = rows.iter();
            let m = all.find(|m| m.parameter == parameter && m.function == function);
            m.map(|m| m.ns_per_element)
        };
        let ratio = |f| match (time(f), time(REFERENCE_FUNCTION)) {
            (Some(t), Some(reference)) if reference > 0.0 => format!("{:.2}×", t / reference),
            _ => "–".into(),
        };
        let cells = std::iter::once(parameter.to_owned())
            .chain(
                functions
                    .iter()
                    .map(|f| time(f).map_or("–".into(), markdown::format_ns)),
            )
            .chain(ratios.iter().map(|f| ratio(f)));
        out += &markdown::row(cells);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(function: &str, n: u64, ns_per_element: f64) -> Measurement {
        let (group, function, parameter) = ("loss".into(), function.into(), n.to_string());
        Measurement {
            group,
            function,
            parameter,
            ns_per_element,
        }
    }

    #[test]
    fn group_table() {
        let data = [
            m("naive", 64, 10.0),
            m("simd", 4096, 1.0),
            m("libm", 64, 5.0),
            m("simd", 64, 1.0),
            m("naive", 4096, 10.0),
        ];
        let expected = "\
| N | simd | libm | naive | libm/simd | naive/simd |
| --: | --: | --: | --: | --: | --: |
| 64 | 1.00 | 5.00 | 10.0 | 5.00× | 10.00× |
| 4096 | 1.00 | – | 10.0 | – | 10.00× |
";
        assert_eq!(render_group(&data), expected);
    }

    #[test]
    fn reads_criterion_json() {
        let estimates =
            json!({"mean": {"point_estimate": 2048.0}, "median": {"point_estimate": 1024.0}});
        let benchmark = json!({"group_id": "loss", "function_id": "simd", "value_str": "4096",
            "throughput": {"Elements": 4096}, "full_id": "loss/simd/4096"});
        let simd = measurement(&benchmark, &estimates).unwrap();
        assert_eq!(simd, Some(m("simd", 4096, 0.25)));
        let both = json!({"group_id": "loss", "function_id": "libm", "value_str": null,
            "throughput": {"ElementsAndBytes": {"elements": 64, "bytes": 256}}});
        let mean_only = json!({"mean": {"point_estimate": 2048.0}});
        let libm = measurement(&both, &mean_only).unwrap();
        assert_eq!(libm, Some(m("libm", 64, 32.0)));
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
        assert_eq!(all, [m("simd", 4096, 0.25)]);
        assert!(fresh.is_empty());
    }
}
