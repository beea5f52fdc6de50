//! `cargo xtask roofline` (see [`Args`]): sigmoid `loss_and_grad` against the memory floor.
//!
//! The measurement is `examples/roofline.rs`, which links the library; this module builds and
//! runs it in each build, parses the lines it prints (`compiled-for FEATURES`, then
//! `KERNEL N MIN MEDIAN SAMPLES CALLS`, `#` lines being comments), and renders them as
//! Markdown tables and an SVG plot.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::cargo::CargoCmd;
use crate::{host, markdown};

/// Bytes one element moves: a 4-byte logit and a 1-byte label read, a 4-byte gradient written.
const BYTES_PER_ELEMENT: u64 = 9;
/// The kernels the example times, in the order of the table's columns.
const KERNELS: [&str; 3] = ["floor", "simd", "libm"];

/// Sigmoid `loss_and_grad` against the memory floor, N from 256 to 32 M
///
/// Builds and runs `examples/roofline.rs` (`cargo run --release --example roofline`) in the
/// default build (no RUSTFLAGS, target dir `target`) and with RUSTFLAGS="-C target-cpu=native"
/// (`target/native`). For N = 256, 1024, … (powers of 4) up to 16 M, then 32 M, it prints the
/// ns per element of three kernels on the same buffers: the floor (a loop that streams the same
/// bytes with trivial arithmetic), `Kernel::Simd` as the library dispatches it, and
/// `Kernel::Libm`, with the fraction of the floor Simd reaches. RetinaNet's γ 2, α 0.25,
/// `Reduction::Mean`, `u8` 0 / 1 labels. Also writes the SVG plot of ns per element against N.
/// A full run takes about 10 s per build besides the builds.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Largest N to measure (the points up to it are run).
    #[arg(long, value_name = "N", default_value_t = 1 << 25)]
    max_n: u64,
    /// Run and report one build only.
    #[arg(long, value_enum)]
    only: Option<Build>,
    /// Also write the Markdown report to FILE (between its `<!-- roofline: begin -->` and
    /// `<!-- roofline: end -->` lines when it has them, as in docs/benchmarks.md).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Where to write the plot [default: docs/roofline.svg in the workspace].
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Default build's target dir (default: $CARGO_TARGET_DIR or `target`); the native build
    /// uses DIR/native.
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
}

/// One of the builds the report compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Build {
    /// No RUSTFLAGS: what `cargo add` users get (x86-64: SSE2 codegen).
    Default,
    /// `-C target-cpu=native`.
    Native,
}

impl Build {
    /// Heading of the build's section and its name in the plot.
    fn title(self) -> &'static str {
        match self {
            Build::Default => "Default build (no RUSTFLAGS)",
            Build::Native => "target-cpu=native",
        }
    }

    /// The build's directory under the default target dir, and the RUSTFLAGS it adds.
    fn subdir_and_rustflags(self) -> Option<(&'static str, &'static str)> {
        match self {
            Build::Default => None,
            Build::Native => Some(("native", "-C target-cpu=native")),
        }
    }
}

/// One kernel at one N, as the example prints it.
#[derive(Debug, Clone, PartialEq)]
struct Point {
    kernel: String,
    n: u64,
    /// The fastest sample, ns per element: the report's figure.
    min_ns: f64,
    /// The median sample, ns per element.
    median_ns: f64,
    samples: u32,
    calls_per_sample: u64,
}

/// What one build's run printed, and the command that ran it.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    build: Build,
    command: String,
    /// The vector extensions the build was compiled for, e.g. `sse2`.
    compiled_for: String,
    points: Vec<Point>,
}

impl Run {
    /// The fastest sample's ns per element of `kernel` at `n`.
    fn ns(&self, kernel: &str, n: u64) -> Option<f64> {
        let mut points = self.points.iter();
        let point = points.find(|p| p.kernel == kernel && p.n == n)?;
        Some(point.min_ns)
    }

    /// The element counts measured, ascending.
    fn sizes(&self) -> Vec<u64> {
        let mut sizes: Vec<u64> = self.points.iter().map(|p| p.n).collect();
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    }
}

/// Entry point of `cargo xtask roofline`.
pub fn run(args: Args) -> Result<()> {
    ensure!(
        args.max_n >= 256,
        "--max-n {}: the smallest N is 256",
        args.max_n
    );
    let env_dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from);
    let base_dir = args.target_dir.clone().or(env_dir);
    let base_dir = crate::workspace_root().join(base_dir.unwrap_or("target".into()));
    let builds: Vec<Build> = [Build::Default, Build::Native]
        .into_iter()
        .filter(|b| args.only.is_none_or(|only| only == *b))
        .collect();
    let mut runs = Vec::new();
    for (i, build) in builds.iter().enumerate() {
        let label = format!("[{}/{}] {}", i + 1, builds.len(), build.title());
        runs.push(run_build(*build, &base_dir, args.max_n, &label)?);
    }
    let report = render(&runs);
    println!("\n{report}");
    let svg = args
        .svg
        .unwrap_or_else(|| crate::workspace_root().join("docs/roofline.svg"));
    plot(&svg, &runs).with_context(|| format!("cannot write the plot {}", svg.display()))?;
    eprintln!("plot written to {}", svg.display());
    if let Some(path) = &args.out {
        markdown::write_out(path, "roofline", &report)?;
    }
    Ok(())
}

/// Builds and runs the example for `build` and parses what it prints.
fn run_build(build: Build, base_dir: &Path, max_n: u64, label: &str) -> Result<Run> {
    let spec = build.subdir_and_rustflags();
    let target_dir = spec.map_or(base_dir.to_path_buf(), |(dir, _)| base_dir.join(dir));
    let root = crate::workspace_root();
    let dir = target_dir.strip_prefix(&root).unwrap_or(&target_dir);
    let mut cmd = CargoCmd::new("run --release --example roofline")
        .args(["--target-dir".to_owned(), dir.display().to_string()])
        .args(["--".to_owned(), "--max-n".to_owned(), max_n.to_string()]);
    if let Some((_, rustflags)) = spec {
        cmd = cmd.rustflags(rustflags);
    }
    println!("\n==> {label}: {}", cmd.display());
    let text = cmd
        .read()
        .with_context(|| format!("roofline run {label} failed"))?;
    let (compiled_for, points) = parse(&text).with_context(|| format!("{label}'s output"))?;
    let command = cmd.display();
    Ok(Run {
        build,
        command,
        compiled_for,
        points,
    })
}

/// The example's output: the `compiled-for` features and the points.
fn parse(text: &str) -> Result<(String, Vec<Point>)> {
    let mut compiled_for = None;
    let mut points = Vec::new();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            [first, ..] if first.starts_with('#') => {}
            ["compiled-for", what @ ..] => compiled_for = Some(what.join(" ")),
            [kernel, n, min, median, samples, calls] if KERNELS.contains(kernel) => {
                let number = || format!("bad number in `{line}`");
                points.push(Point {
                    kernel: (*kernel).to_owned(),
                    n: n.parse().with_context(number)?,
                    min_ns: min.parse().with_context(number)?,
                    median_ns: median.parse().with_context(number)?,
                    samples: samples.parse().with_context(number)?,
                    calls_per_sample: calls.parse().with_context(number)?,
                });
            }
            _ => bail!("unexpected line `{line}`"),
        }
    }
    let compiled_for = compiled_for.context("no `compiled-for` line")?;
    ensure!(!points.is_empty(), "no measurements");
    Ok((compiled_for, points))
}

/// The report: machine facts, then a table per build.
fn render(runs: &[Run]) -> String {
    let rustc = host::version("rustc", "-V");
    let rustc = rustc.unwrap_or_else(|| "unknown (`rustc -V` failed)".to_owned());
    let mut out = "### Roofline report: sigmoid `loss_and_grad`\n\n".to_owned();
    let cpus = host::logical_cpus();
    let _ = writeln!(out, "- CPU: {} ({cpus} logical CPUs)", host::cpu_model());
    let caches = host::caches()
        .into_iter()
        .map(|(name, size)| format!("{name} {}", bytes(size)));
    let caches = caches.collect::<Vec<_>>().join(", ");
    let caches = if caches.is_empty() {
        "unknown".into()
    } else {
        caches
    };
    let _ = writeln!(out, "- Caches (CPU 0): {caches}");
    let _ = writeln!(out, "- rustc: {rustc}");
    let _ = writeln!(out, "- Date: {}", host::utc_now());
    let _ = writeln!(
        out,
        "- Workload: γ 2, α 0.25, `Reduction::Mean`, `u8` labels 0 / 1 (1 % positives); a call \
         moves {BYTES_PER_ELEMENT} bytes per element (a 4-byte logit and a 1-byte label read, a \
         4-byte gradient written)."
    );
    let _ = writeln!(
        out,
        "- Figures: the fastest of each kernel's samples (on a shared machine, disturbances \
         only add time), in ns per element (lower is better). `floor` streams the same bytes with trivial arithmetic, compiled in the same build; `floor/simd` is \
         the fraction of the floor's speed Simd reaches (100 % = as fast as moving the bytes), \
         `libm/simd` Simd's speed-up over Libm."
    );
    for run in runs {
        let _ = write!(
            out,
            "\n#### {}, compiled for {}\n\nFrom `{}`.\n\n{}",
            run.build.title(),
            run.compiled_for,
            run.command,
            render_table(run)
        );
    }
    out
}

/// One build's table: a row per N.
fn render_table(run: &Run) -> String {
    let header = [
        "N",
        "bytes moved",
        "floor",
        "floor GB/s",
        "simd",
        "libm",
        "floor/simd",
        "libm/simd",
    ];
    let mut out = markdown::row(header);
    out += &markdown::row(vec!["--:"; header.len()]);
    for n in run.sizes() {
        let [floor, simd, libm] = KERNELS.map(|k| run.ns(k, n));
        let ns = |t: Option<f64>| t.map_or("–".into(), markdown::format_ns);
        let gbps = floor.map_or("–".into(), |t| {
            format!("{:.1}", BYTES_PER_ELEMENT as f64 / t)
        });
        let percent = match (floor, simd) {
            (Some(f), Some(s)) if s > 0.0 => format!("{:.0} %", 100.0 * f / s),
            _ => "–".into(),
        };
        let speedup = match (libm, simd) {
            (Some(l), Some(s)) if s > 0.0 => format!("{:.1}×", l / s),
            _ => "–".into(),
        };
        out += &markdown::row([
            n.to_string(),
            bytes(n * BYTES_PER_ELEMENT),
            ns(floor),
            gbps,
            ns(simd),
            ns(libm),
            percent,
            speedup,
        ]);
    }
    out
}

/// A byte count in B, KiB, MiB or GiB (binary prefixes), e.g. `2.3 KiB`.
fn bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    match value {
        _ if unit == 0 => format!("{n} B"),
        v if v >= 100.0 || v.fract() == 0.0 => format!("{v:.0} {}", units[unit]),
        v => format!("{v:.1} {}", units[unit]),
    }
}

/// An element count as the plot's axis shows it: 256, 1K, 4K, …, 16M.
fn count_label(n: f64) -> String {
    let n = n.round() as u64;
    match n {
        _ if n >= 1 << 20 && n.is_multiple_of(1 << 20) => format!("{}M", n >> 20),
        _ if n >= 1 << 10 && n.is_multiple_of(1 << 10) => format!("{}K", n >> 10),
        _ => n.to_string(),
    }
}

/// Colour of each kernel's lines, in [`KERNELS`] order.
const COLOURS: [RGBColor; 3] = [
    RGBColor(0x55, 0x55, 0x55),
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
];

/// Writes the SVG plot of ns per element against N (both axes logarithmic), a line per build
/// and kernel (native solid, default dashed), with the CPU's cache sizes marked as N.
fn plot(path: &Path, runs: &[Run]) -> Result<()> {
    let all = runs.iter().flat_map(|r| &r.points);
    let (lo, hi) = all.fold((f64::INFINITY, 0.0f64), |(lo, hi), p| {
        (lo.min(p.min_ns), hi.max(p.min_ns))
    });
    ensure!(lo > 0.0 && hi.is_finite(), "nothing to plot");
    let (y_lo, y_hi) = (lo / 1.5, hi * 1.5);
    let sizes = runs.iter().flat_map(Run::sizes);
    let n_max = sizes.max().unwrap_or(256) as f64;
    let x_range = 200.0..n_max * 1.3;

    let root = SVGBackend::new(path, (960, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let (chart_area, legend_area) = root.split_horizontally(740);
    let title = format!(
        "sigmoid loss_and_grad, γ 2, α 0.25, u8 labels; {}",
        host::cpu_model()
    );
    let mut chart = ChartBuilder::on(&chart_area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(
            x_range.clone().log_scale().base(4.0),
            (y_lo..y_hi).log_scale(),
        )
        .map_err(plot_error)?;
    // Faint lines at 2, 3, …, 9 times each decade (plotters' light lines on a log axis are
    // not at those values); the mesh's lines and labels are at the decades.
    let minor = RGBColor(0xee, 0xee, 0xee);
    let mut decade = 10f64.powf(y_lo.log10().floor());
    while decade < y_hi {
        let ys = (2..10).map(|k| decade * f64::from(k));
        for y in ys.filter(|y| (y_lo..y_hi).contains(y)) {
            let line = [(x_range.start, y), (x_range.end, y)];
            chart
                .draw_series(LineSeries::new(line, minor))
                .map_err(plot_error)?;
        }
        decade *= 10.0;
    }
    let decades = (y_hi / y_lo).log10().ceil() as usize + 1;
    chart
        .configure_mesh()
        .x_labels(12)
        .y_labels(decades)
        .max_light_lines(0)
        .x_desc("N, elements per call")
        .y_desc("ns per element")
        .x_label_formatter(&|n| count_label(*n))
        .y_label_formatter(&|y| format!("{}", 10f64.powf(y.log10().round())))
        .draw()
        .map_err(plot_error)?;

    // The cache sizes as element counts: where 9 bytes per element fill them.
    for (name, size) in host::caches() {
        let n = size as f64 / BYTES_PER_ELEMENT as f64;
        if !x_range.contains(&n) {
            continue;
        }
        let style = RGBColor(0x99, 0x99, 0x99).stroke_width(1);
        let line = DashedLineSeries::new([(n, y_lo), (n, y_hi)], 3, 4, style);
        chart.draw_series(line).map_err(plot_error)?;
        let label = Text::new(name, (n * 1.05, y_hi * 0.8), ("sans-serif", 13));
        chart.draw_series([label]).map_err(plot_error)?;
    }

    let mut legend = Vec::new();
    for run in runs {
        let dashed = run.build == Build::Default;
        for (kernel, colour) in KERNELS.iter().zip(COLOURS) {
            let line: Vec<(f64, f64)> = run
                .points
                .iter()
                .filter(|p| p.kernel == *kernel)
                .map(|p| (p.n as f64, p.min_ns))
                .collect();
            let style = colour.stroke_width(2);
            if dashed {
                let series = DashedLineSeries::new(line.iter().copied(), 8, 5, style);
                chart.draw_series(series).map_err(plot_error)?;
            } else {
                chart
                    .draw_series(LineSeries::new(line.iter().copied(), style))
                    .map_err(plot_error)?;
            }
            let dots = line.iter().map(|&p| Circle::new(p, 3, colour.filled()));
            chart.draw_series(dots).map_err(plot_error)?;
            let build = match run.build {
                Build::Default => "default build",
                Build::Native => "native",
            };
            legend.push((format!("{kernel}, {build}"), colour, dashed));
        }
    }

    // The legend, beside the plot.
    for (i, (label, colour, dashed)) in legend.iter().enumerate() {
        let y = 70 + 26 * i as i32;
        let style = colour.stroke_width(2);
        let segment = [(10, y), (50, y)];
        if *dashed {
            let dash = DashedPathElement::new(segment, 8, 5, style);
            legend_area.draw(&dash).map_err(plot_error)?;
        } else {
            legend_area
                .draw(&PathElement::new(segment, style))
                .map_err(plot_error)?;
        }
        let text = Text::new(label.as_str(), (58, y - 7), ("sans-serif", 14));
        legend_area.draw(&text).map_err(plot_error)?;
    }
    let y = 70 + 26 * legend.len() as i32;
    let note = "grey: where N × 9 B fills a cache";
    let note = Text::new(note, (10, y), ("sans-serif", 13));
    legend_area.draw(&note).map_err(plot_error)?;
    root.present().map_err(plot_error)?;
    Ok(())
}

/// A plotters error as an `anyhow` error (plotters' errors borrow the backend's error type).
fn plot_error<E: std::error::Error + Send + Sync>(err: DrawingAreaErrorKind<E>) -> anyhow::Error {
    anyhow::anyhow!("{err}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(kernel: &str, n: u64, min_ns: f64) -> Point {
        let kernel = kernel.to_owned();
        let (median_ns, samples, calls_per_sample) = (min_ns, 3, 1);
        Point {
            kernel,
            n,
            min_ns,
            median_ns,
            samples,
            calls_per_sample,
        }
    }

    #[test]
    fn parses_the_example_output() {
        let text = "# comment\ncompiled-for sse2\n# kernel N ...\n\
                    floor 256 0.1175 0.1178 10 334152\nsimd 256 3.2233 3.2083 10 12187\n";
        let (features, points) = parse(text).unwrap();
        assert_eq!(features, "sse2");
        let mut floor = point("floor", 256, 0.1175);
        (floor.median_ns, floor.samples, floor.calls_per_sample) = (0.1178, 10, 334_152);
        assert_eq!(points[0], floor);
        assert_eq!(points[1].kernel, "simd");
        assert!(parse("floor 256 0.1 0.1 1 1\n").is_err(), "no compiled-for");
        assert!(parse("compiled-for sse2\n").is_err(), "no points");
        assert!(parse("compiled-for sse2\nfloor 256 x 0.1 1 1\n").is_err());
        assert!(parse("compiled-for sse2\nnaive 256 0.1 0.1 1 1\n").is_err());
    }

    #[test]
    fn table() {
        let run = Run {
            build: Build::Native,
            command: String::new(),
            compiled_for: "avx2".into(),
            points: vec![
                point("simd", 1 << 20, 1.5),
                point("floor", 256, 0.1),
                point("libm", 256, 15.0),
                point("simd", 256, 1.25),
                point("floor", 1 << 20, 0.3),
            ],
        };
        let expected = "\
| N | bytes moved | floor | floor GB/s | simd | libm | floor/simd | libm/simd |
| --: | --: | --: | --: | --: | --: | --: | --: |
| 256 | 2.2 KiB | 0.100 | 90.0 | 1.25 | 15.0 | 8 % | 12.0× |
| 1048576 | 9 MiB | 0.300 | 30.0 | 1.50 | – | 20 % | – |
";
        assert_eq!(render_table(&run), expected);
    }

    #[test]
    fn labels() {
        let got = [256, 2304, 1 << 12, 9 << 20, 1 << 25].map(bytes);
        assert_eq!(got, ["256 B", "2.2 KiB", "4 KiB", "9 MiB", "32 MiB"]);
        let got = [256.0, 1024.0, 16777216.0, 300.0].map(count_label);
        assert_eq!(got, ["256", "1K", "16M", "300"]);
    }
}
