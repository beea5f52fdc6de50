//! The on-device programs of `firmware/`, run under qemu-system-arm: the check every
//! `cargo xtask test` runs, and `cargo xtask embedded-report` (instructions per element, flash,
//! stack, heap) with the bars the README states.
//!
//! The programs report through `defmt` over semihosting; qemu's standard output carries the
//! encoded frames, which `defmt-print -e ELF` decodes (installed by `cargo install` when
//! missing). The semihosting exit code becomes qemu's.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Error, Result};

/// What `cargo xtask embedded-report --help` prints.
const HELP: &str = "\
cargo xtask embedded-report: what the kernels cost on each Cortex-M target, under qemu

USAGE:
    cargo xtask embedded-report [--no-build] [--out FILE]

Builds firmware/ for thumbv6m (micro:bit, M0), thumbv7m (MPS2-AN385, M3), thumbv7em
(MPS2-AN386, M4F) and thumbv8m.main (MPS2-AN505, M33), then measures on each:
  - instructions per element of loss_and_grad (sigmoid γ=2 and γ=0.5, softmax C=10), Simd
    and Libm: qemu -icount shift=0 (one instruction per virtual ns) and SysTick, calibrated
    against a loop of known length;
  - flash (.text + .rodata) one kernel of one form adds to an empty firmware;
  - peak stack of every entry point, by stack painting;
  - that no ELF links an allocator.
Prints Markdown tables and fails if a bar the README claims is not met (flash of
loss_and_grad <= 8 KiB, stack < 1 KiB, no allocator).

OPTIONS:
    --no-build   Measure the ELFs already in target/firmware.
    --out FILE   Also write the tables to FILE.
    -h, --help   Print this help.
";

/// A Cortex-M target and the qemu board that runs it.
#[derive(Debug, Clone, Copy)]
pub struct Board {
    pub target: &'static str,
    /// Short name of the core, for tables.
    pub core: &'static str,
    pub machine: &'static str,
    pub cpu: Option<&'static str>,
}

/// The Cortex-M targets and how qemu-system-arm runs each.
pub const BOARDS: [Board; 4] = [
    Board {
        target: "thumbv6m-none-eabi",
        core: "Cortex-M0",
        machine: "microbit",
        cpu: None,
    },
    Board {
        target: "thumbv7m-none-eabi",
        core: "Cortex-M3",
        machine: "mps2-an385",
        cpu: Some("cortex-m3"),
    },
    Board {
        target: "thumbv7em-none-eabihf",
        core: "Cortex-M4F",
        machine: "mps2-an386",
        cpu: Some("cortex-m4"),
    },
    Board {
        target: "thumbv8m.main-none-eabihf",
        core: "Cortex-M33",
        machine: "mps2-an505",
        cpu: None,
    },
];

/// The flash bar: what `loss_and_grad` of one kernel of one form may add, in bytes.
const FLASH_BAR: u64 = 8 * 1024;
/// The stack bar, in bytes (peak stack must be below it).
const STACK_BAR: u64 = 1024;
/// The instruction bar on the Cortex-M4F (Libm / Simd for the sigmoid form), reported.
const INSTRUCTION_RATIO_BAR: f64 = 5.0;
/// Symbols any global allocator brings in.
const ALLOCATOR_SYMBOLS: [&str; 4] = [
    "__rust_alloc",
    "__rg_alloc",
    "__rdl_alloc",
    "__rust_alloc_error_handler",
];
/// The pinned defmt decoder.
const DEFMT_PRINT_VERSION: &str = "1.2.0";

/// The firmware's ELF `name` for `target`.
pub fn elf(target: &str, name: &str) -> PathBuf {
    crate::workspace_root().join(format!("target/firmware/{target}/release/{name}"))
}

/// `defmt-print`, installed with `cargo install` when it is on neither `PATH` nor in
/// `$CARGO_HOME/bin`.
pub fn defmt_print() -> std::result::Result<PathBuf, String> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    let installed = cargo_home.join("bin/defmt-print");
    let found = || {
        crate::cross::which("defmt-print")
            .or_else(|| installed.is_file().then(|| installed.clone()))
    };
    if let Some(path) = found() {
        return Ok(path);
    }
    println!("--- cargo install defmt-print --locked --version {DEFMT_PRINT_VERSION}");
    let status = Command::new("cargo")
        .args([
            "install",
            "defmt-print",
            "--locked",
            "--version",
            DEFMT_PRINT_VERSION,
        ])
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("could not start `cargo install`: {e}"))?;
    if !status.success() {
        return Err(format!("`cargo install defmt-print` failed ({status})"));
    }
    found().ok_or_else(|| "defmt-print is still not found after `cargo install`".to_owned())
}

/// Runs `elf` on `board` (with `-icount shift=0` when `count`), decodes its defmt output,
/// and returns whether it exited 0 and the decoded lines.
pub fn run_on(
    board: &Board,
    elf: &Path,
    count: bool,
) -> std::result::Result<(bool, String), String> {
    let decoder = defmt_print()?;
    let mut args = vec!["300", "qemu-system-arm", "-machine", board.machine];
    if let Some(cpu) = board.cpu {
        args.extend(["-cpu", cpu]);
    }
    args.extend([
        "-nographic",
        "-semihosting-config",
        "enable=on,target=native",
    ]);
    if count {
        args.extend(["-icount", "shift=0"]);
    }
    let elf_arg = elf.display().to_string();
    args.extend(["-kernel", elf_arg.as_str()]);
    println!(
        "--- {} on {}: timeout {} | defmt-print -e {elf_arg}",
        board.target,
        board.machine,
        args[1..].join(" ")
    );
    let mut qemu = Command::new("timeout")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start qemu-system-arm: {e}"))?;
    let frames = qemu.stdout.take().ok_or("no qemu stdout")?;
    let mut print = Command::new(&decoder)
        .args(["-e", elf_arg.as_str(), "--log-format", "{s}", "stdin"])
        .stdin(frames)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start defmt-print: {e}"))?;
    let mut text = String::new();
    if let Some(mut out) = print.stdout.take() {
        out.read_to_string(&mut text)
            .map_err(|e| format!("reading defmt-print: {e}"))?;
    }
    let status = qemu.wait().map_err(|e| format!("qemu: {e}"))?;
    print.wait().map_err(|e| format!("defmt-print: {e}"))?;
    Ok((status.success(), text))
}

/// The `then` of the firmware stage: every board runs `check` (reference vectors, both
/// kernels and forms, and the digest) and must pass.
pub fn run_checks() -> std::result::Result<(), String> {
    for board in &BOARDS {
        let (ok, text) = run_on(board, &elf(board.target, "check"), false)?;
        print!("{text}");
        if !ok || !text.contains("focal-loss firmware check: PASSED") {
            return Err(format!(
                "the firmware check failed on {} ({})",
                board.target, board.machine
            ));
        }
    }
    Ok(())
}

/// The `then` of the firmware stage: [`run_checks`], the training run against the host's
/// (`train-on-device`), then the footprint measurements of every board against the bars the
/// README claims (flash, stack, heap).
pub fn run_checks_and_bars() -> std::result::Result<(), String> {
    run_checks()?;
    crate::train_device::compare_with_host()?;
    let measurements: Vec<Measurement> = BOARDS
        .iter()
        .map(measure)
        .collect::<std::result::Result<_, _>>()?;
    println!("\n{}", tables(&measurements));
    let missed = missed_bars(&measurements);
    if missed.is_empty() {
        Ok(())
    } else {
        Err(format!("bars not met:\n  {}", missed.join("\n  ")))
    }
}

/// What one board measured.
#[derive(Debug, Default)]
struct Measurement {
    board: Option<Board>,
    /// Instructions per tick × 1024, from the calibration.
    calibration: u64,
    /// (form, case, kernel) → (elements, instructions).
    instructions: Vec<(String, String, String, u64, u64)>,
    /// (form, entry point, kernel) → bytes.
    stack: Vec<(String, String, String, u64)>,
    /// Footprint program → (flash bytes (.vector_table + .text + .rodata), of which the
    /// compiler's runtime: soft-float and integer helpers, `memcpy`).
    flash: Vec<(String, u64, u64)>,
    /// ELFs with an allocator symbol.
    allocators: Vec<String>,
    /// ELFs inspected for allocator symbols.
    inspected: usize,
}

impl Measurement {
    fn per_element(&self, form: &str, case: &str, kernel: &str) -> Option<f64> {
        self.instructions
            .iter()
            .find(|(f, c, k, _, _)| f == form && c == case && k == kernel)
            .map(|&(_, _, _, n, i)| i as f64 / n as f64)
    }

    /// Flash `program` adds to the empty firmware: (total, of which compiler runtime).
    fn flash_added(&self, program: &str) -> Option<(u64, u64)> {
        let size = |p: &str| {
            self.flash
                .iter()
                .find(|(n, ..)| n == p)
                .map(|&(_, s, r)| (s, r))
        };
        let ((total, runtime), (empty, empty_runtime)) = (size(program)?, size("fp_empty")?);
        Some((
            total.saturating_sub(empty),
            runtime.saturating_sub(empty_runtime),
        ))
    }

    fn peak_stack(&self) -> u64 {
        self.stack.iter().map(|s| s.3).max().unwrap_or(0)
    }
}

/// The footprint programs, beside the empty one: (program, form, kernel, all entry points).
const FOOTPRINTS: [(&str, &str, &str, bool); 8] = [
    ("fp_sigmoid_simd", "sigmoid", "Simd", false),
    ("fp_sigmoid_libm", "sigmoid", "Libm", false),
    ("fp_softmax_simd", "softmax", "Simd", false),
    ("fp_softmax_libm", "softmax", "Libm", false),
    ("fp_sigmoid_simd_all", "sigmoid", "Simd", true),
    ("fp_sigmoid_libm_all", "sigmoid", "Libm", true),
    ("fp_softmax_simd_all", "softmax", "Simd", true),
    ("fp_softmax_libm_all", "softmax", "Libm", true),
];

/// Measures one board.
fn measure(board: &Board) -> std::result::Result<Measurement, String> {
    let mut m = Measurement {
        board: Some(*board),
        ..Measurement::default()
    };
    let (ok, text) = run_on(board, &elf(board.target, "cost"), true)?;
    if !ok || !text.contains("cost: done") {
        return Err(format!(
            "the cost program failed on {}:\n{text}",
            board.target
        ));
    }
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let num = |s: &str| {
            s.parse::<u64>()
                .map_err(|e| format!("bad number in `{line}`: {e}"))
        };
        match f.as_slice() {
            ["calibration", x] => m.calibration = num(x)?,
            ["instructions", form, case, kernel, n, i] => m.instructions.push((
                (*form).into(),
                (*case).into(),
                (*kernel).into(),
                num(n)?,
                num(i)?,
            )),
            ["stack", form, entry, kernel, b] => {
                m.stack
                    .push(((*form).into(), (*entry).into(), (*kernel).into(), num(b)?));
            }
            _ => {}
        }
    }
    let programs = std::iter::once("fp_empty").chain(FOOTPRINTS.iter().map(|f| f.0));
    for program in programs {
        let file = elf(board.target, program);
        m.flash.push((
            program.to_owned(),
            flash_bytes(&file)?,
            runtime_bytes(&file)?,
        ));
    }
    for program in ["check", "cost", "train", "fp_empty"]
        .into_iter()
        .chain(FOOTPRINTS.iter().map(|f| f.0))
    {
        m.inspected += 1;
        if links_allocator(&elf(board.target, program))? {
            m.allocators.push(program.to_owned());
        }
    }
    Ok(m)
}

/// `.vector_table` + `.text` + `.rodata` of an ELF, from `arm-none-eabi-size -A`.
fn flash_bytes(elf: &Path) -> std::result::Result<u64, String> {
    let out = Command::new("arm-none-eabi-size")
        .arg("-A")
        .arg(elf)
        .output()
        .map_err(|e| format!("could not start arm-none-eabi-size: {e}"))?;
    if !out.status.success() {
        return Err(format!("arm-none-eabi-size {} failed", elf.display()));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (name, size) = (f.next()?, f.next()?.parse::<u64>().ok()?);
            [".vector_table", ".text", ".rodata"]
                .contains(&name)
                .then_some(size)
        })
        .sum())
}

/// Bytes of an ELF's code that come from the compiler's runtime (`compiler_builtins`:
/// soft-float arithmetic and conversions, integer helpers, `memcpy`), which any firmware
/// doing the same arithmetic links too. Aliases (`__aeabi_fadd` = `__addsf3`) count once.
fn runtime_bytes(elf: &Path) -> std::result::Result<u64, String> {
    let out = Command::new("arm-none-eabi-nm")
        .args(["-S", "-C", "--defined-only"])
        .arg(elf)
        .output()
        .map_err(|e| format!("could not start arm-none-eabi-nm: {e}"))?;
    if !out.status.success() {
        return Err(format!("arm-none-eabi-nm {} failed", elf.display()));
    }
    let mut seen = std::collections::BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.splitn(4, ' ').collect();
        let [addr, size, kind, name] = f.as_slice() else {
            continue;
        };
        let code = matches!(*kind, "T" | "t" | "W" | "w");
        let runtime = name.contains("compiler_builtins::")
            || name.starts_with("__aeabi_")
            || name.starts_with("__clz");
        if code
            && runtime
            && let Ok(size) = u64::from_str_radix(size, 16)
        {
            seen.insert((*addr).to_owned(), size);
        }
    }
    Ok(seen.values().sum())
}

/// Whether an ELF defines or references an allocator symbol (`arm-none-eabi-nm`).
fn links_allocator(elf: &Path) -> std::result::Result<bool, String> {
    let out = Command::new("arm-none-eabi-nm")
        .arg(elf)
        .output()
        .map_err(|e| format!("could not start arm-none-eabi-nm: {e}"))?;
    if !out.status.success() {
        return Err(format!("arm-none-eabi-nm {} failed", elf.display()));
    }
    let symbols = String::from_utf8_lossy(&out.stdout);
    Ok(symbols
        .lines()
        .any(|l| ALLOCATOR_SYMBOLS.iter().any(|s| l.contains(s))))
}

/// Entry point of `cargo xtask embedded-report`.
pub fn run(args: &[String]) -> Result<()> {
    let mut build = true;
    let mut out = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--no-build" => build = false,
            "--out" => {
                let file = it
                    .next()
                    .ok_or_else(|| Error::Usage("`--out` needs a file".into()))?;
                out = Some(PathBuf::from(file));
            }
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(());
            }
            other => {
                return Err(Error::Usage(format!(
                    "unknown option `{other}` for `embedded-report`"
                )));
            }
        }
    }
    let failed = |e: String| Error::Failed(e);
    crate::cross::ensure_firmware().map_err(failed)?;
    if build {
        let cmd = crate::cross::firmware_build();
        println!("==> {}", cmd.display());
        cmd.run(&crate::workspace_root()).map_err(failed)?;
    }
    let measurements: Vec<Measurement> = BOARDS
        .iter()
        .map(measure)
        .collect::<std::result::Result<_, _>>()
        .map_err(failed)?;
    let report = tables(&measurements);
    println!("\n{report}");
    if let Some(file) = out {
        std::fs::write(&file, &report)
            .map_err(|e| Error::Failed(format!("writing {}: {e}", file.display())))?;
    }
    let missed = missed_bars(&measurements);
    if missed.is_empty() {
        Ok(())
    } else {
        Err(Error::Failed(format!(
            "bars not met:\n  {}",
            missed.join("\n  ")
        )))
    }
}

/// The bars the README claims that these measurements miss.
fn missed_bars(measurements: &[Measurement]) -> Vec<String> {
    let mut missed = Vec::new();
    for m in measurements {
        let target = m.board.map_or("?", |b| b.target);
        let hard_float = target.ends_with("eabihf");
        for &(program, _, _, all) in &FOOTPRINTS {
            if all {
                continue;
            }
            // The library's own code on every target; with the compiler runtime it brings
            // where the FPU makes that runtime small (without one, any float code links it).
            match m.flash_added(program) {
                Some((total, runtime))
                    if total - runtime <= FLASH_BAR && (!hard_float || total <= FLASH_BAR) => {}
                other => missed.push(format!(
                    "{target}: {program} adds (total, runtime) {other:?} bytes of flash (bar {FLASH_BAR})"
                )),
            }
        }
        for (form, entry, kernel, bytes) in &m.stack {
            if *bytes >= STACK_BAR {
                missed.push(format!(
                    "{target}: {form} {entry} {kernel} peaks at {bytes} bytes of stack (bar < {STACK_BAR})"
                ));
            }
        }
        if m.stack.is_empty() {
            missed.push(format!("{target}: no stack measurement"));
        }
        if !m.allocators.is_empty() {
            missed.push(format!("{target}: allocator linked in {:?}", m.allocators));
        }
    }
    missed
}

/// Formats `v` with one decimal.
fn one(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}

/// The Markdown tables of the report.
fn tables(measurements: &[Measurement]) -> String {
    let mut s = String::new();
    let host = crate::host::cpu_model().unwrap_or_else(|| "unknown CPU".into());
    let qemu = Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "Measured by `cargo xtask embedded-report` on {} ({qemu}; {host}), firmware built \
         with `opt-level = 3`, `lto = true`, `codegen-units = 1`.\n",
        crate::host::utc_now()
    );
    let _ = writeln!(
        s,
        "Instructions per element of `loss_and_grad` (softmax: per sample of 10 classes), \
         counted by qemu `-icount shift=0` and SysTick:\n"
    );
    let _ = writeln!(
        s,
        "| core | instructions / tick | sigmoid γ=2 Simd | Libm | Libm/Simd | sigmoid γ=0.5 Simd | Libm | Libm/Simd | softmax C=10 Simd | Libm | Libm/Simd |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
    for m in measurements {
        let core = m.board.map_or("?", |b| b.core);
        let mut row = format!("| {core} | {:.1} |", m.calibration as f64 / 1024.0);
        for (form, case) in [
            ("sigmoid", "gamma2"),
            ("sigmoid", "gamma0.5"),
            ("softmax", "C10"),
        ] {
            let simd = m.per_element(form, case, "Simd");
            let libm = m.per_element(form, case, "Libm");
            let ratio = simd.zip(libm).map(|(s, l)| l / s);
            let _ = write!(
                row,
                " {} | {} | {}× |",
                one(simd),
                one(libm),
                one(ratio).replace(".0×", "×")
            );
        }
        let _ = writeln!(s, "{row}");
    }
    let _ = writeln!(
        s,
        "\nFlash (`.text` + `.rodata`) one kernel of one form adds to an empty firmware, in \
         bytes: the total, and in brackets the part of it that is compiler runtime \
         (`compiler_builtins`: soft-float routines, which any float code on M0/M3 links, \
         the `f64` add and divide of the sums, `memcpy`). Columns 2–5 link `loss_and_grad` \
         alone (a training step); the others every entry point of the form:\n"
    );
    let _ = writeln!(
        s,
        "| core | sigmoid Simd | sigmoid Libm | softmax Simd | softmax Libm | sigmoid Simd, all entry points | sigmoid Libm, all | softmax Simd, all | softmax Libm, all |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for m in measurements {
        let core = m.board.map_or("?", |b| b.core);
        let mut row = format!("| {core} |");
        for (program, ..) in FOOTPRINTS {
            let cell = m
                .flash_added(program)
                .map_or_else(|| "–".into(), |(t, r)| format!("{t} ({r})"));
            let _ = write!(row, " {cell} |");
        }
        let _ = writeln!(s, "{row}");
    }
    let _ = writeln!(
        s,
        "\nPeak stack in bytes (stack painting; the largest over both kernels, every entry \
         point listed in the firmware's `cost` program), and heap:\n"
    );
    let _ = writeln!(s, "| core | sigmoid | softmax | peak | heap |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for m in measurements {
        let core = m.board.map_or("?", |b| b.core);
        let form_peak = |form: &str| {
            m.stack
                .iter()
                .filter(|e| e.0 == form)
                .map(|e| e.3)
                .max()
                .unwrap_or(0)
        };
        let heap = if m.allocators.is_empty() {
            format!("none: no allocator symbol in {} ELFs", m.inspected)
        } else {
            format!("ALLOCATOR in {:?}", m.allocators)
        };
        let _ = writeln!(
            s,
            "| {core} | {} | {} | {} | {heap} |",
            form_peak("sigmoid"),
            form_peak("softmax"),
            m.peak_stack()
        );
    }
    let m4f = measurements
        .iter()
        .find(|m| m.board.is_some_and(|b| b.core == "Cortex-M4F"));
    if let Some(m) = m4f {
        let ratio = m
            .per_element("sigmoid", "gamma2", "Libm")
            .zip(m.per_element("sigmoid", "gamma2", "Simd"))
            .map(|(l, s)| l / s);
        let verdict = if ratio.is_some_and(|r| r >= INSTRUCTION_RATIO_BAR) {
            "met"
        } else {
            "not met: the README's section \"On the device\" says why"
        };
        let _ = writeln!(
            s,
            "\nCortex-M4F sigmoid γ=2: Libm / Simd = {}× (the issue's bar: \
             {INSTRUCTION_RATIO_BAR}×, {verdict}).",
            one(ratio)
        );
    }
    s
}
