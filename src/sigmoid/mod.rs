//! Binary and multi-label focal loss on sigmoid probabilities.

pub(crate) mod math;
mod options;
pub(crate) mod run;

pub use options::{ExtendedSigmoidFocal, NORMALIZER_MIN};

use crate::error::FocalError;
use crate::focusing::Focusing;
use crate::sink::{Gradient, Losses, Sink, SumOnly};
use crate::target::BinaryTarget;
use crate::{Kernel, Reduction};
use math::Focal;
use run::{Pass, run};

/// Sigmoid focal loss, `FL = α_t · (1 − p_t)^γ · BCE`, with torchvision's
/// `sigmoid_focal_loss` semantics: `p = σ(x)`, `p_t = p·t + (1−p)(1−t)`,
/// `α_t = α·t + (1−α)(1−t)` (1 when alpha is `None`).
///
/// γ = 0 with alpha `None` is exactly binary cross-entropy with logits. The configuration is
/// small and `Copy`; validation happens once, when it is built.
///
/// [`new`](Self::new) takes `(gamma, alpha)`, the reverse of torchvision's
/// `sigmoid_focal_loss(…, alpha, gamma)`; to name each hyper-parameter, start from a preset
/// and set them by name: `SigmoidFocal::RETINANET.with_gamma(3.0)?.with_alpha(None)?`.
///
/// ```
/// use focal_loss::{Reduction, SigmoidFocal};
/// let fl = SigmoidFocal::RETINANET.with_gamma(2.0)?.with_alpha(Some(0.25))?;
/// let logits = [3.0f32, -1.5, 0.2, -4.0];
/// let targets = [1.0f32, 0.0, 1.0, 0.0];
/// let mut grad = [0.0f32; 4];
/// let loss = fl.loss_and_grad(&logits, &targets, Reduction::Mean, &mut grad)?;
/// assert!(loss > 0.0 && grad[0] < 0.0 && grad[1] > 0.0);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
#[derive(Clone, Copy, PartialEq)]
pub struct SigmoidFocal {
    gamma: f32,
    alpha: Option<f32>,
    focusing: Focusing,
    kernel: Kernel,
}

/// [`SigmoidFocal::RETINANET`]: γ = 2, α = 0.25.
///
/// ```
/// assert_eq!(focal_loss::SigmoidFocal::default(), focal_loss::SigmoidFocal::RETINANET);
/// ```
impl Default for SigmoidFocal {
    fn default() -> Self {
        SigmoidFocal::RETINANET
    }
}

/// The hyper-parameters as given (γ as a number, not the internal evaluation strategy).
///
/// ```
/// assert_eq!(
///     format!("{:?}", focal_loss::SigmoidFocal::RETINANET),
///     "SigmoidFocal { gamma: 2.0, alpha: Some(0.25), kernel: Simd }"
/// );
/// ```
impl core::fmt::Debug for SigmoidFocal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SigmoidFocal")
            .field("gamma", &self.gamma)
            .field("alpha", &self.alpha)
            .field("kernel", &self.kernel)
            .finish()
    }
}

/// The same fields as `Debug`.
#[cfg(feature = "defmt")]
impl defmt::Format for SigmoidFocal {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(
            f,
            "SigmoidFocal {{ gamma: {=f32}, alpha: {}, kernel: {} }}",
            self.gamma,
            self.alpha,
            self.kernel
        );
    }
}

impl SigmoidFocal {
    /// Standard detection, RetinaNet's default: γ = 2, α = 0.25.
    ///
    /// ```
    /// let fl = focal_loss::SigmoidFocal::RETINANET;
    /// assert_eq!((fl.gamma(), fl.alpha()), (2.0, Some(0.25)));
    /// ```
    pub const RETINANET: Self = Self::preset(2, Some(0.25));

    /// Mild imbalance: γ = 1, α = 0.5 (slight focusing).
    ///
    /// ```
    /// let fl = focal_loss::SigmoidFocal::MILD_IMBALANCE;
    /// assert_eq!((fl.gamma(), fl.alpha()), (1.0, Some(0.5)));
    /// ```
    pub const MILD_IMBALANCE: Self = Self::preset(1, Some(0.5));

    /// Extreme imbalance (medical images, small objects): γ = 4, α = 0.1.
    ///
    /// The usual range is γ ∈ [3, 5] with α = 0.1; 4 is its middle and, being an integer,
    /// takes the exact product path for `(1 − p_t)^γ`. For another γ use
    /// [`new`](Self::new).
    ///
    /// ```
    /// let fl = focal_loss::SigmoidFocal::EXTREME_IMBALANCE;
    /// assert_eq!((fl.gamma(), fl.alpha()), (4.0, Some(0.1)));
    /// ```
    pub const EXTREME_IMBALANCE: Self = Self::preset(4, Some(0.1));

    /// Balanced data: γ = 0, α = 0.5.
    ///
    /// Note this is **0.5 × cross-entropy**, not cross-entropy: with α = 0.5 both classes are
    /// weighted by one half. For plain binary cross-entropy use `new(0.0, None)`.
    ///
    /// ```
    /// use focal_loss::{Reduction, SigmoidFocal};
    /// let (x, t) = ([0.3f32], [1.0f32]);
    /// let half = SigmoidFocal::BALANCED.loss(&x, &t, Reduction::Sum)?;
    /// let bce = SigmoidFocal::new(0.0, None)?.loss(&x, &t, Reduction::Sum)?;
    /// assert_eq!(half, 0.5 * bce);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const BALANCED: Self = Self::preset(0, Some(0.5));

    /// A preset: an integer γ, whose focusing needs no split (so it is `const`).
    const fn preset(gamma: u8, alpha: Option<f32>) -> Self {
        SigmoidFocal {
            gamma: gamma as f32,
            alpha,
            focusing: Focusing::Integer(gamma),
            kernel: Kernel::Simd,
        }
    }

    /// A sigmoid focal loss with focusing parameter `gamma` (finite, >= 0) and balancing
    /// weight `alpha` for the positive class (in [0, 1]; `None` for no α weighting).
    ///
    /// ```
    /// use focal_loss::{FocalError, SigmoidFocal};
    /// assert!(SigmoidFocal::new(0.5, None).is_ok());
    /// assert_eq!(
    ///     SigmoidFocal::new(2.0, Some(1.5)),
    ///     Err(FocalError::InvalidAlpha { alpha: 1.5 })
    /// );
    /// ```
    pub fn new(gamma: f32, alpha: Option<f32>) -> Result<Self, FocalError> {
        if !(gamma.is_finite() && gamma >= 0.0) {
            return Err(FocalError::InvalidGamma { gamma });
        }
        if let Some(alpha) = alpha.filter(|a| !(0.0..=1.0).contains(a)) {
            return Err(FocalError::InvalidAlpha { alpha });
        }
        Ok(SigmoidFocal {
            gamma,
            alpha,
            focusing: Focusing::of(gamma),
            kernel: Kernel::Simd,
        })
    }

    /// The same loss with focusing parameter `gamma` (finite, >= 0).
    ///
    /// ```
    /// use focal_loss::{FocalError, SigmoidFocal};
    /// let fl = SigmoidFocal::RETINANET.with_gamma(3.0)?;
    /// assert_eq!((fl.gamma(), fl.alpha()), (3.0, Some(0.25)));
    /// assert!(matches!(fl.with_gamma(f32::NAN), Err(FocalError::InvalidGamma { .. })));
    /// # Ok::<(), FocalError>(())
    /// ```
    pub fn with_gamma(self, gamma: f32) -> Result<Self, FocalError> {
        Ok(SigmoidFocal::new(gamma, self.alpha)?.with_kernel(self.kernel))
    }

    /// The same loss with balancing weight `alpha` (in [0, 1]; `None` for no α weighting).
    ///
    /// ```
    /// use focal_loss::{FocalError, SigmoidFocal};
    /// let fl = SigmoidFocal::RETINANET.with_alpha(None)?;
    /// assert_eq!((fl.gamma(), fl.alpha()), (2.0, None));
    /// assert_eq!(fl.with_alpha(Some(2.0)), Err(FocalError::InvalidAlpha { alpha: 2.0 }));
    /// # Ok::<(), FocalError>(())
    /// ```
    pub fn with_alpha(self, alpha: Option<f32>) -> Result<Self, FocalError> {
        Ok(SigmoidFocal::new(self.gamma, alpha)?.with_kernel(self.kernel))
    }

    /// The same loss computed by `kernel` ([`Kernel::Simd`] by default).
    ///
    /// ```
    /// use focal_loss::{Kernel, SigmoidFocal};
    /// let fl = SigmoidFocal::RETINANET.with_kernel(Kernel::Libm);
    /// assert_eq!(fl.kernel(), Kernel::Libm);
    /// ```
    pub const fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// The focusing parameter γ.
    ///
    /// ```
    /// assert_eq!(focal_loss::SigmoidFocal::RETINANET.gamma(), 2.0);
    /// ```
    pub const fn gamma(&self) -> f32 {
        self.gamma
    }

    /// The balancing weight α of the positive class, if any.
    ///
    /// ```
    /// assert_eq!(focal_loss::SigmoidFocal::RETINANET.alpha(), Some(0.25));
    /// ```
    pub const fn alpha(&self) -> Option<f32> {
        self.alpha
    }

    /// The kernel that evaluates the loss.
    ///
    /// ```
    /// use focal_loss::{Kernel, SigmoidFocal};
    /// assert_eq!(SigmoidFocal::RETINANET.kernel(), Kernel::Simd);
    /// ```
    pub const fn kernel(&self) -> Kernel {
        self.kernel
    }

    fn pass(&self) -> Pass<Focal> {
        Pass {
            kernel: self.kernel,
            alpha: self.alpha,
            formula: Focal {
                focusing: self.focusing,
                gamma: self.gamma,
            },
        }
    }

    /// Runs a reducing pass into the sink `sink(1 / divisor)` ([`SumOnly`] or a
    /// [`Gradient`] with that scale) and applies the reduction.
    fn reduce<T: BinaryTarget, S: Sink, const WEIGHTED: bool>(
        &self,
        logits: &[f32],
        targets: &[T],
        weights: &[f32],
        reduction: Reduction,
        sink: impl FnOnce(f32) -> S,
    ) -> Result<f32, FocalError> {
        run::reduce::<_, T, S, WEIGHTED>(self.pass(), logits, targets, weights, reduction, sink)
    }

    /// The reduced loss.
    ///
    /// `targets` are `f32` in [0, 1] or `u8` 0 / 1, one per logit.
    ///
    /// ```
    /// use focal_loss::{Reduction, SigmoidFocal};
    /// // BCE at p_t = 0.5 is ln 2; γ = 2 scales it by (1 − 0.5)² = 0.25.
    /// let fl = SigmoidFocal::new(2.0, None)?;
    /// let loss = fl.loss(&[0.0f32], &[1u8], Reduction::Mean)?;
    /// assert!((loss - 0.25 * core::f32::consts::LN_2).abs() < 1e-7);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss<T: BinaryTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        reduction: Reduction,
    ) -> Result<f32, FocalError> {
        self.reduce::<T, _, false>(logits, targets, &[], reduction, |_| SumOnly)
    }

    /// The reduced loss with a non-negative weight per element (mmdet's `weight`).
    ///
    /// `Reduction::Mean` still divides by the element count, as mmdet does; use
    /// `Reduction::MeanOver` for another normaliser. A zero weight makes the element
    /// contribute exactly 0, even where its loss is infinite.
    ///
    /// ```
    /// use focal_loss::{Reduction, SigmoidFocal};
    /// let fl = SigmoidFocal::RETINANET;
    /// let (x, t) = ([1.0f32, -2.0], [1u8, 1]);
    /// let only_first = fl.loss_weighted(&x, &t, &[1.0, 0.0], Reduction::Sum)?;
    /// assert_eq!(only_first, fl.loss(&x[..1], &t[..1], Reduction::Sum)?);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_weighted<T: BinaryTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        weights: &[f32],
        reduction: Reduction,
    ) -> Result<f32, FocalError> {
        self.reduce::<T, _, true>(logits, targets, weights, reduction, |_| SumOnly)
    }

    /// Writes each element's loss to `out` (same length as `logits`).
    ///
    /// On error the contents of `out` are unspecified.
    ///
    /// ```
    /// use focal_loss::SigmoidFocal;
    /// let mut out = [0.0f32; 3];
    /// SigmoidFocal::RETINANET.loss_per_element(&[5.0, 0.0, -5.0], &[1u8, 1, 1], &mut out)?;
    /// assert!(out[0] < out[1] && out[1] < out[2]);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_per_element<T: BinaryTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        out: &mut [f32],
    ) -> Result<(), FocalError> {
        run::<_, T, _, false>(self.pass(), logits, targets, &[], Losses(out)).map(|_| ())
    }

    /// Writes each element's weighted loss to `out`.
    ///
    /// ```
    /// use focal_loss::SigmoidFocal;
    /// let mut out = [0.0f32; 2];
    /// SigmoidFocal::RETINANET.loss_per_element_weighted(&[1.0, 1.0], &[0u8, 0], &[2.0, 0.0], &mut out)?;
    /// assert!(out[0] > 0.0 && out[1] == 0.0);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_per_element_weighted<T: BinaryTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        weights: &[f32],
        out: &mut [f32],
    ) -> Result<(), FocalError> {
        run::<_, T, _, true>(self.pass(), logits, targets, weights, Losses(out)).map(|_| ())
    }

    /// The reduced loss, and in `grad` (same length as `logits`) its gradient with respect to
    /// each logit, scaled consistently with `reduction`.
    ///
    /// The gradient is finite for every γ >= 0 and every logit, ±∞ included. On error the
    /// contents of `grad` are unspecified.
    ///
    /// ```
    /// use focal_loss::{Reduction, SigmoidFocal};
    /// let fl = SigmoidFocal::new(0.5, None)?;
    /// let mut grad = [0.0f32; 2];
    /// fl.loss_and_grad(&[40.0, f32::NEG_INFINITY], &[1u8, 1], Reduction::Sum, &mut grad)?;
    /// assert!(grad.iter().all(|g| g.is_finite()));
    /// assert_eq!(grad[1], -1.0);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_and_grad<T: BinaryTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        reduction: Reduction,
        grad: &mut [f32],
    ) -> Result<f32, FocalError> {
        self.reduce::<T, _, false>(logits, targets, &[], reduction, |scale| Gradient {
            grad,
            scale,
        })
    }

    /// [`loss_and_grad`](Self::loss_and_grad) with a non-negative weight per element.
    ///
    /// ```
    /// use focal_loss::{Reduction, SigmoidFocal};
    /// let mut grad = [0.0f32; 2];
    /// let fl = SigmoidFocal::RETINANET;
    /// fl.loss_and_grad_weighted(&[0.5, 0.5], &[1u8, 1], &[1.0, 0.0], Reduction::Sum, &mut grad)?;
    /// assert!(grad[0] < 0.0 && grad[1] == 0.0);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_and_grad_weighted<T: BinaryTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        weights: &[f32],
        reduction: Reduction,
        grad: &mut [f32],
    ) -> Result<f32, FocalError> {
        self.reduce::<T, _, true>(logits, targets, weights, reduction, |scale| Gradient {
            grad,
            scale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each preset is the loss `new` builds from its γ and α.
    #[test]
    fn presets_are_what_new_builds() {
        for preset in [
            SigmoidFocal::RETINANET,
            SigmoidFocal::MILD_IMBALANCE,
            SigmoidFocal::EXTREME_IMBALANCE,
            SigmoidFocal::BALANCED,
        ] {
            assert_eq!(
                Ok(preset),
                SigmoidFocal::new(preset.gamma(), preset.alpha())
            );
        }
    }
}
