//! Trains the configuration of `testkit/src/device_run.rs` (an MLP on the synthetic
//! problem's device set, in flash, with the RetinaNet focal loss) and logs each epoch's loss,
//! every final weight and their fingerprint through `defmt`. `cargo xtask train-on-device` runs it
//! under qemu and checks that every line equals what
//! `cargo run --release --example train_imbalanced -- --device-run` prints on the host.

#![no_std]
#![no_main]

use focal_loss_firmware::board::{self, entry};
use focal_loss_firmware::train_set;
use testkit::device_run;

focal_loss_firmware::defmt_program!();

#[entry]
fn main() -> ! {
    let mut order = [0u32; train_set::LABELS.len()];
    let trained = device_run::train(
        &train_set::FEATURES,
        &train_set::LABELS,
        &mut order,
        |epoch, loss| {
            defmt::println!("epoch {=usize} loss {=u32:08x}", epoch, loss.to_bits());
            defmt::println!("  mean loss {=f32}", loss);
        },
    );
    match trained {
        Ok(model) => {
            for (k, bits) in device_run::weight_bits(&model).enumerate() {
                defmt::println!("weight {=usize} {=u32:08x}", k, bits);
            }
            defmt::println!("weights {=u64:016x}", device_run::fingerprint(&model));
            board::exit(true)
        }
        Err(e) => {
            defmt::println!("training failed: {}", e);
            board::exit(false)
        }
    }
}
