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

    /// The `cargo build` of the firmware for the family's targets.
    fn build(self) -> CargoCmd {
        match self {
            Self::CortexM => cross::firmware_build(),
            Self::RiscV => cross::riscv_firmware_build(),
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
}

/// The targets and how qemu runs each: the Cortex-M boards of qemu-system-arm, then the
/// RISC-V `virt` board of qemu-system-riscv32 with the extensions of each target (and no more:
/// an instruction of another extension would trap).
pub const BOARDS: [Board; 6] = [
    Board {
        target: "thumbv6m-none-eabi",
        core: "Cortex-M0",
        family: Family::CortexM,
        machine: "microbit",
        cpu: None,
        fpu: false,
    },
    Board {
        target: "thumbv7m-none-eabi",
        core: "Cortex-M3",
        family: Family::CortexM,
        machine: "mps2-an385",
        cpu: Some("cortex-m3"),
        fpu: false,
    },
    Board {
        target: "thumbv7em-none-eabihf",
        core: "Cortex-M4F",
        family: Family::CortexM,
        machine: "mps2-an386",
        cpu: Some("cortex-m4"),
        fpu: true,
    },
    Board {
        target: "thumbv8m.main-none-eabihf",
        core: "Cortex-M33",
        family: Family::CortexM,
        machine: "mps2-an505",
        cpu: None,
        fpu: true,
    },
    Board {
        target: "riscv32imac-unknown-none-elf",
        core: "RV32IMAC",
        family: Family::RiscV,
        machine: "virt",
        cpu: Some("rv32,f=off,d=off"),
        fpu: false,
    },
    Board {
        target: "riscv32imafc-unknown-none-elf",
        core: "RV32IMAFC",
        family: Family::RiscV,
        machine: "virt",
        cpu: Some("rv32,d=off"),
        fpu: true,
    },
];

/// What a program printed (decoded) and whether it exited 0.
pub struct Run {
    pub passed: bool,
    pub text: String,
}

/// The firmware's ELF `name` for `target`.
pub fn elf(target: &str, name: &str) -> PathBuf {
    crate::workspace_root().join(format!("target/firmware/{target}/release/{name}"))
}

/// Installs what the firmware of `families` needs and, when `build`, builds it.
pub fn prepare_firmware(families: &[Family], build: bool) -> Result<()> {
    for family in families {
        family.needs().ensure()?;
        if build {
            let cmd = family.build();
            println!("==> {}", cmd.display());
            cmd.run()?;
        }
    }
    Ok(())
}

impl Board {
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
/// digest) and must pass.
pub fn run_checks(family: Family) -> Result<()> {
    for board in family.boards() {
        let run = board.run(&elf(board.target, "check"), false)?;
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
