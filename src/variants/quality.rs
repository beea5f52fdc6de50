//! Quality Focal Loss (Li et al. 2020, Generalized Focal Loss).

use super::{score_minus_sigmoid, soft_bce};
use crate::error::FocalError;
use crate::focusing::Focusing;
use crate::kernel_math::KernelMath;
use crate::sigmoid::math::{CE_CAP, hard, logistic};
use crate::sigmoid::run::{Formula, Pass};
use crate::{Kernel, Reduction};

/// Quality Focal Loss, from Li et al. 2020 ("Generalized Focal Loss"), as mmdet's
/// `quality_focal_loss` computes it with `use_sigmoid=True`:
///
/// `QFL = BCE(x, q) · |q − σ(x)|^β`, with `BCE(x, q) = q·softplus(−x) + (1 − q)·softplus(x)`
/// and `q` the quality (IoU) score in [0, 1]: mmdet's `(label, score)` pair is the element-wise
/// target matrix, the score at the label's class and 0 elsewhere. β = 2 by default.
///
/// mmdet sums over classes and then takes the mean over samples: `Reduction::Sum` divided by
/// the number of samples is `Reduction::MeanOver(samples)`, and its `avg_factor` is
/// `Reduction::MeanOver(avg_factor)`.
///
/// For `q` ∈ {0, 1} this is exactly the α-free focal loss with γ = β (the same formulas, so
/// the same bits as [`SigmoidFocal`](crate::SigmoidFocal)`::new(β, None)`). Between, `q − σ(x)`
/// is formed from the smaller of σ(x) and σ(−x), never from a σ(x) rounded near 1, so its error
/// is that of one rounded sigmoid; near `σ(x) = q` the factor is a small difference and has
/// only that absolute accuracy. Where `σ(x) = q` exactly the gradient is 0 for every β (the
/// derivative of `|·|^β` there is 0 for β > 1 and does not exist for β <= 1; mmdet's autograd
/// returns NaN there for β < 1).
///
/// ```
/// use focal_loss::{QualityFocal, Reduction};
/// let qfl = QualityFocal::new(2.0)?;
/// let (x, q) = ([1.5f32, -2.0, 0.0], [0.8f32, 0.0, 0.5]);
/// let mut grad = [0.0f32; 3];
/// let loss = qfl.loss_and_grad(&x, &q, Reduction::Sum, &mut grad)?;
/// assert!(loss > 0.0 && grad[1] > 0.0 && grad[2] == 0.0);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct QualityFocal {
    beta: f32,
    focusing: Focusing,
    kernel: Kernel,
}

impl QualityFocal {
    /// Quality Focal Loss with exponent `beta` (finite, >= 0; mmdet's default is 2).
    ///
    /// ```
    /// use focal_loss::{FocalError, QualityFocal};
    /// assert!(QualityFocal::new(2.0).is_ok());
    /// assert_eq!(QualityFocal::new(-1.0), Err(FocalError::InvalidBeta { beta: -1.0 }));
    /// ```
    pub fn new(beta: f32) -> Result<Self, FocalError> {
        if !(beta.is_finite() && beta >= 0.0) {
            return Err(FocalError::InvalidBeta { beta });
        }
        Ok(QualityFocal {
            beta,
            focusing: Focusing::of(beta),
            kernel: Kernel::Simd,
        })
    }

    /// The same loss computed by `kernel` ([`Kernel::Simd`] by default).
    ///
    /// ```
    /// use focal_loss::{Kernel, QualityFocal};
    /// let qfl = QualityFocal::new(2.0)?.with_kernel(Kernel::Libm);
    /// assert_eq!(qfl.kernel(), Kernel::Libm);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// The exponent β.
    ///
    /// ```
    /// assert_eq!(focal_loss::QualityFocal::new(2.0)?.beta(), 2.0);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn beta(&self) -> f32 {
        self.beta
    }

    /// The kernel that evaluates the loss.
    ///
    /// ```
    /// use focal_loss::{Kernel, QualityFocal};
    /// assert_eq!(QualityFocal::new(2.0)?.kernel(), Kernel::Simd);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn kernel(&self) -> Kernel {
        self.kernel
    }

    fn pass(&self) -> Pass<Quality> {
        Pass {
            kernel: self.kernel,
            alpha: None,
            formula: Quality {
                focusing: self.focusing,
                beta: self.beta,
            },
        }
    }

    /// The reduced loss; `targets` are the quality scores `q` in [0, 1], one per logit.
    ///
    /// ```
    /// use focal_loss::{QualityFocal, Reduction};
    /// // q = σ(x): the prediction is the target quality, the loss is 0.
    /// let loss = QualityFocal::new(2.0)?.loss(&[0.0f32], &[0.5f32], Reduction::Mean)?;
    /// assert_eq!(loss, 0.0);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss(
        &self,
        logits: &[f32],
        targets: &[f32],
        reduction: Reduction,
    ) -> Result<f32, FocalError> {
        super::loss(self.pass(), logits, targets, reduction)
    }

    /// Writes each element's loss to `out` (same length as `logits`). On error the contents
    /// of `out` are unspecified.
    ///
    /// ```
    /// use focal_loss::QualityFocal;
    /// let mut out = [0.0f32; 3];
    /// QualityFocal::new(2.0)?.loss_per_element(&[3.0, 0.0, -3.0], &[0.9f32, 0.9, 0.9], &mut out)?;
    /// assert!(out[0] < out[1] && out[1] < out[2]);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_per_element(
        &self,
        logits: &[f32],
        targets: &[f32],
        out: &mut [f32],
    ) -> Result<(), FocalError> {
        super::loss_per_element(self.pass(), logits, targets, out)
    }

    /// The reduced loss, and in `grad` (same length as `logits`) its gradient with respect to
    /// each logit, scaled consistently with `reduction`. Finite at every logit, ±∞ included,
    /// for every β >= 0. On error the contents of `grad` are unspecified.
    ///
    /// ```
    /// use focal_loss::{QualityFocal, Reduction};
    /// let qfl = QualityFocal::new(0.5)?;
    /// let mut grad = [0.0f32; 3];
    /// qfl.loss_and_grad(&[0.0, f32::INFINITY, -40.0], &[0.5f32, 0.3, 0.7], Reduction::Sum, &mut grad)?;
    /// assert!(grad.iter().all(|g| g.is_finite()));
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_and_grad(
        &self,
        logits: &[f32],
        targets: &[f32],
        reduction: Reduction,
        grad: &mut [f32],
    ) -> Result<f32, FocalError> {
        super::loss_and_grad(self.pass(), logits, targets, reduction, grad)
    }
}

/// QFL's element formula.
#[derive(Clone, Copy)]
struct Quality {
    focusing: Focusing,
    beta: f32,
}

impl Formula for Quality {
    /// With `D = |d|^β` and `d = q − σ(x)`: `dQFL/dx = −d·D − sign(d)·β·BCE·σ(x)σ(−x)·|d|^(β−1)`
    /// (the derivative of BCE is `σ(x) − q = −d`), with `|d|^(β−1)` as `D/|d|` (0 at `d = 0`)
    /// and the second term capped at `f32::MAX` (it is finite but may exceed the `f32` range
    /// for β < 1 at subnormal `d`).
    #[inline(always)]
    fn eval<R: KernelMath>(&self, x: R, q: R, always_hard: bool) -> (R, R) {
        let l = logistic(x);
        let (zero, one) = (R::splat(0.0), R::splat(1.0));
        let positive = q.eq(one);
        if always_hard {
            return hard(&l, positive, self.focusing, self.beta);
        }
        let is_hard = positive | q.eq(zero);
        if R::all(is_hard) {
            return hard(&l, positive, self.focusing, self.beta);
        }
        let d = score_minus_sigmoid(&l, q);
        let size = d.abs();
        let factor = self.focusing.power(size);
        let bce = soft_bce(&l, q);
        // At x = ±∞ the factor is |q| or |q − 1|, > 0: the loss is +∞ even where the factor
        // underflowed.
        let infinite = bce.eq(R::splat(f32::INFINITY));
        let soft_loss = R::select(infinite, bce, factor * bce);
        let ratio = R::select(size.eq(zero), zero, factor / size).cap(f32::MAX);
        let spread = R::splat(self.beta) * (bce.cap(CE_CAP) * (l.sig * l.sig_neg));
        let second = (spread * ratio).cap(f32::MAX);
        let soft_grad = -(d * factor) - R::select(d.ge(zero), second, -second);
        if !R::any(is_hard) {
            return (soft_loss, soft_grad);
        }
        let (hard_loss, hard_grad) = hard(&l, positive, self.focusing, self.beta);
        (
            R::select(is_hard, hard_loss, soft_loss),
            R::select(is_hard, hard_grad, soft_grad),
        )
    }
}
