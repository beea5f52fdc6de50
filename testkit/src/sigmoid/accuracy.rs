//! Measures both kernels of the sigmoid form against the `f64` reference over a fixed grid.
//! Shared by tests/suite/sigmoid_accuracy.rs and `examples/accuracy_report.rs`, so the table of
//! `docs/accuracy.md` and the pinned bounds come from the same measurement.

use super::reference::{sigmoid_focal, soft_grad_scale};
use crate::ulp::{ulp_at, ulp_error};
use focal_loss::{Kernel, Reduction, SigmoidFocal};

/// The γ values of the grid.
pub const GAMMAS: [f32; 7] = [0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0];
/// The α values of the grid (`None`: no weighting).
pub const ALPHAS: [Option<f32>; 3] = [None, Some(0.25), Some(0.75)];
/// The hard targets of the grid.
pub const HARD_TARGETS: [f32; 2] = [0.0, 1.0];
/// The soft targets of the grid.
pub const SOFT_TARGETS: [f32; 6] = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9];

/// Logits from −100 to 100: every 1/64 in [−20, 20], every 1/8 beyond, awkward values, ±∞.
pub fn logits() -> Vec<f32> {
    let mut v: Vec<f32> = (-1280..=1280).map(|i| i as f32 / 64.0).collect();
    v.extend((160..=800).flat_map(|i| [i as f32 / 8.0, -(i as f32) / 8.0]));
    v.extend([
        1e-7,
        -1e-7,
        1e-3,
        -1e-3,
        0.333_333_3,
        -0.333_333_3,
        15.5,
        -15.5,
        16.3,
        -16.3,
        36.7,
        -36.7,
        87.3,
        -87.3,
        88.7,
        -88.7,
        103.0,
        -103.0,
    ]);
    v.extend([f32::INFINITY, f32::NEG_INFINITY]);
    v
}

/// Worst error of one configuration, in ULP, and how many values that are not normal `f32`
/// (0, subnormal, ±∞) came out wrong.
#[derive(Debug, Default, Clone, Copy)]
pub struct Worst {
    /// Worst loss error, in ULP.
    pub loss_ulp: f64,
    /// Worst gradient error, in ULP.
    pub grad_ulp: f64,
    /// Wrong values where the reference is not a normal `f32`.
    pub non_normal_misses: usize,
}

impl Worst {
    /// Takes the worse of each error and adds the misses.
    pub fn merge(&mut self, other: Worst) {
        self.loss_ulp = self.loss_ulp.max(other.loss_ulp);
        self.grad_ulp = self.grad_ulp.max(other.grad_ulp);
        self.non_normal_misses += other.non_normal_misses;
    }
}

/// `got` must equal a non-normal `want` (±∞ exactly, 0 / subnormal within one subnormal
/// step of 2^-126 · 2^-3).
fn non_normal_ok(got: f32, want: f64) -> bool {
    if want.is_infinite() {
        f64::from(got) == want
    } else {
        (f64::from(got) - want).abs() <= f64::from(f32::MIN_POSITIVE) / 8.0 + want.abs() * 1e-3
    }
}

/// Measures `kernel` for one (γ, α, target) over all [`logits`].
pub fn measure(kernel: Kernel, gamma: f32, alpha: Option<f32>, t: f32) -> Worst {
    let fl = SigmoidFocal::new(gamma, alpha).unwrap().with_kernel(kernel);
    let x = logits();
    let targets = vec![t; x.len()];
    let mut loss = vec![0.0f32; x.len()];
    let mut grad = vec![0.0f32; x.len()];
    fl.loss_per_element(&x, &targets, &mut loss).unwrap();
    fl.loss_and_grad(&x, &targets, Reduction::Sum, &mut grad)
        .unwrap();
    let soft = t != 0.0 && t != 1.0;
    let mut worst = Worst::default();
    for i in 0..x.len() {
        let (want_loss, want_grad) = sigmoid_focal(x[i], t, gamma, alpha);
        match ulp_error(loss[i], want_loss) {
            Some(e) => worst.loss_ulp = worst.loss_ulp.max(e),
            None => worst.non_normal_misses += usize::from(!non_normal_ok(loss[i], want_loss)),
        }
        if soft && x[i].is_finite() {
            let scale = soft_grad_scale(x[i], t, gamma, alpha);
            if scale >= f64::from(f32::MIN_POSITIVE) {
                let e = (f64::from(grad[i]) - want_grad).abs() / ulp_at(scale);
                worst.grad_ulp = worst.grad_ulp.max(e);
                continue;
            }
        }
        match ulp_error(grad[i], want_grad) {
            Some(e) => worst.grad_ulp = worst.grad_ulp.max(e),
            None => worst.non_normal_misses += usize::from(!non_normal_ok(grad[i], want_grad)),
        }
    }
    worst
}

/// Worst over all α for one kernel, γ and target kind.
pub fn measure_over_alphas(kernel: Kernel, gamma: f32, targets: &[f32]) -> Worst {
    let mut worst = Worst::default();
    for alpha in ALPHAS {
        for &t in targets {
            worst.merge(measure(kernel, gamma, alpha, t));
        }
    }
    worst
}
