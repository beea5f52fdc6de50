//! Varifocal Loss (Zhang et al. 2021, VarifocalNet).

use super::{score_minus_sigmoid, soft_bce};
use crate::error::FocalError;
use crate::focusing::Focusing;
use crate::kernel_math::KernelMath;
use crate::sigmoid::math::{hard, logistic};
use crate::sigmoid::run::{Formula, Pass};
use crate::{Kernel, Reduction};

/// Varifocal Loss, from Zhang et al. 2021 ("VarifocalNet: An IoU-aware Dense Object
/// Detector"), as mmdet's `varifocal_loss` computes it:
///
/// `VFL = BCE(x, q) · w`, with `BCE(x, q) = q·softplus(−x) + (1 − q)·softplus(x)` and `q` the
/// IoU-aware score in [0, 1]: where `q > 0`, `w = q` (`iou_weighted`) or 1; where `q = 0`,
/// `w = α·σ(x)^γ`, so the negatives take the focal loss's down-weighting and the positives
/// none. mmdet's defaults: α = 0.75, γ = 2, `iou_weighted` true. As in mmdet, the gradient
/// flows through `σ(x)^γ` (it is not detached).
///
/// The negatives are α times the α-free focal loss of a 0 target (its formulas, so the same
/// exactly carried `σ(x)^γ`); the positives' gradient `w·(σ(x) − q)` is formed from the
/// smaller of σ(x) and σ(−x) (see [`QualityFocal`](crate::QualityFocal)).
///
/// ```
/// use focal_loss::{Reduction, Varifocal};
/// let vfl = Varifocal::new(0.75, 2.0, true)?;
/// let (x, q) = ([1.5f32, -2.0], [0.8f32, 0.0]);
/// let mut grad = [0.0f32; 2];
/// let loss = vfl.loss_and_grad(&x, &q, Reduction::Sum, &mut grad)?;
/// assert!(loss > 0.0 && grad[0] > 0.0 && grad[1] > 0.0);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Varifocal {
    alpha: f32,
    gamma: f32,
    iou_weighted: bool,
    focusing: Focusing,
    kernel: Kernel,
}

impl Varifocal {
    /// mmdet's defaults: α = 0.75, γ = 2, IoU-weighted positives.
    ///
    /// ```
    /// use focal_loss::Varifocal;
    /// assert_eq!(Ok(Varifocal::MMDET), Varifocal::new(0.75, 2.0, true));
    /// ```
    pub const MMDET: Self = Varifocal {
        alpha: 0.75,
        gamma: 2.0,
        iou_weighted: true,
        focusing: Focusing::Integer(2),
        kernel: Kernel::Simd,
    };

    /// Varifocal Loss with the negatives' weight `alpha` (in [0, 1]), their focusing
    /// parameter `gamma` (finite, >= 0) and whether positives are weighted by their score.
    ///
    /// ```
    /// use focal_loss::{FocalError, Varifocal};
    /// assert_eq!(Varifocal::new(1.5, 2.0, true), Err(FocalError::InvalidAlpha { alpha: 1.5 }));
    /// assert_eq!(Varifocal::new(0.75, -2.0, true), Err(FocalError::InvalidGamma { gamma: -2.0 }));
    /// ```
    pub fn new(alpha: f32, gamma: f32, iou_weighted: bool) -> Result<Self, FocalError> {
        if !(0.0..=1.0).contains(&alpha) {
            return Err(FocalError::InvalidAlpha { alpha });
        }
        if !(gamma.is_finite() && gamma >= 0.0) {
            return Err(FocalError::InvalidGamma { gamma });
        }
        Ok(Varifocal {
            alpha,
            gamma,
            iou_weighted,
            focusing: Focusing::of(gamma),
            kernel: Kernel::Simd,
        })
    }

    /// The same loss computed by `kernel` ([`Kernel::Simd`] by default).
    ///
    /// ```
    /// use focal_loss::{Kernel, Varifocal};
    /// assert_eq!(Varifocal::MMDET.with_kernel(Kernel::Libm).kernel(), Kernel::Libm);
    /// ```
    pub const fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// The negatives' weight α.
    ///
    /// ```
    /// assert_eq!(focal_loss::Varifocal::MMDET.alpha(), 0.75);
    /// ```
    pub const fn alpha(&self) -> f32 {
        self.alpha
    }

    /// The negatives' focusing parameter γ.
    ///
    /// ```
    /// assert_eq!(focal_loss::Varifocal::MMDET.gamma(), 2.0);
    /// ```
    pub const fn gamma(&self) -> f32 {
        self.gamma
    }

    /// Whether positives are weighted by their score `q` (else by 1).
    ///
    /// ```
    /// assert!(focal_loss::Varifocal::MMDET.iou_weighted());
    /// ```
    pub const fn iou_weighted(&self) -> bool {
        self.iou_weighted
    }

    /// The kernel that evaluates the loss.
    ///
    /// ```
    /// use focal_loss::{Kernel, Varifocal};
    /// assert_eq!(Varifocal::MMDET.kernel(), Kernel::Simd);
    /// ```
    pub const fn kernel(&self) -> Kernel {
        self.kernel
    }

    fn pass(&self) -> Pass<Vari> {
        Pass {
            kernel: self.kernel,
            alpha: None,
            formula: Vari {
                focusing: self.focusing,
                gamma: self.gamma,
                alpha: self.alpha,
                iou_weighted: self.iou_weighted,
            },
        }
    }

    /// The reduced loss; `targets` are the IoU-aware scores `q` in [0, 1], one per logit.
    ///
    /// ```
    /// use focal_loss::{Reduction, Varifocal};
    /// // A negative at x = 0: α·σ(0)^γ·ln 2 = 0.75 · 0.25 · ln 2.
    /// let loss = Varifocal::MMDET.loss(&[0.0f32], &[0.0f32], Reduction::Mean)?;
    /// assert!((loss - 0.1875 * core::f32::consts::LN_2).abs() < 1e-7);
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
    /// use focal_loss::Varifocal;
    /// let mut out = [0.0f32; 3];
    /// Varifocal::MMDET.loss_per_element(&[-3.0, 0.0, 3.0], &[0.0f32, 0.0, 0.0], &mut out)?;
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
    /// each logit, scaled consistently with `reduction`. Finite at every logit, ±∞ included.
    /// On error the contents of `grad` are unspecified.
    ///
    /// ```
    /// use focal_loss::{Reduction, Varifocal};
    /// let vfl = Varifocal::new(0.75, 0.5, true)?;
    /// let mut grad = [0.0f32; 2];
    /// vfl.loss_and_grad(&[f32::INFINITY, -30.0], &[0.0f32, 0.9], Reduction::Sum, &mut grad)?;
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

/// VFL's element formula.
#[derive(Clone, Copy)]
struct Vari {
    focusing: Focusing,
    gamma: f32,
    alpha: f32,
    iou_weighted: bool,
}

impl Formula for Vari {
    #[inline(always)]
    fn eval<R: KernelMath>(&self, x: R, q: R, _always_hard: bool) -> (R, R) {
        let l = logistic(x);
        let (zero, one) = (R::splat(0.0), R::splat(1.0));
        let negative = q.eq(zero);
        let (neg_loss, neg_grad) = if R::any(negative) {
            let (loss, grad) = hard(&l, q.eq(one), self.focusing, self.gamma);
            if self.alpha == 0.0 {
                (zero, zero)
            } else {
                let alpha = R::splat(self.alpha);
                (alpha * loss, alpha * grad)
            }
        } else {
            (zero, zero)
        };
        if R::all(negative) {
            return (neg_loss, neg_grad);
        }
        // q = 1: BCE is softplus(−x) alone (`0·softplus(x)` would be NaN at x = +∞).
        let bce = R::select(q.eq(one), l.softplus_neg, soft_bce(&l, q));
        let d_bce = -score_minus_sigmoid(&l, q);
        let (pos_loss, pos_grad) = if self.iou_weighted {
            (q * bce, q * d_bce)
        } else {
            (bce, d_bce)
        };
        (
            R::select(negative, neg_loss, pos_loss),
            R::select(negative, neg_grad, pos_grad),
        )
    }
}
