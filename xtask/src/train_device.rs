//! `cargo xtask train-on-device`: the same training on the Cortex-M and RISC-V boards as on
//! the host, bit for bit (see [`Args`]).

use anyhow::{Result, bail, ensure};

use crate::cargo::CargoCmd;
use crate::qemu::{BOARDS, Board, Family};

/// Train on the Cortex-M and RISC-V boards, compare every bit with the host
///
/// Builds firmware/ (unless --no-build), runs `cargo run --release --example train_imbalanced
/// -- --device-run` on the host and firmware/src/bin/train.rs under qemu-system-arm on the
/// Cortex-M3, M4F, M33 and M55 boards (the micro:bit's 16 KiB of RAM cannot hold the shuffle buffer
/// of the 4040-sample set) and under qemu-system-riscv32 on RV32IMAC and RV32IMAFC, and fails
/// unless every epoch's loss bits and every final weight's bits are the same.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Use the firmware already in target/firmware.
    #[arg(long)]
    no_build: bool,
}

/// Entry point of `cargo xtask train-on-device`.
pub fn run(args: Args) -> Result<()> {
    crate::qemu::prepare_firmware(&Family::ALL, !args.no_build)?;
    compare_with_host(BOARDS.iter())
}

/// The lines that must agree: `epoch <n> loss <bits>`, `weight <k> <bits>` and
/// `weights <fingerprint>`.
fn compared(text: &str) -> Vec<String> {
    let prefixes = ["epoch ", "weight ", "weights "];
    let compared = |l: &&str| prefixes.iter().any(|p| l.starts_with(p));
    text.lines().filter(compared).map(str::to_owned).collect()
}

/// Trains on every one of `boards` with the RAM for it and compares with the host; the
/// firmware must be built.
pub fn compare_with_host<'a>(boards: impl Iterator<Item = &'a Board>) -> Result<()> {
    let cmd = CargoCmd::new("run --release --quiet --example train_imbalanced -- --device-run");
    println!("--- host: {}", cmd.display());
    let text = cmd.read()?;
    println!("{text}");
    let host = compared(&text);
    ensure!(
        host.last().is_some_and(|l| l.starts_with("weights ")),
        "the host run printed no weights"
    );
    for board in boards.filter(|b| b.core != "Cortex-M0") {
        let run = board.run(&board.elf("train"), false)?;
        print!("{}", run.text);
        ensure!(run.passed, "training failed on {}", board.target);
        let device = compared(&run.text);
        let (core, target) = (board.core, board.target);
        if device != host {
            let (h, d) = (host.len(), device.len());
            let why = match host.iter().zip(&device).find(|(h, d)| h != d) {
                Some((h, d)) => format!("host `{h}`, device `{d}`"),
                None => format!("{h} lines on the host, {d} on the device"),
            };
            bail!("{core} ({target}) trained to different bits: {why}");
        }
        println!("--- {core}: every epoch's loss and the weights are the host's, bit for bit");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_epochs_and_weights_only() {
        let text = "training\nepoch 1 loss 3f800000\nweight 0 bf000000\nweights ab12\ndone\n";
        assert_eq!(
            compared(text),
            ["epoch 1 loss 3f800000", "weight 0 bf000000", "weights ab12"]
        );
    }
}
