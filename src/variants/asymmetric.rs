//! Asymmetric Loss (Ridnik et al. 2021).

use crate::error::FocalError;
use crate::exact::two_sum;
use crate::focusing::Focusing;
use crate::kernel_math::KernelMath;
use crate::sigmoid::math::{Logistic, hard, logistic};
use crate::sigmoid::run::{Formula, Pass};
use crate::target::BinaryTarget;
use crate::{Kernel, Reduction};

/// Asymmetric Loss for multi-label classification, from Ridnik et al. 2021 ("Asymmetric Loss
/// For Multi-Label Classification"), as the authors' `AsymmetricLoss` computes it (shipped by
/// timm as `AsymmetricLossMultiLabel`):
///
/// with `p = σ(x)`, positives `−(1 − p)^γ+ · log p`; negatives, with the shifted probability
/// `p_m = max(p − m, 0)` (the clip `m`), `−p_m^γ− · log(1 − p_m)`. timm's defaults:
/// γ+ = 1, γ− = 4, m = 0.05.
///
/// Two differences from timm, both deliberate: no ε clamp (timm takes `log(max(·, 1e-8))`,
/// which caps the loss of a confidently wrong positive at 18.4·(1 − p)^γ+ and makes its
/// gradient 0 beyond x ≈ −18.4; here the loss and gradient are exact), and the gradient flows
/// through the focusing weight (timm's `disable_torch_grad_focal_loss` off, its default).
///
/// Positives, and negatives with m = 0, are the α-free focal loss of a 1 / 0 target with γ+ /
/// γ− (its formulas: the same bits). With m > 0, `p − m` is an exact subtraction (Sterbenz) of
/// the rounded sigmoid (of `1 − m − σ(−x)` for m >= 1/2 and x >= 0), `log(1 − p_m)` is
/// `log d + r/d` with `d + r = 1 − p_m` exactly (never a `log` of a sum rounded near 1), and
/// `1 − p_m = σ(−x) + m` is never formed by subtraction. Targets are 0 / 1 (`f32` or `u8`);
/// an `f32` target in (0, 1) is [`FocalError::NonBinaryTarget`].
///
/// ```
/// use focal_loss::{Asymmetric, Reduction};
/// let asl = Asymmetric::TIMM;
/// let (x, t) = ([2.0f32, -1.0, -4.0], [1u8, 0, 0]);
/// let mut grad = [0.0f32; 3];
/// let loss = asl.loss_and_grad(&x, &t, Reduction::Sum, &mut grad)?;
/// // σ(−4) = 0.018 is below the clip 0.05: that negative costs nothing.
/// assert!(loss > 0.0 && grad[0] < 0.0 && grad[1] > 0.0 && grad[2] == 0.0);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Asymmetric {
    gamma_pos: f32,
    gamma_neg: f32,
    clip: f32,
    positive: Focusing,
    negative: Focusing,
    kernel: Kernel,
}

impl Asymmetric {
    /// timm's defaults: γ+ = 1, γ− = 4, clip 0.05.
    ///
    /// ```
    /// use focal_loss::Asymmetric;
    /// assert_eq!(Ok(Asymmetric::TIMM), Asymmetric::new(1.0, 4.0, 0.05));
    /// ```
    pub const TIMM: Self = Asymmetric {
        gamma_pos: 1.0,
        gamma_neg: 4.0,
        clip: 0.05,
        positive: Focusing::Integer(1),
        negative: Focusing::Integer(4),
        kernel: Kernel::Simd,
    };

    /// Asymmetric Loss with the positives' and negatives' focusing parameters `gamma_pos`,
    /// `gamma_neg` (finite, >= 0) and the probability margin `clip` (in [0, 1); 0 for none).
    ///
    /// ```
    /// use focal_loss::{Asymmetric, FocalError};
    /// assert_eq!(Asymmetric::new(0.0, -1.0, 0.05), Err(FocalError::InvalidGamma { gamma: -1.0 }));
    /// assert_eq!(Asymmetric::new(0.0, 4.0, 1.0), Err(FocalError::InvalidClip { clip: 1.0 }));
    /// ```
    pub fn new(gamma_pos: f32, gamma_neg: f32, clip: f32) -> Result<Self, FocalError> {
        for gamma in [gamma_pos, gamma_neg] {
            if !(gamma.is_finite() && gamma >= 0.0) {
                return Err(FocalError::InvalidGamma { gamma });
            }
        }
        if !(0.0..1.0).contains(&clip) {
            return Err(FocalError::InvalidClip { clip });
        }
        Ok(Asymmetric {
            gamma_pos,
            gamma_neg,
            clip,
            positive: Focusing::of(gamma_pos),
            negative: Focusing::of(gamma_neg),
            kernel: Kernel::Simd,
        })
    }

    /// The same loss computed by `kernel` ([`Kernel::Simd`] by default).
    ///
    /// ```
    /// use focal_loss::{Asymmetric, Kernel};
    /// assert_eq!(Asymmetric::TIMM.with_kernel(Kernel::Libm).kernel(), Kernel::Libm);
    /// ```
    pub const fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// The positives' focusing parameter γ+.
    ///
    /// ```
    /// assert_eq!(focal_loss::Asymmetric::TIMM.gamma_pos(), 1.0);
    /// ```
    pub const fn gamma_pos(&self) -> f32 {
        self.gamma_pos
    }

    /// The negatives' focusing parameter γ−.
    ///
    /// ```
    /// assert_eq!(focal_loss::Asymmetric::TIMM.gamma_neg(), 4.0);
    /// ```
    pub const fn gamma_neg(&self) -> f32 {
        self.gamma_neg
    }

    /// The probability margin m of the negatives.
    ///
    /// ```
    /// assert_eq!(focal_loss::Asymmetric::TIMM.clip(), 0.05);
    /// ```
    pub const fn clip(&self) -> f32 {
        self.clip
    }

    /// The kernel that evaluates the loss.
    ///
    /// ```
    /// use focal_loss::{Asymmetric, Kernel};
    /// assert_eq!(Asymmetric::TIMM.kernel(), Kernel::Simd);
    /// ```
    pub const fn kernel(&self) -> Kernel {
        self.kernel
    }

    fn pass(&self) -> Pass<Asym> {
        Pass {
            kernel: self.kernel,
            alpha: None,
            formula: Asym {
                positive: self.positive,
                gamma_pos: self.gamma_pos,
                negative: self.negative,
                gamma_neg: self.gamma_neg,
                clip: self.clip,
                not_clip: 1.0 - self.clip,
            },
        }
    }

    /// The reduced loss; `targets` are 0 / 1 (`f32` or `u8`), one per logit.
    ///
    /// ```
    /// use focal_loss::{Asymmetric, Reduction};
    /// // A positive at x = 0 with γ+ = 1: (1 − 1/2)·ln 2.
    /// let loss = Asymmetric::TIMM.loss(&[0.0f32], &[1u8], Reduction::Mean)?;
    /// assert!((loss - 0.5 * core::f32::consts::LN_2).abs() < 1e-7);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss<T: BinaryTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        reduction: Reduction,
    ) -> Result<f32, FocalError> {
        super::loss(self.pass(), logits, targets, reduction)
    }

    /// Writes each element's loss to `out` (same length as `logits`). On error the contents
    /// of `out` are unspecified.
    ///
    /// ```
    /// use focal_loss::Asymmetric;
    /// let mut out = [0.0f32; 3];
    /// Asymmetric::TIMM.loss_per_element(&[-1.0, 0.0, 1.0], &[0u8, 0, 0], &mut out)?;
    /// assert!(out[0] < out[1] && out[1] < out[2]);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_per_element<T: BinaryTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        out: &mut [f32],
    ) -> Result<(), FocalError> {
        super::loss_per_element(self.pass(), logits, targets, out)
    }

    /// The reduced loss, and in `grad` (same length as `logits`) its gradient with respect to
    /// each logit, scaled consistently with `reduction`. Finite at every logit, ±∞ included.
    /// On error the contents of `grad` are unspecified.
    ///
    /// ```
    /// use focal_loss::{Asymmetric, Reduction};
    /// let mut grad = [0.0f32; 2];
    /// Asymmetric::TIMM.loss_and_grad(&[-30.0, f32::INFINITY], &[1u8, 0], Reduction::Sum, &mut grad)?;
    /// assert!(grad[0] < -0.99 && grad[1] == 0.0);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_and_grad<T: BinaryTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        reduction: Reduction,
        grad: &mut [f32],
    ) -> Result<f32, FocalError> {
        super::loss_and_grad(self.pass(), logits, targets, reduction, grad)
    }
}

/// ASL's element formula.
#[derive(Clone, Copy)]
struct Asym {
    positive: Focusing,
    gamma_pos: f32,
    negative: Focusing,
    gamma_neg: f32,
    clip: f32,
    /// `1 − clip` (exact from 1/2 on).
    not_clip: f32,
}

impl Asym {
    /// The negatives with a margin `m > 0`: `L = P·N` with `P = p_m^γ` and
    /// `N = −log(1 − p_m)`, and `dL/dx = σ(x)σ(−x)·P·(γ·N/p_m + 1/(1 − p_m))` where
    /// `p > m`; 0 and 0 where `p <= m`.
    #[inline(always)]
    fn shifted<R: KernelMath>(&self, x: R, l: &Logistic<R>) -> (R, R) {
        let (zero, one) = (R::splat(0.0), R::splat(1.0));
        let m = R::splat(self.clip);
        let upper = x.ge(zero);
        // p − m, from the smaller of σ(x), σ(−x) where 1 − m is exact.
        let shifted = if self.clip >= 0.5 {
            R::select(upper, R::splat(self.not_clip) - l.sig_neg, l.sig - m)
        } else {
            l.sig - m
        };
        let above = zero.lt(shifted);
        let p_m = R::select(above, shifted, zero);
        // 1 − p_m = d + r exactly: from p_m (1 − p_m rounded, its error exact) where σ(x) is
        // the smaller sigmoid, else from σ(−x) + m (a two-sum).
        let from_sum = upper;
        let d_sub = one - p_m;
        let (d_sum, r_sum) = two_sum(l.sig_neg, m);
        let d = R::select(from_sum, d_sum, d_sub);
        let r = R::select(from_sum, r_sum, (one - d_sub) - p_m);
        let rd = one / d;
        let n = -(d.ln() + r * rd);
        let power = self.negative.power(p_m);
        let loss = R::select(above, power * n, zero);
        let per_p = R::select(above, R::splat(self.gamma_neg) * (n / p_m) + rd, zero);
        (loss, (l.sig * l.sig_neg) * (power * per_p))
    }
}

impl Formula for Asym {
    const BINARY_TARGETS: bool = true;

    #[inline(always)]
    fn eval<R: KernelMath>(&self, x: R, t: R, _always_hard: bool) -> (R, R) {
        let l = logistic(x);
        let positive = t.eq(R::splat(1.0));
        if R::all(positive) {
            return hard(&l, positive, self.positive, self.gamma_pos);
        }
        let (neg_loss, neg_grad) = if self.clip == 0.0 {
            hard(&l, positive, self.negative, self.gamma_neg)
        } else {
            self.shifted(x, &l)
        };
        if !R::any(positive) {
            return (neg_loss, neg_grad);
        }
        let (pos_loss, pos_grad) = hard(&l, positive, self.positive, self.gamma_pos);
        (
            R::select(positive, pos_loss, neg_loss),
            R::select(positive, pos_grad, neg_grad),
        )
    }
}
