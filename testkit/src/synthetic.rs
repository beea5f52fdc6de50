//! The synthetic imbalanced problem of `examples/train_imbalanced.rs`: two features, one
//! positive per hundred negatives. Most negatives are easy (a broad cluster far from the
//! positives); one in ten is hard (a tight cluster on the positives' flank, where the
//! classes overlap). `core` + `libm` only ([`device_set`] aside), so the firmware's build
//! script generates the same samples for its flash.

use focal_loss::train::Rng;

/// Features per sample.
pub const FEATURES: usize = 2;
/// Negatives per positive.
pub const RATIO: usize = 100;
/// Samples of the set the device configuration trains on (`device_run.rs`; in the
/// firmware's flash): 40 positives, 4000 negatives.
pub const DEVICE_SAMPLES: usize = 40 * (RATIO + 1);
/// Seed of that set.
pub const DEVICE_SEED: u32 = 2017;

/// A xorshift32 stream of uniforms in (0, 1).
struct Uniform(Rng);

impl Uniform {
    fn next(&mut self) -> f64 {
        let s = self.0.next_u32();
        (f64::from(s >> 8) + 0.5) / f64::from(1u32 << 24)
    }

    /// A standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next(), self.next());
        libm::sqrt(-2.0 * libm::log(u)) * libm::cos(2.0 * core::f64::consts::PI * v)
    }
}

/// Fills `features` (`FEATURES` per sample) and `labels` with `labels.len()` samples: every
/// `RATIO + 1`-th is positive, the rest negative (one in ten of them hard), from `seed`.
pub fn generate(seed: u32, features: &mut [f32], labels: &mut [u8]) {
    let mut u = Uniform(Rng::new(seed.wrapping_mul(0x9e37_79b9) | 1));
    for (i, (x, label)) in features
        .chunks_exact_mut(FEATURES)
        .zip(labels.iter_mut())
        .enumerate()
    {
        let (centre, spread, positive) = if i % (RATIO + 1) == RATIO {
            ((1.0, 1.0), 0.7, true)
        } else if i % 10 == 0 {
            ((0.3, -0.2), 0.45, false)
        } else {
            ((-2.0, -1.5), 1.0, false)
        };
        x[0] = (centre.0 + spread * u.normal()) as f32;
        x[1] = (centre.1 + spread * u.normal()) as f32;
        *label = u8::from(positive);
    }
}

/// The device configuration's training set ([`DEVICE_SAMPLES`] samples from [`DEVICE_SEED`]):
/// `(features, labels)`.
#[cfg(feature = "std")]
pub fn device_set() -> (Vec<f32>, Vec<u8>) {
    let mut features = vec![0.0f32; DEVICE_SAMPLES * FEATURES];
    let mut labels = vec![0u8; DEVICE_SAMPLES];
    generate(DEVICE_SEED, &mut features, &mut labels);
    (features, labels)
}
