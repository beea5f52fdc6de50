//! FL\*, the focal loss's alternative form (Lin et al. 2017, appendix A).

use super::finite_or_zero;
use crate::error::FocalError;
use crate::exact::{product_error, split, two_product, two_sum};
use crate::kernel_math::KernelMath;
use crate::sigmoid::run::{Formula, Pass};
use crate::target::BinaryTarget;
use crate::{Kernel, Reduction};

/// FL\*, the alternative form of the focal loss in appendix A of Lin et al. 2017 ("Focal
/// Loss for Dense Object Detection"), as fvcore's `sigmoid_focal_loss_star` computes it
/// (there β = 0):
///
/// `x_t = x·(2t − 1)`, `FL* = −log σ(γ·x_t + β) / γ`, times `α_t = α·t + (1 − α)(1 − t)`
/// when α is given (as in [`SigmoidFocal`](crate::SigmoidFocal)).
///
/// Its gradient is `dFL*/dx = −α_t·(2t − 1)·σ(−(γ·x_t + β))`: of the sign of `1 − 2t`, and
/// bounded by `α_t·|2t − 1|` at every logit. The argument `γ·x_t + β` is carried exactly (a
/// Dekker product and a two-sum) into `exp`, which would otherwise scale its rounding error
/// by its size (26 ULP in plain `f32`, 82 with soft targets). Targets are `f32` in [0, 1]
/// (soft targets as fvcore's formula takes them) or `u8` 0 / 1.
///
/// ```
/// use focal_loss::{FocalStar, Reduction};
/// let fs = FocalStar::new(2.0, 1.0, Some(0.25))?;
/// let (x, t) = ([2.0f32, -1.0], [1u8, 0]);
/// let mut grad = [0.0f32; 2];
/// let loss = fs.loss_and_grad(&x, &t, Reduction::Sum, &mut grad)?;
/// assert!(loss > 0.0 && grad[0] < 0.0 && grad[1] > 0.0);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FocalStar {
    gamma: f32,
    beta: f32,
    alpha: Option<f32>,
    kernel: Kernel,
}

impl FocalStar {
    /// FL\* with `gamma` (finite, > 0), `beta` (finite) and the positive class's weight
    /// `alpha` (in [0, 1], `None` for none). fvcore's defaults are γ = 1, β = 0, no α.
    ///
    /// ```
    /// use focal_loss::{FocalError, FocalStar};
    /// assert!(FocalStar::new(1.0, 0.0, None).is_ok());
    /// assert_eq!(
    ///     FocalStar::new(0.0, 0.0, None),
    ///     Err(FocalError::InvalidStarGamma { gamma: 0.0 })
    /// );
    /// assert_eq!(
    ///     FocalStar::new(1.0, f32::NAN, None).map_err(|e| matches!(e, FocalError::InvalidStarBeta { .. })),
    ///     Err(true)
    /// );
    /// ```
    pub fn new(gamma: f32, beta: f32, alpha: Option<f32>) -> Result<Self, FocalError> {
        if !(gamma.is_finite() && gamma > 0.0) {
            return Err(FocalError::InvalidStarGamma { gamma });
        }
        if !beta.is_finite() {
            return Err(FocalError::InvalidStarBeta { beta });
        }
        if let Some(alpha) = alpha.filter(|a| !(0.0..=1.0).contains(a)) {
            return Err(FocalError::InvalidAlpha { alpha });
        }
        Ok(FocalStar {
            gamma,
            beta,
            alpha,
            kernel: Kernel::Simd,
        })
    }

    /// The same loss computed by `kernel` ([`Kernel::Simd`] by default).
    ///
    /// ```
    /// use focal_loss::{FocalStar, Kernel};
    /// let fs = FocalStar::new(1.0, 0.0, None)?.with_kernel(Kernel::Libm);
    /// assert_eq!(fs.kernel(), Kernel::Libm);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// γ, the scale of the margin.
    ///
    /// ```
    /// assert_eq!(focal_loss::FocalStar::new(2.0, 1.0, None)?.gamma(), 2.0);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn gamma(&self) -> f32 {
        self.gamma
    }

    /// β, the shift of the margin.
    ///
    /// ```
    /// assert_eq!(focal_loss::FocalStar::new(2.0, 1.0, None)?.beta(), 1.0);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn beta(&self) -> f32 {
        self.beta
    }

    /// The positive class's weight α, if any.
    ///
    /// ```
    /// assert_eq!(focal_loss::FocalStar::new(2.0, 1.0, Some(0.25))?.alpha(), Some(0.25));
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn alpha(&self) -> Option<f32> {
        self.alpha
    }

    /// The kernel that evaluates the loss.
    ///
    /// ```
    /// use focal_loss::{FocalStar, Kernel};
    /// assert_eq!(FocalStar::new(1.0, 0.0, None)?.kernel(), Kernel::Simd);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn kernel(&self) -> Kernel {
        self.kernel
    }

    fn pass(&self) -> Pass<Star> {
        let (gamma_hi, gamma_lo) = split(self.gamma);
        Pass {
            kernel: self.kernel,
            alpha: self.alpha,
            formula: Star {
                gamma: self.gamma,
                gamma_hi,
                gamma_lo,
                beta: self.beta,
            },
        }
    }

    /// The reduced loss; `targets` are `f32` in [0, 1] or `u8` 0 / 1, one per logit.
    ///
    /// ```
    /// use focal_loss::{FocalStar, Reduction};
    /// // γ = 1, β = 0: FL* is binary cross-entropy, −log σ(x_t).
    /// let fs = FocalStar::new(1.0, 0.0, None)?;
    /// let loss = fs.loss(&[0.0f32], &[1u8], Reduction::Mean)?;
    /// assert!((loss - core::f32::consts::LN_2).abs() < 1e-7);
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
    /// use focal_loss::FocalStar;
    /// let mut out = [0.0f32; 3];
    /// FocalStar::new(2.0, 1.0, None)?.loss_per_element(&[3.0, 0.0, -3.0], &[1u8, 1, 1], &mut out)?;
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
    /// use focal_loss::{FocalStar, Reduction};
    /// let fs = FocalStar::new(2.0, 1.0, None)?;
    /// let mut grad = [0.0f32; 2];
    /// fs.loss_and_grad(&[f32::NEG_INFINITY, f32::INFINITY], &[1u8, 1], Reduction::Sum, &mut grad)?;
    /// assert_eq!(grad, [-1.0, 0.0]);
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

/// FL\*'s element formula: γ (split for Dekker's product) and β.
#[derive(Clone, Copy)]
struct Star {
    gamma: f32,
    gamma_hi: f32,
    gamma_lo: f32,
    beta: f32,
}

impl Star {
    /// `γ·z` as `(p, e)`: `p` rounded, `e` its exact error where that is finite (0 where
    /// `z` or `p` is too large for the split: there the margin is saturated).
    #[inline(always)]
    fn scaled<R: KernelMath>(&self, z: R) -> (R, R) {
        let p = R::splat(self.gamma) * z;
        let e = product_error(
            split(z),
            (R::splat(self.gamma_hi), R::splat(self.gamma_lo)),
            p,
        );
        (p, finite_or_zero(e))
    }

    /// `(−log σ(u) / γ, σ(−u))` for the margin `u = hi + lo` (`lo` finite and small).
    #[inline(always)]
    fn of_margin<R: KernelMath>(&self, hi: R, lo: R) -> (R, R) {
        let one = R::splat(1.0);
        let non_negative = hi.ge(R::splat(0.0));
        // −|u| = −|hi| − sign(hi)·lo
        let e = R::exp_sum(
            R::select(non_negative, -hi, hi),
            R::select(non_negative, -lo, lo),
        );
        let d = one + e;
        let rd = one / d;
        let tail = R::log1p_unit(e, d, rd);
        // −log σ(u) = softplus(−u): the tail for u >= 0, −u + tail below.
        let softplus = R::select(non_negative, tail, (tail - lo) - hi);
        let sig_neg = R::select(non_negative, e * rd, rd);
        (softplus / R::splat(self.gamma), sig_neg)
    }

    /// Targets 0 / 1: `u = ±γ·x + β`.
    #[inline(always)]
    fn hard<R: KernelMath>(&self, x: R, positive: R::Mask) -> (R, R) {
        let z = R::select(positive, x, -x);
        let (p, e) = self.scaled(z);
        let (hi, e2) = two_sum(p, R::splat(self.beta));
        let (loss, sig_neg) = self.of_margin(hi, finite_or_zero(e2) + e);
        (loss, R::select(positive, -sig_neg, sig_neg))
    }

    /// Soft targets: `u = γ·x·(2t − 1) + β` with `2t − 1` a two-sum, `γ·x` a Dekker product,
    /// their product another (`(p + e)(s + s_lo) ≈ p·s + (p·s_lo + e·s)`) and β added by a
    /// two-sum. At `t = 1/2` the margin is β whatever `x` is (`∞·0` is taken as 0).
    #[inline(always)]
    fn soft<R: KernelMath>(&self, x: R, t: R) -> (R, R) {
        let zero = R::splat(0.0);
        let (s, s_lo) = two_sum(t + t, R::splat(-1.0));
        let (p, e) = self.scaled(x);
        let (q, f) = two_product(p, s);
        let centre = s.eq(zero);
        let q = R::select(centre, zero, q);
        let (hi, g) = two_sum(q, R::splat(self.beta));
        let lo = finite_or_zero(((g + f) + p * s_lo) + e * s);
        let lo = R::select(centre, zero, lo);
        let (loss, sig_neg) = self.of_margin(hi, lo);
        (loss, -(s * sig_neg))
    }
}

impl Formula for Star {
    #[inline(always)]
    fn eval<R: KernelMath>(&self, x: R, t: R, always_hard: bool) -> (R, R) {
        let positive = t.eq(R::splat(1.0));
        if always_hard {
            return self.hard(x, positive);
        }
        let is_hard = positive | t.eq(R::splat(0.0));
        if R::all(is_hard) {
            return self.hard(x, positive);
        }
        let (soft_loss, soft_grad) = self.soft(x, t);
        if !R::any(is_hard) {
            return (soft_loss, soft_grad);
        }
        let (hard_loss, hard_grad) = self.hard(x, positive);
        (
            R::select(is_hard, hard_loss, soft_loss),
            R::select(is_hard, hard_grad, soft_grad),
        )
    }
}
