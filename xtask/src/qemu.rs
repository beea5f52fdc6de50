//! The boards qemu emulates (Cortex-M on qemu-system-arm, RISC-V on qemu-system-riscv32) and
//! running the firmware's programs on them.
//!
//! The programs report through `defmt` over semihosting on both families; qemu's standard
//! output carries the encoded frames, which `defmt-print -e ELF` decodes. The semihosting exit
//! code becomes qemu's.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, ensure};
use xshell::cmd;

use crate::cargo::CargoCmd;
use crate::{cross, install};

/// A family of targets: its own build, tools and qemu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    CortexM,
    RiscV,
}

impl Family {
    /// Both families, Cortex-M first (the table order).
    pub const ALL: [Self; 2] = [Self::CortexM, Self::RiscV];

    /// The qemu that emulates the family's boards.
    pub fn program(self) -> &'static str {
        match self {
            Self::CortexM => "qemu-system-arm",
            Self::RiscV => "qemu-system-riscv32",
        }
    }

    /// The options each of the family's boards takes.
    fn options(self) -> &'static [&'static str] {
        match self {
            Self::CortexM => &[],
            // The ELF is loaded into DRAM, where the reset vector jumps; no firmware before it.
            Self::RiscV => &["-bios", "none"],
        }
    }

    /// What the family's stage needs from the machine.
    fn needs(self) -> &'static install::Needs {
        match self {
            Self::CortexM => &install::FIRMWARE,
            Self::RiscV => &install::RISCV,
        }
    }

    /// The `cargo build`s of the firmware for the family's boards.
    pub fn builds(self) -> Vec<CargoCmd> {
        match self {
            Self::CortexM => vec![cross::firmware_build(), cross::m55_firmware_build()],
            Self::RiscV => vec![cross::riscv_firmware_build()],
        }
    }

    /// The family's boards, in table order.
    pub fn boards(self) -> impl Iterator<Item = &'static Board> {
        BOARDS.iter().filter(move |board| board.family == self)
    }
}

/// A target and the qemu board that runs it.
#[derive(Debug, Clone, Copy)]
pub struct Board {
    pub target: &'static str,
    /// Short name of the core, for tables.
    pub core: &'static str,
    pub family: Family,
    pub machine: &'static str,
    pub cpu: Option<&'static str>,
    /// Whether the core has an FPU (then the flash bar includes the compiler runtime).
    pub fpu: bool,
    /// Which build of the firmware runs on it.
    pub build: Build,
}

/// Which build of the firmware a board runs: where it is, and what it promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// The family's build for the target's defaults ([`cross::FIRMWARE_DIR`]).
    Family,
    /// The Cortex-M55's: the M33's target with [`cross::M55_FEATURES`], one lane
    /// ([`cross::M55_DIR`]). The core has Helium (MVE), whose float instructions flush
    /// subnormals: the library's code must contain none.
    M55,
    /// The M55's with four Helium lanes, [`cross::HELIUM_CFG`] ([`cross::HELIUM_DIR`]): an
    /// opt-in outside the bit-identity guarantee, measured by `embedded-report` only.
    Helium,
}

impl Build {
    /// The target directory of the build.
    pub fn dir(self) -> &'static str {
        match self {
            Self::Family => cross::FIRMWARE_DIR,
            Self::M55 => cross::M55_DIR,
            Self::Helium => cross::HELIUM_DIR,
        }
    }
}

/// The targets and how qemu runs each: the Cortex-M boards of qemu-system-arm (the M55 runs
/// the M33's target with its own features, [`Build::M55`]), then the
/// RISC-V `virt` board of qemu-system-riscv32 with the extensions of each target (and no more:
/// an instruction of another extension would trap).
pub const BOARDS: [Board; 7] = [
    Board {
        target: "thumbv6m-none-eabi",
        core: "Cortex-M0",
        family: Family::CortexM,
        machine: "microbit",
        cpu: None,
        fpu: false,
        build: Build::Family,
    },
    Board {
        target: "thumbv7m-none-eabi",
        core: "Cortex-M3",
        family: Family::CortexM,
        machine: "mps2-an385",
        cpu: Some("cortex-m3"),
        fpu: false,
        build: Build::Family,
    },
    Board {
        target: "thumbv7em-none-eabihf",
        core: "Cortex-M4F",
        family: Family::CortexM,
        machine: "mps2-an386",
        cpu: Some("cortex-m4"),
        fpu: true,
        build: Build::Family,
    },
    Board {
        target: "thumbv8m.main-none-eabihf",
        core: "Cortex-M33",
        family: Family::CortexM,
        machine: "mps2-an505",
        cpu: None,
        fpu: true,
        build: Build::Family,
    },
    Board {
        target: "thumbv8m.main-none-eabihf",
        core: "Cortex-M55",
        family: Family::CortexM,
        machine: "mps3-an547",
        cpu: Some("cortex-m55"),
        fpu: true,
        build: Build::M55,
    },
    Board {
        target: "riscv32imac-unknown-none-elf",
        core: "RV32IMAC",
        family: Family::RiscV,
        machine: "virt",
        cpu: Some("rv32,f=off,d=off"),
        fpu: false,
        build: Build::Family,
    },
    Board {
        target: "riscv32imafc-unknown-none-elf",
        core: "RV32IMAFC",
        family: Family::RiscV,
        machine: "virt",
        cpu: Some("rv32,d=off"),
        fpu: true,
        build: Build::Family,
    },
];

/// The Cortex-M55 with four Helium lanes (`--cfg focal_loss_helium`): not among [`BOARDS`],
/// which hold the bit-identical builds; `embedded-report` measures it beside them.
pub const HELIUM: Board = Board {
    core: "Cortex-M55, 4 Helium lanes (opt-in)",
    build: Build::Helium,
    ..BOARDS[4]
};

/// What a program printed (decoded) and whether it exited 0.
pub struct Run {
    pub passed: bool,
    pub text: String,
}

/// Installs what the firmware of `families` needs and, when `build`, builds it.
pub fn prepare_firmware(families: &[Family], build: bool) -> Result<()> {
    for family in families {
        family.needs().ensure()?;
        if build {
            for cmd in family.builds() {
                println!("==> {}", cmd.display());
                cmd.run()?;
            }
        }
    }
    Ok(())
}

impl Board {
    /// The ELF of the firmware's program `name` for this board.
    pub fn elf(&self, name: &str) -> PathBuf {
        let (dir, target) = (self.build.dir(), self.target);
        crate::workspace_root().join(format!("{dir}/{target}/release/{name}"))
    }

    /// Runs `elf` on this board (with `-icount shift=0` when `count`) and decodes its output.
    pub fn run(&self, elf: &Path, count: bool) -> Result<Run> {
        let decoder = install::defmt_print()?;
        let sh = crate::shell()?;
        let (target, machine, elf_name) = (self.target, self.machine, elf.display());
        let (program, options) = (self.family.program(), self.family.options());
        let cpu = self.cpu.iter().flat_map(|cpu| ["-cpu", cpu]);
        let semihosting = ["-semihosting-config", "enable=on,target=native"];
        let icount = ["-icount", "shift=0"].into_iter().filter(|_| count);
        let qemu = cmd!(
            sh,
            "timeout 300 {program} -machine {machine} {cpu...} {options...} -nographic"
        );
        let qemu = qemu.args(semihosting).args(icount).arg("-kernel").arg(elf);
        println!("--- {target} on {machine}: {qemu} | defmt-print -e {elf_name}");
        // The frames are binary; qemu's own messages go to the terminal.
        let frames = Command::from(qemu).stderr(Stdio::inherit()).output();
        let frames = frames.with_context(|| format!("could not start {program}"))?;
        let format = "{s}";
        let decode = cmd!(sh, "{decoder} -e {elf} --log-format {format} stdin");
        let text = decode.stdin(&frames.stdout).quiet().ignore_status();
        let text = text.read()? + "\n";
        let passed = frames.status.success();
        Ok(Run { passed, text })
    }
}

/// Every board of `family` runs `check` (reference vectors, both kernels and forms, and the
/// digest) and must pass; on the Cortex-M55 the library's code in every program must hold no
/// Helium floating-point instruction first ([`crate::elf::mve_float_ops`]).
pub fn run_checks(family: Family) -> Result<()> {
    for board in family.boards() {
        if board.build == Build::M55 {
            no_mve_float_ops(board)?;
        }
        let run = board.run(&board.elf("check"), false)?;
        print!("{}", run.text);
        ensure!(
            run.passed && run.text.contains("focal-loss firmware check: PASSED"),
            "the firmware check failed on {} ({})",
            board.target,
            board.machine
        );
    }
    Ok(())
}

/// Fails naming every Helium floating-point instruction in the library's functions of the
/// board's programs (LLVM's vectorisers can emit them from scalar code: MVE would flush the
/// subnormals that the one-lane build promises to keep).
fn no_mve_float_ops(board: &Board) -> Result<()> {
    let mut found = Vec::new();
    for program in crate::embedded_report::programs() {
        let ops = crate::elf::mve_float_ops(&board.elf(program))?;
        found.extend(ops.into_iter().map(|op| format!("{program}: {op}")));
    }
    let n = found.len();
    found.truncate(20);
    ensure!(
        n == 0,
        "{n} Helium (MVE) floating-point instructions in the library's code on {}:\n  {}",
        board.core,
        found.join("\n  ")
    );
    println!(
        "--- {}: no Helium floating-point instruction in the library's code",
        board.core
    );
    Ok(())
}
