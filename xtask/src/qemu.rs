//! The Cortex-M boards qemu-system-arm emulates and running the firmware's programs on them.
//!
//! The programs report through `defmt` over semihosting; qemu's standard output carries the
//! encoded frames, which `defmt-print -e ELF` decodes. The semihosting exit code becomes qemu's.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, ensure};
use xshell::cmd;

use crate::{cross, install};

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

/// What a program printed (decoded) and whether it exited 0.
pub struct Run {
    pub passed: bool,
    pub text: String,
}

/// The firmware's ELF `name` for `target`.
pub fn elf(target: &str, name: &str) -> PathBuf {
    crate::workspace_root().join(format!("target/firmware/{target}/release/{name}"))
}

/// Installs what the firmware needs and, when `build`, builds it.
pub fn prepare_firmware(build: bool) -> Result<()> {
    install::FIRMWARE.ensure()?;
    if build {
        let cmd = cross::firmware_build();
        println!("==> {}", cmd.display());
        cmd.run()?;
    }
    Ok(())
}

impl Board {
    /// Runs `elf` on this board (with `-icount shift=0` when `count`) and decodes its output.
    pub fn run(&self, elf: &Path, count: bool) -> Result<Run> {
        let decoder = install::defmt_print()?;
        let sh = crate::shell()?;
        let (target, machine, elf_name) = (self.target, self.machine, elf.display());
        let cpu = self.cpu.iter().flat_map(|cpu| ["-cpu", cpu]);
        let semihosting = ["-semihosting-config", "enable=on,target=native"];
        let icount = ["-icount", "shift=0"].into_iter().filter(|_| count);
        let qemu = cmd!(
            sh,
            "timeout 300 qemu-system-arm -machine {machine} {cpu...} -nographic"
        );
        let qemu = qemu.args(semihosting).args(icount).arg("-kernel").arg(elf);
        println!("--- {target} on {machine}: {qemu} | defmt-print -e {elf_name}");
        // The frames are binary; qemu's own messages go to the terminal.
        let frames = Command::from(qemu).stderr(Stdio::inherit()).output();
        let frames = frames.context("could not start qemu-system-arm")?;
        let format = "{s}";
        let decode = cmd!(sh, "{decoder} -e {elf} --log-format {format} stdin");
        let text = decode.stdin(&frames.stdout).quiet().ignore_status();
        let text = text.read()? + "\n";
        let passed = frames.status.success();
        Ok(Run { passed, text })
    }
}

/// Every board runs `check` (reference vectors, both kernels and forms, and the digest) and
/// must pass.
pub fn run_checks() -> Result<()> {
    for board in &BOARDS {
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
