//! `cargo xtask embedded-report` (see [`Args`]) and the same measurements and bars as the
//! last check of the firmware stage.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};

use crate::qemu::{BOARDS, Board, Build, Family, HELIUM};
use crate::{elf, markdown};

/// What the kernels cost on each Cortex-M and RISC-V target, under qemu
///
/// Builds firmware/ for thumbv6m (micro:bit, M0), thumbv7m (MPS2-AN385, M3), thumbv7em
/// (MPS2-AN386, M4F), thumbv8m.main (MPS2-AN505, M33) and thumbv8m.main with the M55's
/// target features (MPS3-AN547, M55: one lane, and four Helium lanes with
/// --cfg focal_loss_helium, an opt-in outside the bars, whose check's outcome is reported
/// too) under qemu-system-arm, and for riscv32imac and riscv32imafc (virt) under
/// qemu-system-riscv32, then measures on each:
///   - instructions per element of loss_and_grad (sigmoid γ=2 and γ=0.5, softmax C=10), Simd
///     and Libm, under qemu -icount shift=0 (one instruction per virtual ns): on Cortex-M by
///     SysTick, calibrated against a loop of known length; on RISC-V by the minstret CSR;
///   - flash (.text + .rodata) one kernel of one form adds to an empty firmware;
///   - peak stack of every entry point, by stack painting;
///   - that no ELF links an allocator.
///
/// Prints Markdown tables and fails if a bar is not met (flash of loss_and_grad <= 8 KiB,
/// 9 KiB of library code without an FPU, stack < 1 KiB, no allocator).
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Measure the ELFs already in target/firmware (of both families).
    #[arg(long)]
    no_build: bool,
    /// Also write the tables to FILE (between its `<!-- embedded-report: begin -->` and
    /// `<!-- embedded-report: end -->` lines when it has them, as in docs/embedded.md).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// The flash bar: what `loss_and_grad` of one kernel of one form may add, in bytes (on the
/// cores with an FPU: the total).
const FLASH_BAR: u64 = 8 * 1024;
/// The bar for the library's own code on the cores without an FPU (M0, M3, RV32IMAC), where
/// every float operation is a call. 8 KiB until the fractional-γ power carried its exponent
/// unrounded (`Focusing::power`, 36 → 10 ULP): that costs RV32IMAC's softmax `Kernel::Libm`
/// 704 bytes (7,990 → 8,694), the Dekker product and `frexpf` as soft-float calls.
const SOFT_FLOAT_FLASH_BAR: u64 = 9 * 1024;
/// The stack bar, in bytes (peak stack must be below it).
const STACK_BAR: u64 = 1024;
/// The footprint programs beside `fp_empty`: those ending in `_all` link every entry point
/// of the form, the others `loss_and_grad` alone.
const FOOTPRINTS: [&str; 8] = [
    "fp_sigmoid_simd",
    "fp_sigmoid_libm",
    "fp_softmax_simd",
    "fp_softmax_libm",
    "fp_sigmoid_simd_all",
    "fp_sigmoid_libm_all",
    "fp_softmax_simd_all",
    "fp_softmax_libm_all",
];
/// The (form, case) columns of the instruction table.
const CASES: [(&str, &str); 3] = [
    ("sigmoid", "gamma2"),
    ("sigmoid", "gamma0.5"),
    ("softmax", "C10"),
];
/// The other programs whose ELFs must not link an allocator.
const PROGRAMS: [&str; 4] = ["check", "cost", "train", "fp_empty"];

/// Every program of the firmware.
pub fn programs() -> impl Iterator<Item = &'static str> {
    PROGRAMS.into_iter().chain(FOOTPRINTS)
}

/// What one board measured.
#[derive(Debug)]
struct Measurement {
    board: Board,
    /// Instructions per tick × 1024, from the calibration.
    calibration: u64,
    /// Instructions per element, by `<form> <case> <kernel>` (`instructions <form> <case>
    /// <kernel> <n> <instructions>` lines of the `cost` program).
    instructions: BTreeMap<String, f64>,
    /// Peak stack in bytes of `<form> <entry> <kernel>` (`stack <form> <entry> <kernel>
    /// <bytes>` lines), in the program's order.
    stack: Vec<(String, u64)>,
    /// The footprint of every program's ELF.
    footprints: BTreeMap<&'static str, elf::Footprint>,
}

/// Entry point of `cargo xtask embedded-report`.
pub fn run(args: Args) -> Result<()> {
    crate::qemu::prepare_firmware(&Family::ALL, !args.no_build)?;
    if !args.no_build {
        let cmd = crate::cross::helium_firmware_build();
        println!("==> {}", cmd.display());
        cmd.run()?;
    }
    report(BOARDS.iter().chain([&HELIUM]), args.out.as_deref())
}

/// The `then` of a firmware stage: the check on every board of `family`, the training run
/// against the host's (`train-on-device`), then the footprint of every board against the bars.
pub fn check_firmware(family: Family) -> Result<()> {
    crate::qemu::run_checks(family)?;
    crate::train_device::compare_with_host(family.boards())?;
    report(family.boards(), None)
}

/// Measures `boards`, prints the tables (and writes them to `out`), checks the bars (of the
/// bit-identical builds: the Helium opt-in is measured and its check's outcome reported).
fn report<'a>(boards: impl Iterator<Item = &'a Board>, out: Option<&Path>) -> Result<()> {
    let measurements = boards.map(measure).collect::<Result<Vec<_>>>()?;
    let helium = measurements.iter().find(|m| m.board.build == Build::Helium);
    let helium_check = match helium {
        Some(m) => Some(m.board.run(&m.board.elf("check"), false)?.text),
        None => None,
    };
    let report = tables(&measurements, helium_check.as_deref());
    println!("\n{report}");
    if let Some(file) = out {
        markdown::write_out(file, "embedded-report", &report)?;
    }
    check_bars(&measurements)
}

/// Measures one board: runs `cost` under qemu and reads the ELFs.
fn measure(board: &Board) -> Result<Measurement> {
    let run = board.run(&board.elf("cost"), true)?;
    if !run.passed || !run.text.contains("cost: done") {
        bail!("the cost program failed on {}:\n{}", board.target, run.text);
    }
    let mut m = parse_cost(*board, &run.text)?;
    for program in programs() {
        let footprint = elf::footprint(&board.elf(program))?;
        m.footprints.insert(program, footprint);
    }
    Ok(m)
}

/// Reads the `calibration`, `instructions` and `stack` lines of the `cost` program.
fn parse_cost(board: Board, text: &str) -> Result<Measurement> {
    let mut m = Measurement {
        board,
        calibration: 0,
        instructions: BTreeMap::new(),
        stack: Vec::new(),
        footprints: BTreeMap::new(),
    };
    for line in text.lines() {
        let num = |s: &str| {
            s.parse::<u64>()
                .with_context(|| format!("bad number in `{line}`"))
        };
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["calibration", x] => m.calibration = num(x)?,
            ["instructions", form, case, kernel, n, i] => {
                let per_element = num(i)? as f64 / num(n)? as f64;
                let key = format!("{form} {case} {kernel}");
                m.instructions.entry(key).or_insert(per_element);
            }
            ["stack", form, entry, kernel, b] => {
                m.stack.push((format!("{form} {entry} {kernel}"), num(b)?));
            }
            _ => {}
        }
    }
    Ok(m)
}

impl Measurement {
    /// Instructions per element of `kernel` on `form`'s `case`.
    fn per_element(&self, form: &str, case: &str, kernel: &str) -> Option<f64> {
        let key = format!("{form} {case} {kernel}");
        self.instructions.get(&key).copied()
    }

    /// Flash `program` adds to the empty firmware: (total, of which compiler runtime).
    fn flash_added(&self, program: &str) -> Option<(u64, u64)> {
        let [program, empty] = [program, "fp_empty"].map(|p| self.footprints.get(p));
        let (program, empty) = (program?, empty?);
        let runtime = program.runtime.saturating_sub(empty.runtime);
        Some((program.flash.saturating_sub(empty.flash), runtime))
    }

    /// The programs whose ELF links an allocator.
    fn allocators(&self) -> Vec<&str> {
        let with = self.footprints.iter().filter(|(_, f)| f.allocator);
        with.map(|(program, _)| *program).collect()
    }

    /// The peak stack of `form`'s entry points, or of all when `None`.
    fn peak_stack(&self, form: Option<&str>) -> u64 {
        let of_form = |entry: &str| form.is_none_or(|f| entry.split(' ').next() == Some(f));
        let peaks = self.stack.iter().filter(|(entry, _)| of_form(entry));
        peaks.map(|(_, bytes)| *bytes).max().unwrap_or(0)
    }
}

/// Fails naming every bar these measurements miss.
fn check_bars(measurements: &[Measurement]) -> Result<()> {
    let mut missed = Vec::new();
    for m in measurements
        .iter()
        .filter(|m| m.board.build != Build::Helium)
    {
        let (target, hard_float) = (m.board.target, m.board.fpu);
        for program in FOOTPRINTS.into_iter().filter(|p| !p.ends_with("_all")) {
            // The library's own code on every target; with the compiler runtime it brings
            // where the FPU makes that runtime small (without one, any float code links it).
            let own_bar = if hard_float {
                FLASH_BAR
            } else {
                SOFT_FLOAT_FLASH_BAR
            };
            match m.flash_added(program) {
                Some((total, runtime))
                    if total - runtime <= own_bar && (!hard_float || total <= FLASH_BAR) => {}
                other => missed.push(format!(
                    "{target}: {program} adds (total, runtime) {other:?} bytes of flash (bar {own_bar})"
                )),
            }
        }
        for (entry, bytes) in m.stack.iter().filter(|(_, bytes)| *bytes >= STACK_BAR) {
            missed.push(format!(
                "{target}: {entry} peaks at {bytes} bytes of stack (bar < {STACK_BAR})"
            ));
        }
        if m.stack.is_empty() {
            missed.push(format!("{target}: no stack measurement"));
        }
        let allocators = m.allocators();
        if !allocators.is_empty() {
            missed.push(format!("{target}: allocator linked in {allocators:?}"));
        }
    }
    let missed = missed.join("\n  ");
    ensure!(missed.is_empty(), "bars not met:\n  {missed}");
    Ok(())
}

/// Formats `v` with one decimal.
fn one(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}

/// The Markdown tables of the report; `helium_check`, what the Helium build's `check` printed.
fn tables(measurements: &[Measurement], helium_check: Option<&str>) -> String {
    let host = crate::host::cpu_model();
    // Each family's qemu; one version when they are the same build.
    let mut programs: Vec<&str> = measurements
        .iter()
        .map(|m| m.board.family.program())
        .collect();
    programs.dedup();
    let version = |program| crate::host::version(program, "--version").unwrap_or_default();
    let mut qemu: Vec<String> = programs.into_iter().map(version).collect();
    qemu.dedup();
    let qemu = qemu.join(", ");
    let mut s = format!(
        "Measured by `cargo xtask embedded-report` on {} ({qemu}; {host}), firmware built \
         with `opt-level = 3`, `lto = true`, `codegen-units = 1`.\n\n",
        crate::host::utc_now()
    );
    // A row per board: its core, then `cells`.
    let rows = |s: &mut String, cells: &dyn Fn(&Measurement) -> Vec<String>| {
        for m in measurements {
            let core = std::iter::once(m.board.core.to_owned());
            s.push_str(&markdown::row(core.chain(cells(m))));
        }
    };
    s.push_str(
        "Instructions per element of `loss_and_grad` (softmax: per sample of 10 classes), \
         counted by qemu `-icount shift=0` and SysTick (Cortex-M) or `minstret` (RISC-V):\n\n\
         | core | instructions / tick | sigmoid γ=2 Simd | Libm | Libm/Simd | sigmoid γ=0.5 Simd | Libm | Libm/Simd | softmax C=10 Simd | Libm | Libm/Simd |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    rows(&mut s, &|m| {
        let mut cells = vec![one(Some(m.calibration as f64 / 1024.0))];
        for (form, case) in CASES {
            let [simd, libm] = ["Simd", "Libm"].map(|k| m.per_element(form, case, k));
            let ratio = simd.zip(libm).map(|(s, l)| l / s);
            cells.extend([one(simd), one(libm), format!("{}×", one(ratio))]);
        }
        cells
    });
    s.push_str(
        "\nFlash (`.text` + `.rodata`) one kernel of one form adds to an empty firmware, in \
         bytes: the total, and in brackets the part of it that is compiler runtime \
         (`compiler_builtins`: the soft-float routines any float code on M0/M3/RV32IMAC \
         links, and `memset` / `memcpy`). Columns 2–5 link `loss_and_grad` alone (a training \
         step); the others every entry point of the form:\n\n\
         | core | sigmoid Simd | sigmoid Libm | softmax Simd | softmax Libm | sigmoid Simd, all entry points | sigmoid Libm, all | softmax Simd, all | softmax Libm, all |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    rows(&mut s, &|m| {
        let flash = |p| {
            m.flash_added(p)
                .map_or("–".into(), |(t, r)| format!("{t} ({r})"))
        };
        FOOTPRINTS.map(flash).to_vec()
    });
    s.push_str(
        "\nPeak stack in bytes (stack painting; the largest over both kernels, every entry \
         point listed in the firmware's `cost` program), and heap:\n\n\
         | core | sigmoid | softmax | peak | heap |\n|---|---|---|---|---|\n",
    );
    rows(&mut s, &|m| {
        let (allocators, elfs) = (m.allocators(), m.footprints.len());
        let heap = if allocators.is_empty() {
            format!("none: no allocator symbol in {elfs} ELFs")
        } else {
            format!("ALLOCATOR in {allocators:?}")
        };
        let peaks = [Some("sigmoid"), Some("softmax"), None].map(|f| m.peak_stack(f).to_string());
        peaks.into_iter().chain([heap]).collect()
    });
    let of_build = |build| measurements.iter().find(|m| m.board.build == build);
    if let (Some(scalar), Some(four)) = (of_build(Build::M55), of_build(Build::Helium)) {
        let fewer = CASES.map(|(form, case)| {
            let [a, b] = [scalar, four].map(|m| m.per_element(form, case, "Simd"));
            format!("{}×", one(a.zip(b).map(|(a, b)| a / b)))
        });
        let (flash, stack) = (four.flash_added("fp_sigmoid_simd"), four.peak_stack(None));
        let flash = flash.map_or("–".into(), |(total, _)| total.to_string());
        s.push_str(&format!(
            "\nThe Cortex-M55 with four Helium lanes (`--cfg focal_loss_helium`, an opt-in \
             outside the bit-identity guarantee and the bars) takes {} (sigmoid γ=2), {} \
             (γ=0.5) and {} (softmax C=10) fewer instructions per element with `Kernel::Simd` \
             than the one-lane M55 build, for {flash} bytes of flash (sigmoid `loss_and_grad`) \
             and a stack peak of {stack} bytes.\n",
            fewer[0], fewer[1], fewer[2]
        ));
    }
    if let Some(text) = helium_check {
        s.push_str(
            "\nIts check firmware (every reference vector through both kernels, then the \
             digest) prints:\n\n```text\n",
        );
        s.push_str(text.trim_end());
        s.push_str("\n```\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_lines() {
        let text = "calibration 1024\nstarting\ninstructions sigmoid gamma2 Simd 4096 40960\n\
                    stack softmax loss_and_grad Libm 312\ncost: done\n";
        let cost = parse_cost(BOARDS[0], text).unwrap();
        assert_eq!(cost.calibration, 1024);
        assert_eq!(cost.per_element("sigmoid", "gamma2", "Simd"), Some(10.0));
        assert_eq!(cost.stack, [("softmax loss_and_grad Libm".to_owned(), 312)]);
        assert_eq!(cost.peak_stack(Some("sigmoid")), 0);
        assert!(parse_cost(BOARDS[0], "calibration x").is_err());
    }
}
