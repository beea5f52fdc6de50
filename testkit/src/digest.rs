//! The fixed workload whose `Kernel::Simd` bits every target must reproduce, and its digest
//! (FNV-1a over the bits of every output). Uses `core` only, no allocation, so the host tests
//! and the on-device firmware run the same code.

use crate::vectors::VariantConfig;
use focal_loss::train::Rng;
use focal_loss::{Kernel, Layout, Reduction, SigmoidFocal, SoftmaxFocal, approx};

/// The γ values of the sigmoid part.
pub const GAMMAS: [f32; 7] = [0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0];

/// Largest slice of the workload (small enough for a Cortex-M0 with 16 KiB of RAM).
const MAX_N: usize = 370;

/// The variants of the digest: for each, integer and fractional exponents; ASL with and
/// without its margin, one margin above 1/2.
pub const VARIANTS: [VariantConfig; 15] = [
    VariantConfig::FocalStar {
        gamma: 1.0,
        beta: 0.0,
        alpha: None,
    },
    VariantConfig::FocalStar {
        gamma: 2.5,
        beta: -1.5,
        alpha: Some(0.25),
    },
    VariantConfig::Quality { beta: 2.0 },
    VariantConfig::Quality { beta: 2.5 },
    VariantConfig::Varifocal {
        alpha: 0.75,
        gamma: 2.0,
        iou_weighted: true,
    },
    VariantConfig::Varifocal {
        alpha: 0.75,
        gamma: 0.5,
        iou_weighted: false,
    },
    VariantConfig::Asymmetric {
        gamma_pos: 1.0,
        gamma_neg: 4.0,
        clip: 0.05,
    },
    VariantConfig::Asymmetric {
        gamma_pos: 0.5,
        gamma_neg: 2.5,
        clip: 0.6,
    },
    VariantConfig::Asymmetric {
        gamma_pos: 0.0,
        gamma_neg: 2.0,
        clip: 0.0,
    },
    VariantConfig::Poly1 {
        gamma: 2.0,
        alpha: Some(0.25),
        epsilon: 1.0,
    },
    VariantConfig::Poly1 {
        gamma: 0.5,
        alpha: None,
        epsilon: -1.0,
    },
    VariantConfig::Reduced {
        gamma: 2.0,
        alpha: None,
        threshold: 0.5,
    },
    VariantConfig::Reduced {
        gamma: 2.5,
        alpha: Some(0.25),
        threshold: 0.25,
    },
    VariantConfig::Normalized {
        gamma: 2.0,
        alpha: Some(0.25),
    },
    VariantConfig::Normalized {
        gamma: 0.5,
        alpha: None,
    },
];

/// Fills `x` with logits in [−100, 100] (±∞ and ±0 every 97th) and `t` with targets (mostly
/// 0, some 1, some soft), from a xorshift seeded by `seed`.
pub fn workload(x: &mut [f32], t: &mut [f32], seed: u32) {
    let mut rng = Rng::new(seed);
    let mut next = move || rng.next_u32();
    for v in x.iter_mut() {
        *v = (next() % 200_001) as f32 / 1000.0 - 100.0;
    }
    for (i, v) in x.iter_mut().enumerate().step_by(97) {
        *v = [f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0][i % 4];
    }
    for v in t.iter_mut() {
        *v = match next() % 10 {
            0 => 1.0,
            1 => (next() % 1001) as f32 / 1000.0,
            _ => 0.0,
        };
    }
}

/// γ of the subnormal case.
pub const SUBNORMAL_GAMMA: f32 = 0.0;

/// The digest's subnormal case, for sixteen elements: logits `89 + 0.125 i`, targets 1. With
/// γ = [`SUBNORMAL_GAMMA`] and no α every loss is subnormal (about `e^−x`, 3.4e-40 to
/// 2.2e-39), and so is every partial sum of the blocked sum, whose lane `k` adds elements
/// `k` and `k + 8`.
pub fn subnormal_case(x: &mut [f32], t: &mut [f32]) {
    for (i, (x, t)) in x.iter_mut().zip(t.iter_mut()).enumerate() {
        *x = 89.0 + i as f32 * 0.125;
        *t = 1.0;
    }
}

/// FNV-1a, fed `f32` bits.
struct Fnv(u64);

impl Fnv {
    fn eat(&mut self, v: f32) {
        for b in v.to_bits().to_le_bytes() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn eat_all(&mut self, values: &[f32]) {
        values.iter().for_each(|&v| self.eat(v));
    }
}

/// The digest of everything the SIMD kernel computes for the fixed workload
/// (`tests/data/simd_digest.txt`).
pub fn digest() -> u64 {
    digest_of(true)
}

/// The digest of the two forms' unweighted entry points and the approximations alone
/// (`tests/data/forms_digest.txt`): what the C API's test computes from C.
pub fn forms_digest() -> u64 {
    digest_of(false)
}

/// The workload's digest, with the variants and the softmax form's weights and options when
/// `extensions`.
fn digest_of(extensions: bool) -> u64 {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    let (mut xb, mut tb, mut out) = ([0.0f32; MAX_N], [0.0f32; MAX_N], [0.0f32; MAX_N]);
    for n in [1usize, 8, 13, 300] {
        let (x, t, out) = (&mut xb[..n], &mut tb[..n], &mut out[..n]);
        workload(x, t, n as u32 * 31 + 1);
        for g in GAMMAS {
            for alpha in [None, Some(0.25)] {
                let fl = SigmoidFocal::new(g, alpha).unwrap();
                fl.loss_per_element(x, t, out).unwrap();
                h.eat_all(out);
                h.eat(fl.loss_and_grad(x, t, Reduction::Mean, out).unwrap());
                h.eat_all(out);
            }
        }
    }
    // Subnormal losses, gradients and partial sums (two per accumulator lane): a target that
    // flushed subnormals anywhere on the path (a vector unit's adds, say) would give 0 here.
    // (tests/determinism.rs checks on the host that they are subnormal.)
    {
        let (x, t, out) = (&mut xb[..16], &mut tb[..16], &mut out[..16]);
        subnormal_case(x, t);
        let fl = SigmoidFocal::new(SUBNORMAL_GAMMA, None).unwrap();
        fl.loss_per_element(x, t, out).unwrap();
        h.eat_all(out);
        h.eat(fl.loss_and_grad(x, t, Reduction::Sum, out).unwrap());
        h.eat_all(out);
    }
    // The variants (each loss and gradient into one half of `out`); ASL's targets rounded to
    // 0 / 1.
    for n in [13usize, 185].into_iter().filter(|_| extensions) {
        let (x, t) = (&mut xb[..n], &mut tb[..n]);
        workload(x, t, n as u32 * 17 + 3);
        let (loss, rest) = out.split_at_mut(n);
        let grad = &mut rest[..n];
        for config in VARIANTS {
            if matches!(config, VariantConfig::Asymmetric { .. }) {
                t.iter_mut()
                    .for_each(|t| *t = if *t >= 0.5 { 1.0 } else { 0.0 });
            }
            h.eat(config.run(Kernel::Simd, x, t, loss, grad).unwrap());
            h.eat_all(loss);
            h.eat_all(grad);
        }
    }
    for i in -2000..=2000 {
        let v = i as f32 * 0.05123;
        h.eat(approx::exp(v));
        h.eat(approx::ln(v.abs()));
    }
    // Row-major rows of 3 and 10 classes go one row per lane, of 37 classes (a last group of
    // five) across the lanes; channels-first one pixel per lane.
    for (c, rows) in [(3usize, 37usize), (10, 37), (37, 10)] {
        let n = c * rows;
        let (x, unused) = (&mut xb[..n], &mut tb[..n]);
        workload(x, unused, c as u32);
        x.iter_mut().for_each(|v| *v *= 0.3);
        let all_targets: [u16; 37] = core::array::from_fn(|i| (i * 7 % c) as u16);
        let targets = &all_targets[..rows];
        // Label-smoothed targets, row-major, and the same rows channels-first.
        let mut soft_rm = [0.0f32; MAX_N];
        let mut soft_cf = [0.0f32; MAX_N];
        for (i, v) in soft_rm[..n].iter_mut().enumerate() {
            *v = if i % c == i / c % c {
                0.9
            } else {
                0.1 / (c - 1) as f32
            };
        }
        for (i, v) in soft_cf[..n].iter_mut().enumerate() {
            *v = soft_rm[(i % rows) * c + i / rows];
        }
        let alpha: [f32; 37] = core::array::from_fn(|j| 0.5 + j as f32 * 0.1);
        // Per-row weights, zero included, for the weighted entry points.
        let all_weights: [f32; 37] = core::array::from_fn(|r| [0.0, 0.5, 1.25, 3.0][r % 4]);
        let weights = &all_weights[..rows];
        for g in [0.0f32, 2.0, 2.5] {
            let fl = SoftmaxFocal::new(c, g)
                .unwrap()
                .with_alpha(&alpha[..c])
                .unwrap();
            let cf = fl
                .with_layout(Layout::ChannelsFirst { spatial: rows })
                .unwrap();
            for (fl, soft) in [(fl, &soft_rm[..n]), (cf, &soft_cf[..n])] {
                let grad = &mut out[..n];
                h.eat(fl.loss_and_grad(x, targets, Reduction::Mean, grad).unwrap());
                h.eat_all(grad);
                h.eat(fl.loss_and_grad(x, soft, Reduction::Sum, grad).unwrap());
                h.eat_all(grad);
                if extensions && g == 2.0 {
                    let r = Reduction::Mean;
                    h.eat(
                        fl.loss_and_grad_weighted(x, targets, weights, r, grad)
                            .unwrap(),
                    );
                    h.eat_all(grad);
                    let r = Reduction::Sum;
                    h.eat(
                        fl.loss_and_grad_weighted(x, soft, weights, r, grad)
                            .unwrap(),
                    );
                    h.eat_all(grad);
                    // The options: Poly-1 (hard targets only), the reduced threshold on both
                    // sides of 1/2 (hard and soft targets).
                    let poly = fl.with_poly1(-0.5).unwrap();
                    h.eat(
                        poly.loss_and_grad(x, targets, Reduction::Mean, grad)
                            .unwrap(),
                    );
                    h.eat_all(grad);
                    for th in [0.25f32, 0.75] {
                        let reduced = fl.with_reduced_threshold(th).unwrap();
                        let r = Reduction::Mean;
                        h.eat(reduced.loss_and_grad(x, targets, r, grad).unwrap());
                        h.eat_all(grad);
                        let r = Reduction::Sum;
                        h.eat(reduced.loss_and_grad(x, soft, r, grad).unwrap());
                        h.eat_all(grad);
                    }
                }
            }
        }
    }
    h.0
}
