//! The committed reference vectors as `core`-only data, and the check of one vector against
//! a kernel. The host tests parse the CSV files into these types; the firmware's build script
//! turns the same files into `static` tables of them. Both call the same `check_*` functions,
//! so a vector passes or fails by one rule on every target.

use crate::ulp::check;
use focal_loss::{
    Asymmetric, ExtendedSigmoidFocal, FocalError, FocalStar, Kernel, QualityFocal, Reduction,
    SigmoidFocal, SoftmaxFocal, Varifocal,
};

/// The accuracy bound of the sigmoid form, in ULP, for every γ.
pub const SIGMOID_BOUND: f64 = 16.0;

/// The accuracy bound of the softmax form at γ, in ULP: 16 for every γ of the vectors
/// (measured worst 8.00). The non-integer γ were held to 15 (0.5) and 35 (2.5) while
/// `exp(γ·ln(1 − p))` took a rounded logarithm and product; `Focusing::power` carries both
/// unrounded now. A function of γ, so that a γ with its own bound has one place to say so.
pub fn softmax_bound(gamma: f32) -> f64 {
    let _ = gamma;
    16.0
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

/// One configuration of a variant of the focal family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VariantConfig {
    /// [`FocalStar::new`]`(gamma, beta, alpha)`.
    FocalStar {
        /// γ.
        gamma: f32,
        /// β.
        beta: f32,
        /// α.
        alpha: Option<f32>,
    },
    /// [`QualityFocal::new`]`(beta)`.
    Quality {
        /// β.
        beta: f32,
    },
    /// [`Varifocal::new`]`(alpha, gamma, iou_weighted)`.
    Varifocal {
        /// α.
        alpha: f32,
        /// γ.
        gamma: f32,
        /// Positives weighted by their score.
        iou_weighted: bool,
    },
    /// [`Asymmetric::new`]`(gamma_pos, gamma_neg, clip)`.
    Asymmetric {
        /// γ+.
        gamma_pos: f32,
        /// γ−.
        gamma_neg: f32,
        /// The margin m.
        clip: f32,
    },
    /// [`SigmoidFocal::new`]`(gamma, alpha)?.with_poly1(epsilon)`.
    Poly1 {
        /// γ.
        gamma: f32,
        /// α.
        alpha: Option<f32>,
        /// ε.
        epsilon: f32,
    },
    /// [`SigmoidFocal::new`]`(gamma, alpha)?.with_reduced_threshold(threshold)`.
    Reduced {
        /// γ.
        gamma: f32,
        /// α.
        alpha: Option<f32>,
        /// The threshold.
        threshold: f32,
    },
    /// [`SigmoidFocal::new`]`(gamma, alpha)?.normalized()` (one element per call in the
    /// vectors).
    Normalized {
        /// γ.
        gamma: f32,
        /// α.
        alpha: Option<f32>,
    },
}

impl VariantConfig {
    /// The variant's name, as in the vector file.
    pub fn name(&self) -> &'static str {
        match self {
            VariantConfig::FocalStar { .. } => "focal_star",
            VariantConfig::Quality { .. } => "quality",
            VariantConfig::Varifocal { .. } => "varifocal",
            VariantConfig::Asymmetric { .. } => "asymmetric",
            VariantConfig::Poly1 { .. } => "poly1",
            VariantConfig::Reduced { .. } => "reduced",
            VariantConfig::Normalized { .. } => "normalized",
        }
    }

    /// Whether every exponent of the configuration is an integer (where the 16-ULP promise
    /// holds).
    pub fn integer_exponents(&self) -> bool {
        let int = |v: f32| v == (v as i32) as f32;
        match *self {
            VariantConfig::FocalStar { .. } => true,
            VariantConfig::Quality { beta } => int(beta),
            VariantConfig::Varifocal { gamma, .. } => int(gamma),
            VariantConfig::Asymmetric {
                gamma_pos,
                gamma_neg,
                ..
            } => int(gamma_pos) && int(gamma_neg),
            VariantConfig::Poly1 { gamma, .. }
            | VariantConfig::Reduced { gamma, .. }
            | VariantConfig::Normalized { gamma, .. } => int(gamma),
        }
    }

    /// Runs `kernel` on `x`, `t`: each element's loss into `loss` (`loss_per_element`) and
    /// the gradient of the sum into `grad` (`loss_and_grad`); returns the summed loss.
    pub fn run(
        &self,
        kernel: Kernel,
        x: &[f32],
        t: &[f32],
        loss: &mut [f32],
        grad: &mut [f32],
    ) -> Result<f32, FocalError> {
        let red = Reduction::Sum;
        match *self {
            VariantConfig::FocalStar { gamma, beta, alpha } => {
                let l = FocalStar::new(gamma, beta, alpha)?.with_kernel(kernel);
                l.loss_per_element(x, t, loss)?;
                l.loss_and_grad(x, t, red, grad)
            }
            VariantConfig::Quality { beta } => {
                let l = QualityFocal::new(beta)?.with_kernel(kernel);
                l.loss_per_element(x, t, loss)?;
                l.loss_and_grad(x, t, red, grad)
            }
            VariantConfig::Varifocal {
                alpha,
                gamma,
                iou_weighted,
            } => {
                let l = Varifocal::new(alpha, gamma, iou_weighted)?.with_kernel(kernel);
                l.loss_per_element(x, t, loss)?;
                l.loss_and_grad(x, t, red, grad)
            }
            VariantConfig::Asymmetric {
                gamma_pos,
                gamma_neg,
                clip,
            } => {
                let l = Asymmetric::new(gamma_pos, gamma_neg, clip)?.with_kernel(kernel);
                l.loss_per_element(x, t, loss)?;
                l.loss_and_grad(x, t, red, grad)
            }
            VariantConfig::Poly1 { .. }
            | VariantConfig::Reduced { .. }
            | VariantConfig::Normalized { .. } => {
                let l = self.extended()?.with_kernel(kernel);
                l.loss_per_element(x, t, loss)?;
                l.loss_and_grad(x, t, red, grad)
            }
        }
    }

    /// The [`ExtendedSigmoidFocal`] of a `Poly1`, `Reduced` or `Normalized` configuration
    /// (for any other, the plain focal loss with γ 2 normalised: not used).
    pub fn extended(&self) -> Result<ExtendedSigmoidFocal, FocalError> {
        match *self {
            VariantConfig::Poly1 {
                gamma,
                alpha,
                epsilon,
            } => SigmoidFocal::new(gamma, alpha)?.with_poly1(epsilon),
            VariantConfig::Reduced {
                gamma,
                alpha,
                threshold,
            } => SigmoidFocal::new(gamma, alpha)?.with_reduced_threshold(threshold),
            VariantConfig::Normalized { gamma, alpha } => {
                Ok(SigmoidFocal::new(gamma, alpha)?.normalized())
            }
            _ => Ok(SigmoidFocal::new(2.0, None)?.normalized()),
        }
    }
}

/// The accuracy bound of the variants' reference vectors, in ULP of their scales: 16 where
/// every exponent is an integer; the measured worst, rounded up, otherwise (see
/// tests/suite/variant_accuracy.rs).
pub fn variant_bound(config: &VariantConfig) -> f64 {
    if config.integer_exponents() {
        SIGMOID_BOUND
    } else {
        VARIANT_FRACTIONAL_BOUND
    }
}

/// The pinned bound of the variants with a fractional exponent.
pub const VARIANT_FRACTIONAL_BOUND: f64 = 16.0;

/// One row of `tests/data/variant_reference.csv` (inputs exact in `f32`).
#[derive(Debug, Clone, Copy)]
pub struct VariantVector {
    /// The variant and its hyper-parameters.
    pub config: VariantConfig,
    /// The logit.
    pub logit: f32,
    /// The target.
    pub target: f32,
    /// The reference loss.
    pub loss: f64,
    /// The reference gradient.
    pub grad: f64,
    /// The magnitude the loss's error is relative to.
    pub loss_scale: f64,
    /// The magnitude the gradient's error is relative to.
    pub grad_scale: f64,
}

/// Runs `kernel` on one variant vector and checks loss and gradient against the bound.
pub fn check_variant(v: &VariantVector, kernel: Kernel, worst: &mut Worst) -> Result<(), Miss> {
    let (x, t) = ([v.logit], [v.target]);
    let (mut loss, mut grad) = ([0.0f32], [0.0f32]);
    v.config
        .run(kernel, &x, &t, &mut loss, &mut grad)
        .map_err(Miss::Rejected)?;
    let bound = variant_bound(&v.config);
    compare(Quantity::Loss, loss[0], v.loss, v.loss_scale, bound, worst)?;
    compare(
        Quantity::Grad(0),
        grad[0],
        v.grad,
        v.grad_scale,
        bound,
        worst,
    )
}
