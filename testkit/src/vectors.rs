//! The committed reference vectors as `core`-only data, and the check of one vector against
//! a kernel. The host tests parse the CSV files into these types; the firmware's build script
//! turns the same files into `static` tables of them. Both call the same `check_*` functions,
//! so a vector passes or fails by one rule on every target.

use crate::ulp::check;
use focal_loss::{FocalError, Kernel, Reduction, SigmoidFocal, SoftmaxFocal};

/// The accuracy bound of the sigmoid form, in ULP, for every γ.
pub const SIGMOID_BOUND: f64 = 16.0;

/// The accuracy bound of the softmax form, in ULP: 16, except the two non-integer γ whose
/// `exp(γ·ln(1 − p))` takes a rounded logarithm (see tests/softmax_accuracy.rs).
pub fn softmax_bound(gamma: f32) -> f64 {
    match gamma {
        0.5 => 15.0,
        2.5 => 35.0,
        _ => 16.0,
    }
}

/// One row of `tests/data/sigmoid_reference.csv` whose inputs are exact in `f32`.
#[derive(Debug, Clone, Copy)]
pub struct SigmoidVector {
    /// γ.
    pub gamma: f32,
    /// α, or `None` for no weighting.
    pub alpha: Option<f32>,
    /// The logit.
    pub logit: f32,
    /// The target, hard (0 or 1) or soft.
    pub target: f32,
    /// The reference loss.
    pub loss: f64,
    /// The reference gradient with respect to the logit.
    pub grad: f64,
    /// The magnitude the gradient's rounding error is relative to: `|grad|`, or for a soft
    /// target at a finite logit the sum of the magnitudes of its terms (it crosses zero).
    pub grad_scale: f64,
}

/// One sample of `tests/data/softmax_reference.csv`.
#[derive(Debug, Clone, Copy)]
pub struct SoftmaxVector<'a> {
    /// γ.
    pub gamma: f32,
    /// The per-class α, or `None` for no weighting.
    pub alpha: Option<&'a [f32]>,
    /// The class, or `None` for a soft target in `soft`.
    pub target: Option<u32>,
    /// The row's logits, one per class.
    pub logits: &'a [f32],
    /// The soft target, one per class (empty for a class target).
    pub soft: &'a [f32],
    /// The reference loss.
    pub loss: f64,
    /// The reference gradient, one per class.
    pub grad: &'a [f64],
}

/// What a check compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantity {
    /// The loss.
    Loss,
    /// The gradient with respect to this logit.
    Grad(usize),
}

/// A failed check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Miss {
    /// The kernel rejected a valid vector.
    Rejected(FocalError),
    /// A value outside the bound; `ulps` is `f64::INFINITY` where it is not measured in ULP.
    Value {
        /// What was compared.
        quantity: Quantity,
        /// What the kernel computed.
        got: f32,
        /// The reference value.
        want: f64,
        /// The error, in ULP.
        ulps: f64,
        /// The bound it exceeded, in ULP.
        bound: f64,
    },
}

/// The largest errors seen, in ULP.
#[derive(Debug, Default, Clone, Copy)]
pub struct Worst {
    /// Of the loss.
    pub loss: f64,
    /// Of the gradient.
    pub grad: f64,
}

/// Compares one value and records its error.
fn compare(
    quantity: Quantity,
    got: f32,
    want: f64,
    scale: f64,
    bound: f64,
    worst: &mut Worst,
) -> Result<(), Miss> {
    match check(got, want, scale, bound) {
        Ok(e) => {
            let slot = match quantity {
                Quantity::Loss => &mut worst.loss,
                Quantity::Grad(_) => &mut worst.grad,
            };
            *slot = slot.max(e);
            Ok(())
        }
        Err(ulps) => Err(Miss::Value {
            quantity,
            got,
            want,
            ulps,
            bound,
        }),
    }
}

/// Runs `kernel` on one sigmoid vector (`loss_per_element` for the loss, `loss_and_grad`
/// for the gradient) and checks both against the bound.
pub fn check_sigmoid(v: &SigmoidVector, kernel: Kernel, worst: &mut Worst) -> Result<(), Miss> {
    let fl = SigmoidFocal::new(v.gamma, v.alpha)
        .map_err(Miss::Rejected)?
        .with_kernel(kernel);
    let (x, t) = ([v.logit], [v.target]);
    let (mut loss, mut grad) = ([0.0f32], [0.0f32]);
    fl.loss_per_element(&x, &t, &mut loss)
        .map_err(Miss::Rejected)?;
    fl.loss_and_grad(&x, &t, Reduction::Sum, &mut grad)
        .map_err(Miss::Rejected)?;
    let bound = SIGMOID_BOUND;
    compare(Quantity::Loss, loss[0], v.loss, v.loss.abs(), bound, worst)?;
    compare(
        Quantity::Grad(0),
        grad[0],
        v.grad,
        v.grad_scale,
        bound,
        worst,
    )
}

/// Runs `kernel`'s `loss_and_grad` on one softmax vector and checks the loss and every
/// class's gradient against the bound. `scratch` must hold the vector's classes.
pub fn check_softmax(
    v: &SoftmaxVector<'_>,
    kernel: Kernel,
    scratch: &mut [f32],
    worst: &mut Worst,
) -> Result<(), Miss> {
    let c = v.logits.len();
    let mut fl = SoftmaxFocal::new(c, v.gamma)
        .map_err(Miss::Rejected)?
        .with_kernel(kernel);
    if let Some(alpha) = v.alpha {
        fl = fl.with_alpha(alpha).map_err(Miss::Rejected)?;
    }
    let grad = &mut scratch[..c];
    let loss = match v.target {
        Some(t) => fl.loss_and_grad(v.logits, &[t], Reduction::Sum, grad),
        None => fl.loss_and_grad(v.logits, v.soft, Reduction::Sum, grad),
    }
    .map_err(Miss::Rejected)?;
    let bound = softmax_bound(v.gamma);
    compare(Quantity::Loss, loss, v.loss, v.loss.abs(), bound, worst)?;
    // A soft target's gradient is a difference of terms: measure against the largest.
    let largest = v.grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    for (j, (&got, &want)) in grad.iter().zip(v.grad).enumerate() {
        let scale = if v.target.is_some() {
            want.abs()
        } else {
            largest
        };
        compare(Quantity::Grad(j), got, want, scale, bound, worst)?;
    }
    Ok(())
}
