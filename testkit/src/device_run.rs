//! The configuration the host and the Cortex-M firmware both train, and must finish with the
//! same bits: the synthetic problem's device set (`synthetic::DEVICE_SAMPLES`, seed
//! `synthetic::DEVICE_SEED`), a one-hidden-layer MLP, the RetinaNet focal loss. `core` only:
//! `examples/train_imbalanced.rs --device-run` and `firmware/src/bin/train.rs` both run it.

use focal_loss::train::{Mlp, Model, Sgd, Trainer};
use focal_loss::{FocalError, SigmoidFocal};

/// Seed of the model's initialisation and of the shuffles.
pub const MODEL_SEED: u32 = 7;
/// Epochs.
pub const EPOCHS: usize = 8;
/// Mini-batch size.
pub const BATCH: usize = 32;
/// The model: two features, eight hidden units.
pub type DeviceModel = Mlp<2, 8>;

/// Trains the device configuration on `features` / `labels` (`order`: one slot per sample),
/// calling `on_epoch(epoch, mean loss)` after each epoch; returns the trained model.
pub fn train(
    features: &[f32],
    labels: &[u8],
    order: &mut [u32],
    mut on_epoch: impl FnMut(usize, f32),
) -> Result<DeviceModel, FocalError> {
    let sgd = Sgd::new(0.05, 0.9)?;
    let mut trainer: Trainer<DeviceModel, BATCH> = Trainer::new(
        Mlp::init(MODEL_SEED),
        SigmoidFocal::RETINANET,
        sgd,
        MODEL_SEED,
    );
    for epoch in 0..EPOCHS {
        let loss = trainer.epoch(features, labels, order)?;
        on_epoch(epoch, loss);
    }
    Ok(trainer.model().clone())
}

/// The bits of every parameter, in the model's order.
pub fn weight_bits(model: &DeviceModel) -> impl Iterator<Item = u32> + '_ {
    model.parameters().map(f32::to_bits)
}

/// FNV-1a over the bits of every parameter: the weights' fingerprint.
pub fn fingerprint(model: &DeviceModel) -> u64 {
    model.parameters().fold(0xcbf2_9ce4_8422_2325u64, |h, p| {
        p.to_bits()
            .to_le_bytes()
            .iter()
            .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
    })
}
