//! `cargo xtask bench-report`: run the `sigmoid` and `softmax` criterion benches on a baseline build, an AVX2
//! build (x86-64) and a `target-cpu=native` build, then print Markdown tables of ns/element.
//!
//! Criterion (0.8) leaves one directory per benchmark under `<criterion home>`:
//!
//! ```text
//! <target-dir>/criterion/<group>/<function>/<parameter>/new/benchmark.json
//!     {"group_id":"loss","function_id":"simd","value_str":"4096",
//!      "throughput":{"Elements":4096},"full_id":"loss/simd/4096",...}
//! <target-dir>/criterion/<group>/<function>/<parameter>/new/estimates.json
//!     {"mean":{...,"point_estimate":NS,...},"median":{...,"point_estimate":NS,...},...}
//! ```
//!
//! (`base/` beside `new/` holds the previous run.) Times are ns per iteration; the report
//! divides the median by the `Elements` throughput. Criterion picks its directory from
//! `CRITERION_HOME`, else `CARGO_TARGET_DIR`, else `cargo metadata`, which ignores a
//! `--target-dir` flag, so each run sets `CRITERION_HOME` explicitly.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::cargo::CargoCmd;
use crate::json::{self, Value};
use crate::{Error, Result, host};

/// The criterion bench the report runs.
/// The criterion benches the report runs.
const BENCHES: [&str; 2] = ["sigmoid", "softmax"];

/// The implementation the ratio columns divide by.
const REFERENCE_FUNCTION: &str = "simd";

/// Function columns come in this order; others follow alphabetically.
const FUNCTION_ORDER: [&str; 3] = ["simd", "libm", "naive"];

/// What `cargo xtask bench-report --help` prints.
const HELP: &str = "\
cargo xtask bench-report: benchmark the sigmoid focal loss and print Markdown tables

USAGE:
    cargo xtask bench-report [OPTIONS] [-- <CRITERION ARGS>...]

Runs `cargo bench --bench sigmoid --bench softmax -- --noplot` on a baseline build (target dir `target`), on
x86-64 an AVX2 + FMA build (`target/avx2`), and with RUSTFLAGS=\"-C target-cpu=native\"
(`target/native`), then prints, per build and per criterion group, the median ns/element of
each implementation and the ratios to `simd`.

OPTIONS:
    --only <baseline|avx2|native>
                              Run and report one build only (avx2: x86-64 hosts only).
    --report-only             Do not run the bench; report the results already on disk.
    --out <FILE>              Also write the Markdown report to FILE.
    --target-dir <DIR>        Baseline target dir (default: $CARGO_TARGET_DIR or `target`);
                              the others use DIR/avx2 and DIR/native.
    -h, --help                Print this help.

Arguments after `--` go to criterion, e.g. `cargo xtask bench-report -- --quick` or
`-- loss_and_grad/` to filter.
";

/// Options of `cargo xtask bench-report`.
#[derive(Debug, Default)]
struct Options {
    only: Option<Build>,
    report_only: bool,
    out: Option<PathBuf>,
    target_dir: Option<PathBuf>,
    criterion_args: Vec<String>,
    help: bool,
}

/// One of the two builds the report compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    /// Default codegen for the target (x86-64: SSE2 only).
    Baseline,
    /// x86-64 with AVX2 and FMA enabled and nothing newer (`-C target-feature=+avx2,+fma`).
    Avx2,
    /// `-C target-cpu=native`.
    Native,
}

impl Build {
    /// Every build, in report order (`Avx2` only on x86-64).
    const ALL: [Build; 3] = [Build::Baseline, Build::Avx2, Build::Native];

    /// Parses the `--only` value.
    fn parse(name: &str) -> Option<Self> {
        match name {
            "baseline" => Some(Build::Baseline),
            "avx2" => Some(Build::Avx2),
            "native" => Some(Build::Native),
            _ => None,
        }
    }

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
        let benches = BENCHES
            .iter()
            .flat_map(|b| ["--bench".to_owned(), (*b).to_owned()]);
        let cmd = CargoCmd::new(&["bench"])
            .args(benches)
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
}

/// One build's section of the report.
struct Section {
    build: Build,
    /// Where the figures come from: the command run, or the directory read.
    source: String,
    results: Vec<Measurement>,
}

/// Entry point of `cargo xtask bench-report`.
pub fn run(args: &[String]) -> Result<()> {
    let options = parse_args(args)?;
    if options.help {
        print!("{HELP}");
        return Ok(());
    }
    let base_dir = base_target_dir(options.target_dir.as_deref());
    let builds: Vec<Build> = Build::ALL
        .into_iter()
        .filter(|b| options.only.is_none_or(|only| only == *b))
        .filter(|b| *b != Build::Avx2 || cfg!(target_arch = "x86_64"))
        .collect();
    let mut sections = Vec::new();
    for (i, build) in builds.iter().enumerate() {
        let label = format!("[{}/{}] {}", i + 1, builds.len(), build.title());
        sections.push(run_build(*build, &base_dir, &options, &label)?);
    }
    let report = render_report(&sections);
    println!("\n{report}");
    if let Some(path) = &options.out {
        std::fs::write(path, &report)
            .map_err(|e| Error::Failed(format!("cannot write {}: {e}", path.display())))?;
        eprintln!("report written to {}", path.display());
    }
    Ok(())
}

/// Parses the options after `bench-report`; everything after `--` goes to criterion.
fn parse_args(args: &[String]) -> Result<Options> {
    let mut options = Options::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .ok_or_else(|| Error::Usage(format!("`{name}` needs a value")))
        };
        match name {
            "--" => {
                options.criterion_args = iter.by_ref().cloned().collect();
            }
            "--only" => {
                let v = value()?;
                let build = Build::parse(&v).ok_or_else(|| {
                    Error::Usage(format!(
                        "`--only` takes `baseline`, `avx2` or `native`, not `{v}`"
                    ))
                })?;
                options.only = Some(build);
            }
            "--out" => options.out = Some(value()?.into()),
            "--target-dir" => options.target_dir = Some(value()?.into()),
            "--report-only" => options.report_only = true,
            "-h" | "--help" => options.help = true,
            other => {
                return Err(Error::Usage(format!(
                    "unknown option `{other}` for `bench-report` (criterion's go after `--`)"
                )));
            }
        }
    }
    Ok(options)
}

/// The baseline target dir: `--target-dir`, else `$CARGO_TARGET_DIR`, else `<root>/target`,
/// made absolute against the workspace root.
fn base_target_dir(flag: Option<&Path>) -> PathBuf {
    let root = crate::workspace_root();
    let dir = flag
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"));
    root.join(dir)
}

/// Runs the bench for `build` (unless `--report-only`) and reads its results.
fn run_build(build: Build, base_dir: &Path, options: &Options, label: &str) -> Result<Section> {
    let target_dir = build.target_dir(base_dir);
    let cmd = build.command(&target_dir, &options.criterion_args);
    let fresh_since = if options.report_only {
        None
    } else {
        println!("\n==> {label}: {}", cmd.display());
        // Margin for file systems with coarse timestamps.
        let start = SystemTime::now() - Duration::from_secs(1);
        cmd.run(&crate::workspace_root())
            .map_err(|e| Error::Failed(format!("bench run {label} failed: {e}")))?;
        Some(start)
    };
    let criterion_dir = target_dir.join("criterion");
    let results = collect(&criterion_dir, fresh_since).map_err(Error::Failed)?;
    if results.is_empty() {
        let which = if fresh_since.is_some() { "new " } else { "" };
        return Err(Error::Failed(format!(
            "no {which}criterion results under {} for {label}",
            criterion_dir.display()
        )));
    }
    let source = if options.report_only {
        format!(
            "results already in `{}` (not re-run)",
            criterion_dir.display()
        )
    } else {
        format!("`{}`", cmd.display())
    };
    Ok(Section {
        build,
        source,
        results,
    })
}

/// Reads every `<...>/new/benchmark.json` under `dir` (those modified at or after `since`,
/// when given), sorted by group, function and parameter.
fn collect(dir: &Path, since: Option<SystemTime>) -> std::result::Result<Vec<Measurement>, String> {
    let mut new_dirs = Vec::new();
    find_new_dirs(dir, &mut new_dirs);
    let mut results = Vec::new();
    for new_dir in new_dirs {
        let benchmark = new_dir.join("benchmark.json");
        let fresh = since.is_none_or(|since| {
            std::fs::metadata(&benchmark)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since)
        });
        if fresh && let Some(m) = read_measurement(&new_dir)? {
            results.push(m);
        }
    }
    results.sort_by(|a, b| {
        (&a.group, &a.function, parameter_key(&a.parameter)).cmp(&(
            &b.group,
            &b.function,
            parameter_key(&b.parameter),
        ))
    });
    Ok(results)
}

/// Collects the `new` directories holding a `benchmark.json` under `dir`, recursively.
fn find_new_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        if entry.file_name() == "new" && path.join("benchmark.json").is_file() {
            out.push(path);
        } else {
            find_new_dirs(&path, out);
        }
    }
}

/// Reads one benchmark's `benchmark.json` and `estimates.json`.
///
/// Returns `None` (with a warning) for a benchmark without an element-count throughput.
fn read_measurement(new_dir: &Path) -> std::result::Result<Option<Measurement>, String> {
    let benchmark = read_json(&new_dir.join("benchmark.json"))?;
    let estimates = read_json(&new_dir.join("estimates.json"))?;
    let text = |key: &str| {
        benchmark
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let group = text("group_id").unwrap_or_default();
    let function = text("function_id").unwrap_or_else(|| "-".into());
    let Some(elements) = element_count(&benchmark) else {
        eprintln!(
            "warning: skipping {}: no `Elements` throughput, so no per-element time",
            new_dir.display()
        );
        return Ok(None);
    };
    let parameter = text("value_str").unwrap_or_else(|| elements.to_string());
    let median_ns = ["median", "mean"]
        .iter()
        .find_map(|stat| {
            estimates
                .at(&[stat, "point_estimate"])
                .and_then(Value::as_f64)
        })
        .ok_or_else(|| format!("{}: no median/mean point_estimate", new_dir.display()))?;
    Ok(Some(Measurement {
        group,
        function,
        parameter,
        elements,
        median_ns,
    }))
}

/// Parses a JSON file, naming it in errors.
fn read_json(path: &Path) -> std::result::Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    json::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Elements per iteration from `throughput`: `{"Elements":N}` or
/// `{"ElementsAndBytes":{"elements":N,...}}`.
fn element_count(benchmark: &Value) -> Option<u64> {
    let throughput = benchmark.get("throughput")?;
    let count = throughput
        .get("Elements")
        .or_else(|| throughput.at(&["ElementsAndBytes", "elements"]))?
        .as_f64()?;
    // Counts are integers well below 2^53.
    (count >= 1.0).then_some(count as u64)
}

/// Sort key for parameters: numbers numerically, then other strings.
fn parameter_key(parameter: &str) -> (u8, u64, &str) {
    match parameter.parse::<u64>() {
        Ok(n) => (0, n, parameter),
        Err(_) => (1, 0, parameter),
    }
}

/// The whole Markdown report: machine facts, then one section per build.
fn render_report(sections: &[Section]) -> String {
    let mut out = String::new();
    let cpu = host::cpu_model().unwrap_or_else(|| "unknown CPU".into());
    let _ = writeln!(out, "## Benchmark report: `{}`\n", BENCHES.join("`, `"));
    let _ = writeln!(out, "- CPU: {cpu} ({} logical CPUs)", host::logical_cpus());
    let _ = writeln!(out, "- rustc: {}", host::rustc_version());
    let _ = writeln!(out, "- Date: {}", host::utc_now());
    let _ = writeln!(
        out,
        "- Figures: criterion's median time per iteration / N, in ns per element (lower is \
         better). `x/{REFERENCE_FUNCTION}` is x's time over {REFERENCE_FUNCTION}'s (above 1: \
         {REFERENCE_FUNCTION} is faster)."
    );
    for section in sections {
        let _ = writeln!(out, "\n### {}\n", section.build.title());
        let _ = writeln!(out, "From {}.", section.source);
        for group in unique(section.results.iter().map(|m| m.group.as_str())) {
            let rows: Vec<&Measurement> = section
                .results
                .iter()
                .filter(|m| m.group == group)
                .collect();
            let _ = writeln!(out, "\n#### `{group}`\n");
            out.push_str(&render_group(&rows));
        }
    }
    out
}

/// One group's table: a row per parameter, a column per function, then the ratio columns.
fn render_group(rows: &[&Measurement]) -> String {
    let functions = ordered_functions(rows);
    let ratios: Vec<&str> = if functions.contains(&REFERENCE_FUNCTION) {
        functions
            .iter()
            .copied()
            .filter(|f| *f != REFERENCE_FUNCTION)
            .collect()
    } else {
        Vec::new()
    };
    let mut parameters: Vec<&str> = unique(rows.iter().map(|m| m.parameter.as_str()));
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
    let mut out = table_row(&header);
    out.push_str(&table_row(&vec!["--:".to_owned(); header.len()]));

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
        out.push_str(&table_row(&cells));
    }
    out
}

/// The group's function ids: the known ones first in [`FUNCTION_ORDER`], then the rest.
fn ordered_functions<'a>(rows: &[&'a Measurement]) -> Vec<&'a str> {
    let mut functions = unique(rows.iter().map(|m| m.function.as_str()));
    functions.sort_by_key(|f| {
        let rank = FUNCTION_ORDER.iter().position(|k| k == f);
        (rank.unwrap_or(FUNCTION_ORDER.len()), *f)
    });
    functions
}

/// The distinct items, in first-seen order.
fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    items.filter(|item| seen.insert(*item)).collect()
}

/// A Markdown table row.
fn table_row(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
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
        let table = render_group(&rows);
        let expected = "\
| N | simd | libm | naive | libm/simd | naive/simd |
| --: | --: | --: | --: | --: | --: |
| 64 | 1.00 | 5.00 | 10.0 | 5.00× | 10.00× |
| 4096 | 1.00 | – | 10.0 | – | 10.00× |
";
        assert_eq!(table, expected);
    }

    #[test]
    fn reads_criterion_files() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-report-{}", std::process::id()));
        let new_dir = dir.join("loss/simd/4096/new");
        std::fs::create_dir_all(&new_dir).unwrap();
        std::fs::create_dir_all(dir.join("loss/simd/4096/base")).unwrap();
        std::fs::write(
            new_dir.join("benchmark.json"),
            r#"{"group_id":"loss","function_id":"simd","value_str":"4096","throughput":{"Elements":4096},"full_id":"loss/simd/4096","directory_name":"loss/simd/4096","title":"loss/simd/4096"}"#,
        )
        .unwrap();
        std::fs::write(
            new_dir.join("estimates.json"),
            r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2048.0,"standard_error":0.5},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":1024.0,"standard_error":0.5}}"#,
        )
        .unwrap();
        let all = collect(&dir, None).unwrap();
        let future = SystemTime::now() + Duration::from_secs(3600);
        let fresh = collect(&dir, Some(future)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(all, vec![m("loss", "simd", 4096, 1024.0)]);
        assert_eq!(all[0].ns_per_element(), 0.25);
        assert!(fresh.is_empty());
    }

    #[test]
    fn args() {
        let args: Vec<String> = ["--only=native", "--out", "r.md", "--", "--quick", "loss/"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let o = parse_args(&args).unwrap();
        assert_eq!(o.only, Some(Build::Native));
        assert_eq!(o.out.as_deref(), Some(Path::new("r.md")));
        assert_eq!(o.criterion_args, ["--quick", "loss/"]);
        assert!(matches!(
            parse_args(&["--only".into()]),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            parse_args(&["--quick".into()]),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn parameters_sort_numerically() {
        let mut ps = vec!["65536", "256", "big", "4096"];
        ps.sort_by_key(|p| parameter_key(p));
        assert_eq!(ps, ["256", "4096", "65536", "big"]);
    }
}
