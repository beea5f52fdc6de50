//! `cargo xtask train-on-device`: the host example's device configuration trained on the
//! Cortex-M boards under qemu (`firmware/src/bin/train.rs`), every epoch's loss bits and every
//! final weight's bits compared with the host's run of the same configuration
//! (`cargo run --release --example train_imbalanced -- --device-run`).

use std::process::{Command, Stdio};

use crate::embedded::{BOARDS, Board, elf, run_on};
use crate::{Error, Result};

/// What `cargo xtask train-on-device --help` prints.
const HELP: &str = "\
cargo xtask train-on-device: train on the Cortex-M boards, compare every bit with the host

USAGE:
    cargo xtask train-on-device [--no-build]

Builds firmware/ (unless --no-build), runs `cargo run --release --example train_imbalanced
-- --device-run` on the host and firmware/src/bin/train.rs under qemu-system-arm on the
Cortex-M3, M4F and M33 boards (the micro:bit's 16 KiB of RAM cannot hold the shuffle buffer
of the 4040-sample set), and fails unless every epoch's loss bits and every final weight's bits are the same.
";

/// The boards the training runs on: every one with the RAM for it.
fn boards() -> impl Iterator<Item = &'static Board> {
    BOARDS.iter().filter(|b| b.core != "Cortex-M0")
}

/// The lines that must agree: `epoch <n> loss <bits>`, `weight <k> <bits>` and
/// `weights <fingerprint>`.
fn compared(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            ["epoch ", "weight ", "weights "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(str::to_owned)
        .collect()
}

/// The host's lines.
fn host_run() -> std::result::Result<Vec<String>, String> {
    let args = [
        "run",
        "--release",
        "--quiet",
        "--example",
        "train_imbalanced",
        "--",
        "--device-run",
    ];
    println!("--- host: cargo {}", args.join(" "));
    let out = Command::new("cargo")
        .args(args)
        .current_dir(crate::workspace_root())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("the host run failed ({})", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    Ok(compared(&text))
}

/// Trains on every board and compares with the host; the firmware must be built.
pub fn compare_with_host() -> std::result::Result<(), String> {
    let host = host_run()?;
    if host.is_empty() || !host.last().is_some_and(|l| l.starts_with("weights ")) {
        return Err("the host run printed no weights".into());
    }
    for board in boards() {
        let (ok, text) = run_on(board, &elf(board.target, "train"), false)?;
        print!("{text}");
        if !ok {
            return Err(format!("training failed on {}", board.target));
        }
        let device = compared(&text);
        if device != host {
            let first = host.iter().zip(&device).find(|(h, d)| h != d).map_or_else(
                || {
                    format!(
                        "{} lines on the host, {} on the device",
                        host.len(),
                        device.len()
                    )
                },
                |(h, d)| format!("host `{h}`, device `{d}`"),
            );
            return Err(format!(
                "{} ({}) trained to different bits: {first}",
                board.core, board.target
            ));
        }
        println!(
            "--- {}: every epoch's loss and the weights are the host's, bit for bit",
            board.core
        );
    }
    Ok(())
}

/// Entry point of `cargo xtask train-on-device`.
pub fn run(args: &[String]) -> Result<()> {
    let mut build = true;
    for arg in args {
        match arg.as_str() {
            "--no-build" => build = false,
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(());
            }
            other => {
                return Err(Error::Usage(format!(
                    "unknown option `{other}` for `train-on-device`"
                )));
            }
        }
    }
    crate::cross::ensure_firmware().map_err(Error::Failed)?;
    if build {
        let cmd = crate::cross::firmware_build();
        println!("==> {}", cmd.display());
        cmd.run(&crate::workspace_root()).map_err(Error::Failed)?;
    }
    compare_with_host().map_err(Error::Failed)
}
