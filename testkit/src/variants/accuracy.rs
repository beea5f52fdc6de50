//! Measures both kernels of each variant against the `f64` references over a fixed grid of
//! logits (the sigmoid form's: [−100, 100] and ±∞). Shared by tests/suite/variant_accuracy.rs and
//! `examples/accuracy_report.rs`, so the table of `docs/variants.md` and the pinned bounds
//! come from the same measurement.

use super::reference::{self, Value};
use crate::sigmoid::accuracy::{Worst, logits};
use crate::sigmoid::reference::sigmoid;
use crate::ulp::{ulp_error, ulps_of};
use crate::vectors::VariantConfig;
use focal_loss::Kernel;

/// The configurations of the grid, each with the targets it is measured on.
pub fn grid() -> Vec<(VariantConfig, &'static [f32])> {
    const UNIT: &[f32] = &[0.0, 1.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9];
    const BINARY: &[f32] = &[0.0, 1.0];
    let mut g = Vec::new();
    for gamma in [1.0, 2.0, 0.5, 2.5] {
        for beta in [0.0, 1.0, -1.5] {
            for alpha in [None, Some(0.25)] {
                g.push((VariantConfig::FocalStar { gamma, beta, alpha }, UNIT));
            }
        }
    }
    for beta in [0.0, 1.0, 2.0, 3.0, 0.5, 2.5] {
        g.push((VariantConfig::Quality { beta }, UNIT));
    }
    for (alpha, gamma, iou_weighted) in [
        (0.75, 2.0, true),
        (0.75, 2.0, false),
        (0.5, 1.0, true),
        (0.75, 0.5, true),
        (0.75, 2.5, false),
    ] {
        g.push((
            VariantConfig::Varifocal {
                alpha,
                gamma,
                iou_weighted,
            },
            UNIT,
        ));
    }
    for (gamma_pos, gamma_neg, clip) in [
        (1.0, 4.0, 0.05),
        (0.0, 4.0, 0.05),
        (0.0, 2.0, 0.0),
        (1.0, 3.0, 0.2),
        (2.0, 1.0, 0.6),
        (0.5, 2.5, 0.05),
    ] {
        g.push((
            VariantConfig::Asymmetric {
                gamma_pos,
                gamma_neg,
                clip,
            },
            BINARY,
        ));
    }
    for gamma in [0.0, 1.0, 2.0, 0.5] {
        for alpha in [None, Some(0.25)] {
            for epsilon in [-1.0, 1.0, 2.0] {
                g.push((
                    VariantConfig::Poly1 {
                        gamma,
                        alpha,
                        epsilon,
                    },
                    UNIT,
                ));
            }
            for threshold in [0.5, 1.0, 0.25] {
                g.push((
                    VariantConfig::Reduced {
                        gamma,
                        alpha,
                        threshold,
                    },
                    UNIT,
                ));
            }
            g.push((VariantConfig::Normalized { gamma, alpha }, UNIT));
        }
    }
    g
}

/// The `f64` reference of `config` at `(x, t)`.
pub fn reference(config: &VariantConfig, x: f32, t: f32) -> Value {
    reference64(config, f64::from(x), f64::from(t))
}

/// [`reference`] at any `f64` logit and target. At ±∞ no difference cancels (the limits
/// are exact sums and products of the hyper-parameters): the scales are the magnitudes.
///
/// Where the smaller sigmoid is subnormal in `f32` (|x| > 87.3), the gradient is that
/// sigmoid, known to half a subnormal step, times a factor `|grad| / σ` that may lift it into
/// the normal range: its scale includes that absolute error (`|grad| / σ · 2^-127`, i.e. half
/// a subnormal step of σ expressed in ULP of the scale).
pub fn reference64(config: &VariantConfig, x: f64, t: f64) -> Value {
    let mut v = reference_at(config, x, t);
    if !x.is_finite() {
        return Value::plain(v.loss, v.grad);
    }
    let smaller = sigmoid(-x.abs());
    if smaller < f64::from(f32::MIN_POSITIVE) && smaller > 0.0 {
        v.grad_scale += v.grad.abs() / smaller * SUBNORMAL_FLOOR;
    }
    v
}

/// `2^-127`: half a subnormal `f32` step (`2^-150`) in units of `2^-23` of a scale.
pub const SUBNORMAL_FLOOR: f64 = 1.0 / 170_141_183_460_469_231_731_687_303_715_884_105_728.0;

fn reference_at(config: &VariantConfig, x: f64, t: f64) -> Value {
    match *config {
        VariantConfig::FocalStar { gamma, beta, alpha } => reference::focal_star(
            x,
            t,
            f64::from(gamma),
            f64::from(beta),
            alpha.map(f64::from),
        ),
        VariantConfig::Quality { beta } => reference::quality_focal(x, t, f64::from(beta)),
        VariantConfig::Varifocal {
            alpha,
            gamma,
            iou_weighted,
        } => reference::varifocal(x, t, f64::from(alpha), f64::from(gamma), iou_weighted),
        VariantConfig::Asymmetric {
            gamma_pos,
            gamma_neg,
            clip,
        } => reference::asymmetric(
            x,
            t,
            f64::from(gamma_pos),
            f64::from(gamma_neg),
            f64::from(clip),
        ),
        VariantConfig::Poly1 {
            gamma,
            alpha,
            epsilon,
        } => super::options::poly1(
            x,
            t,
            f64::from(gamma),
            alpha.map(f64::from),
            f64::from(epsilon),
        ),
        VariantConfig::Reduced {
            gamma,
            alpha,
            threshold,
        } => super::options::reduced(
            x,
            t,
            f64::from(gamma),
            alpha.map(f64::from),
            f64::from(threshold),
        ),
        VariantConfig::Normalized { gamma, alpha } => {
            super::options::normalized_one(x, t, f64::from(gamma), alpha.map(f64::from))
        }
    }
}

/// `got` equals a non-normal `want` (±∞ exactly; 0 or subnormal to within a subnormal step).
fn non_normal_ok(got: f32, want: f64) -> bool {
    if want.is_infinite() {
        f64::from(got) == want
    } else {
        (f64::from(got) - want).abs() <= f64::from(f32::MIN_POSITIVE) / 8.0 + want.abs() * 1e-3
    }
}

/// Records the error of one value, in ULP of `scale` (of `want` where `scale` is not a normal
/// `f32`), or a miss of a non-normal `want`.
fn record(got: f32, want: f64, scale: f64, slot: &mut f64, misses: &mut usize) {
    if scale == f64::INFINITY {
        return; // a gradient's side of a jump, undetermined (see `reference`)
    }
    match ulps_of(got, want, scale).or_else(|| ulp_error(got, want)) {
        Some(e) => *slot = slot.max(e),
        None => *misses += usize::from(!non_normal_ok(got, want)),
    }
}

/// Measures `kernel` for one configuration and target over every logit of the grid.
pub fn measure(kernel: Kernel, config: &VariantConfig, t: f32) -> Worst {
    let x = logits();
    let targets = vec![t; x.len()];
    let mut loss = vec![0.0f32; x.len()];
    let mut grad = vec![0.0f32; x.len()];
    if matches!(config, VariantConfig::Normalized { .. }) {
        // The normaliser is the slice's: one element per call, as the reference.
        for i in 0..x.len() {
            let (l, g) = (&mut loss[i..=i], &mut grad[i..=i]);
            config
                .run(kernel, &x[i..=i], &targets[i..=i], l, g)
                .unwrap();
        }
    } else {
        config
            .run(kernel, &x, &targets, &mut loss, &mut grad)
            .unwrap();
    }
    let mut worst = Worst::default();
    for i in 0..x.len() {
        let want = reference(config, x[i], t);
        record(
            loss[i],
            want.loss,
            want.loss_scale,
            &mut worst.loss_ulp,
            &mut worst.non_normal_misses,
        );
        record(
            grad[i],
            want.grad,
            want.grad_scale,
            &mut worst.grad_ulp,
            &mut worst.non_normal_misses,
        );
    }
    worst
}

/// Worst over every target of the configuration.
pub fn measure_targets(kernel: Kernel, config: &VariantConfig, targets: &[f32]) -> Worst {
    let mut worst = Worst::default();
    for &t in targets {
        worst.merge(measure(kernel, config, t));
    }
    worst
}
