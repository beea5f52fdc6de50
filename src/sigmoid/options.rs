//! Options on the sigmoid focal loss: Poly-1 (Leng et al. 2022), the reduced focal loss
//! (Sergievskiy & Ponamarev 2019) and the normalised focal loss (segmentation_models_pytorch),
//! as [`ExtendedSigmoidFocal`], built from a [`SigmoidFocal`] by its `with_poly1`,
//! `with_reduced_threshold` and `normalized`.
//!
//! The element formulas are written once over [`KernelMath`] for both kernels, on the same
//! [`Logistic`] values as the focal loss: nothing forms `1 − σ(x)` by subtraction.
//!
//! - Poly-1: `α_t·q^γ·CE + ε·q^(γ+1)` with `q = 1 − p_t`, evaluated as `q^γ·P` with
//!   `P = α_t·(CE − q) + (α_t + ε)·q`. `CE − q = −ln(1 − q) − q` (which cancels completely in
//!   `f32` as `q → 0`) is computed without the cancellation: with `e = e^−|z|` at margin
//!   `z >= 0`, `q = e/(1+e)` and `s = e/(2+e)`, `−ln(1 − q) = ln(1 + e) = 2·atanh(s)`, so
//!   `CE − q = q·s + 2s³·(1/3 + s²/5 + s⁴/7 + …)`, a sum of positive terms (`s <= 1/3`, eight
//!   terms reach `2^−27` of the series); at `z < 0`, `CE >= ln 2 + |z|` and `q <= 1`, so
//!   `CE − q` loses at most a factor 3.6 (at `z = 0`) of relative accuracy. With `α_t + ε >= 0`
//!   (ε = −1 with α `None`, the paper's case) every term of `P` and of its derivative is
//!   non-negative; below that the loss crosses zero and is accurate relative to its terms.
//! - Reduced: the factor is 1 where `p_t < th` and `th^−γ·q^γ` elsewhere, the branch decided
//!   on `q > 1 − th` (`1 − th` exact, Sterbenz) for `th >= 1/2` and on `p_t < th` below; both
//!   `q` and `p_t` come from `e^−|x|` without a subtraction, so the branch does not flip where
//!   a rounded `p_t` reaches 1.
//! - Normalised: the normaliser `S = max(Σ_j m_j, 10^−6)` (the modulating factors `m_j`, as
//!   smp's `focal_term.sum().clamp_min(1e-6)`) is a pass of its own; each element's loss is
//!   divided by `S`, and the gradient adds `−(Σ_i w_i ℓ_i)/S² · dm_k/dx_k` (zero where the
//!   clamp holds, and where that sum is infinite), which a third pass (the sum
//!   `Σ_i w_i ℓ_i`) makes possible.

use super::SigmoidFocal;
use super::math::{CE_CAP, Logistic, logistic};
use super::run::{self, Formula, Pass};
use crate::error::FocalError;
use crate::focusing::Focusing;
use crate::kernel_math::KernelMath;
use crate::reduced::{Reduced, valid_threshold};
use crate::sink::{Gradient, Losses, Sink, SumOnly, Writes};
use crate::target::BinaryTarget;
use crate::total::Divisor;
use crate::{Kernel, Reduction};

/// The smallest normaliser of [`ExtendedSigmoidFocal::normalized`]: the sum of the modulating
/// factors is clamped at this value, as segmentation_models_pytorch's `FocalLoss` clamps
/// `focal_term.sum()` at `eps = 1e-6`.
///
/// ```
/// assert_eq!(focal_loss::NORMALIZER_MIN, 1e-6);
/// ```
pub const NORMALIZER_MIN: f32 = 1.0e-6;

/// A [`SigmoidFocal`] with the options of the focal family that change its formula: Poly-1
/// (Leng et al. 2022, *PolyLoss*), the reduced focal loss (Sergievskiy & Ponamarev 2019,
/// segmentation_models_pytorch's `reduced_threshold`) and the normalised focal loss
/// (segmentation_models_pytorch's `normalized=True`).
///
/// Built by [`SigmoidFocal::with_poly1`], [`SigmoidFocal::with_reduced_threshold`] and
/// [`SigmoidFocal::normalized`] (and the same methods here, to combine them); a `Copy`
/// configuration, validated when built, with `SigmoidFocal`'s entry points. A plain
/// `SigmoidFocal` keeps its own code (and flash): nothing of this type is linked unless it is
/// used.
///
/// ```
/// use focal_loss::{Reduction, SigmoidFocal};
/// let fl = SigmoidFocal::new(2.0, Some(0.25))?.with_poly1(1.0)?;
/// let (x, t) = ([0.5f32, -2.0], [1u8, 0]);
/// let mut grad = [0.0f32; 2];
/// let loss = fl.loss_and_grad(&x, &t, Reduction::Mean, &mut grad)?;
/// assert!(loss > SigmoidFocal::new(2.0, Some(0.25))?.loss(&x, &t, Reduction::Mean)?);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExtendedSigmoidFocal {
    base: SigmoidFocal,
    epsilon: Option<f32>,
    threshold: Option<f32>,
    normalized: bool,
}

impl SigmoidFocal {
    /// Poly-1 (Leng et al. 2022, *PolyLoss*, the paper's reference code for the focal form):
    /// `FL + ε·(1 − p_t)^(γ+1)`, ε >= −1 and finite. α multiplies the focal term only;
    /// weights multiply both. ε = 0 is the focal loss bit for bit.
    ///
    /// Exact where the plain formula cancels: at ε = −1 (with α `None`) and γ = 0 the loss is
    /// `−ln p_t − (1 − p_t)`, computed as a sum of positive terms (see the module notes in
    /// `docs/variants.md`).
    ///
    /// ```
    /// use focal_loss::{FocalError, Reduction, SigmoidFocal};
    /// let poly = SigmoidFocal::new(0.0, None)?.with_poly1(-1.0)?;
    /// // -ln σ(20) - σ(-20) = e^-40 / 2 + …: the plain f32 formula gives 0.
    /// let loss = poly.loss(&[20.0f32], &[1u8], Reduction::Sum)?;
    /// assert!((loss / 2.124e-18 - 1.0).abs() < 1e-3);
    /// assert_eq!(
    ///     SigmoidFocal::RETINANET.with_poly1(-1.5),
    ///     Err(FocalError::InvalidPolyEpsilon { epsilon: -1.5 })
    /// );
    /// # Ok::<(), FocalError>(())
    /// ```
    pub fn with_poly1(self, epsilon: f32) -> Result<ExtendedSigmoidFocal, FocalError> {
        ExtendedSigmoidFocal::of(self).with_poly1(epsilon)
    }

    /// The reduced focal loss (Sergievskiy & Ponamarev 2019; segmentation_models_pytorch's
    /// `FocalLoss(reduced_threshold=th)`): the modulating factor is 1 where `p_t < th` and
    /// `((1 − p_t)/th)^γ` elsewhere; `th` in (0, 1].
    ///
    /// `th = 1` is α-weighted binary cross-entropy (`p_t < 1` at every logit whose `1 − p_t`
    /// is non-zero in `f32`; bit for bit `SigmoidFocal::new(0.0, α)` on 0/1 targets).
    ///
    /// ```
    /// use focal_loss::{FocalError, Reduction, SigmoidFocal};
    /// let reduced = SigmoidFocal::new(2.0, None)?.with_reduced_threshold(0.5)?;
    /// let bce = SigmoidFocal::new(0.0, None)?;
    /// // p_t = σ(-1) < 0.5: factor 1, the cross-entropy.
    /// let (x, t) = ([-1.0f32], [1u8]);
    /// assert_eq!(reduced.loss(&x, &t, Reduction::Sum)?, bce.loss(&x, &t, Reduction::Sum)?);
    /// assert_eq!(
    ///     SigmoidFocal::RETINANET.with_reduced_threshold(0.0),
    ///     Err(FocalError::InvalidReducedThreshold { threshold: 0.0 })
    /// );
    /// # Ok::<(), FocalError>(())
    /// ```
    pub fn with_reduced_threshold(
        self,
        threshold: f32,
    ) -> Result<ExtendedSigmoidFocal, FocalError> {
        ExtendedSigmoidFocal::of(self).with_reduced_threshold(threshold)
    }

    /// The normalised focal loss (segmentation_models_pytorch's `FocalLoss(normalized=True)`):
    /// each element's loss divided by `S = Σ_j (1 − p_t,j)^γ` over the call's slice (the
    /// modulating factors; clamped at [`NORMALIZER_MIN`], 10⁻⁶, as smp clamps it), then the
    /// reduction. The gradient includes the normaliser's own derivative, as smp's autograd
    /// does. Weights do not enter `S` (smp's has none).
    ///
    /// With one element the loss is `α_t·BCE` wherever the factor exceeds 10⁻⁶.
    ///
    /// ```
    /// use focal_loss::{Reduction, SigmoidFocal};
    /// let norm = SigmoidFocal::new(2.0, None)?.normalized();
    /// let bce = SigmoidFocal::new(0.0, None)?;
    /// let (x, t) = ([0.5f32], [1u8]);
    /// let (a, b) = (norm.loss(&x, &t, Reduction::Sum)?, bce.loss(&x, &t, Reduction::Sum)?);
    /// assert!((a - b).abs() <= 2.0 * f32::EPSILON * b);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn normalized(self) -> ExtendedSigmoidFocal {
        ExtendedSigmoidFocal::of(self).normalized()
    }
}

impl ExtendedSigmoidFocal {
    fn of(base: SigmoidFocal) -> Self {
        ExtendedSigmoidFocal {
            base,
            epsilon: None,
            threshold: None,
            normalized: false,
        }
    }

    /// Poly-1 with `epsilon` (see [`SigmoidFocal::with_poly1`]); an error with a reduced
    /// threshold ([`FocalError::PolyWithReducedThreshold`]).
    ///
    /// ```
    /// use focal_loss::{FocalError, SigmoidFocal};
    /// let fl = SigmoidFocal::RETINANET.normalized().with_poly1(2.0)?;
    /// assert_eq!((fl.epsilon(), fl.is_normalized()), (Some(2.0), true));
    /// assert_eq!(
    ///     fl.with_poly1(f32::NAN).unwrap_err().to_string(),
    ///     "Poly-1 epsilon must be finite and >= -1, got NaN"
    /// );
    /// # Ok::<(), FocalError>(())
    /// ```
    pub fn with_poly1(mut self, epsilon: f32) -> Result<Self, FocalError> {
        if !(epsilon.is_finite() && epsilon >= -1.0) {
            return Err(FocalError::InvalidPolyEpsilon { epsilon });
        }
        if self.threshold.is_some() {
            return Err(FocalError::PolyWithReducedThreshold);
        }
        self.epsilon = Some(epsilon);
        Ok(self)
    }

    /// The reduced focal loss with `threshold` in (0, 1] (see
    /// [`SigmoidFocal::with_reduced_threshold`]); an error with Poly-1
    /// ([`FocalError::PolyWithReducedThreshold`]).
    ///
    /// ```
    /// use focal_loss::{FocalError, SigmoidFocal};
    /// let fl = SigmoidFocal::RETINANET.normalized().with_reduced_threshold(0.5)?;
    /// assert_eq!(fl.reduced_threshold(), Some(0.5));
    /// assert_eq!(
    ///     SigmoidFocal::RETINANET.with_poly1(1.0)?.with_reduced_threshold(0.5),
    ///     Err(FocalError::PolyWithReducedThreshold)
    /// );
    /// # Ok::<(), FocalError>(())
    /// ```
    pub fn with_reduced_threshold(mut self, threshold: f32) -> Result<Self, FocalError> {
        if !valid_threshold(threshold) {
            return Err(FocalError::InvalidReducedThreshold { threshold });
        }
        if self.epsilon.is_some() {
            return Err(FocalError::PolyWithReducedThreshold);
        }
        self.threshold = Some(threshold);
        Ok(self)
    }

    /// The normalised focal loss (see [`SigmoidFocal::normalized`]).
    ///
    /// ```
    /// let fl = focal_loss::SigmoidFocal::RETINANET.with_poly1(1.0)?.normalized();
    /// assert!(fl.is_normalized());
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn normalized(mut self) -> Self {
        self.normalized = true;
        self
    }

    /// The same loss computed by `kernel` ([`Kernel::Simd`] by default).
    ///
    /// ```
    /// use focal_loss::{Kernel, SigmoidFocal};
    /// let fl = SigmoidFocal::RETINANET.normalized().with_kernel(Kernel::Libm);
    /// assert_eq!(fl.kernel(), Kernel::Libm);
    /// ```
    pub const fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.base = self.base.with_kernel(kernel);
        self
    }

    /// The focal loss the options apply to.
    ///
    /// ```
    /// use focal_loss::SigmoidFocal;
    /// assert_eq!(SigmoidFocal::RETINANET.normalized().base(), SigmoidFocal::RETINANET);
    /// ```
    pub const fn base(&self) -> SigmoidFocal {
        self.base
    }

    /// Poly-1's ε, if set.
    ///
    /// ```
    /// assert_eq!(focal_loss::SigmoidFocal::RETINANET.normalized().epsilon(), None);
    /// ```
    pub const fn epsilon(&self) -> Option<f32> {
        self.epsilon
    }

    /// The reduced focal loss's threshold, if set.
    ///
    /// ```
    /// assert_eq!(focal_loss::SigmoidFocal::RETINANET.normalized().reduced_threshold(), None);
    /// ```
    pub const fn reduced_threshold(&self) -> Option<f32> {
        self.threshold
    }

    /// Whether each element's loss is divided by the sum of the modulating factors.
    ///
    /// ```
    /// assert!(focal_loss::SigmoidFocal::RETINANET.normalized().is_normalized());
    /// ```
    pub const fn is_normalized(&self) -> bool {
        self.normalized
    }

    /// The kernel that evaluates the loss.
    ///
    /// ```
    /// use focal_loss::{Kernel, SigmoidFocal};
    /// assert_eq!(SigmoidFocal::RETINANET.normalized().kernel(), Kernel::Simd);
    /// ```
    pub const fn kernel(&self) -> Kernel {
        self.base.kernel
    }

    /// Nothing but the focal loss (Poly-1 with ε = 0 alone): the base's own pass.
    fn is_plain(&self) -> bool {
        !self.normalized && self.threshold.is_none() && self.epsilon.is_none_or(|e| e == 0.0)
    }

    /// The element formula and the pass's α (Poly-1 applies α itself, to its focal term).
    fn pass(&self) -> Pass<Options> {
        let b = self.base;
        let poly = self.epsilon.filter(|&e| e != 0.0).map(|epsilon| Poly {
            epsilon,
            alpha: b.alpha.map(|a| (a, 1.0 - a)),
        });
        let reduced = self.threshold.map(|th| Reduced::new(th, b.gamma));
        Pass {
            kernel: b.kernel,
            alpha: if poly.is_some() { None } else { b.alpha },
            formula: Options {
                focusing: b.focusing,
                gamma: b.gamma,
                poly,
                reduced,
            },
        }
    }

    /// `(S, clamped)`: the normaliser and whether the clamp holds.
    fn normaliser<T: BinaryTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
    ) -> Result<(f32, bool), FocalError> {
        let pass = self.pass();
        let modulating = Pass {
            kernel: pass.kernel,
            alpha: None,
            formula: Modulating(pass.formula),
        };
        let sum = run::run::<_, T, _, false>(modulating, logits, targets, &[], SumOnly)?;
        let sum = sum.divided_by(Divisor::of(1.0));
        Ok(if sum >= NORMALIZER_MIN {
            (sum, false)
        } else {
            (NORMALIZER_MIN, true)
        })
    }

    fn reduce<T: BinaryTarget, S: Sink, const WEIGHTED: bool>(
        &self,
        logits: &[f32],
        targets: &[T],
        weights: &[f32],
        reduction: Reduction,
        sink: impl FnOnce(f32) -> S,
    ) -> Result<f32, FocalError> {
        let pass = self.pass();
        if !self.normalized {
            return run::reduce::<_, T, S, WEIGHTED>(
                pass, logits, targets, weights, reduction, sink,
            );
        }
        reduction.exact_divisor(logits.len())?;
        let (s, clamped) = self.normaliser(logits, targets)?;
        let k = if S::WRITES == Writes::Grad && !clamped {
            let a = run::run::<_, T, _, WEIGHTED>(pass, logits, targets, weights, SumOnly)?;
            let k = (a.divided_by(Divisor::of(1.0)) / s) / s;
            // An infinite summed loss (a logit at ±∞ on the wrong side) has no finite
            // normaliser derivative: it is left out, so the gradient stays finite.
            if k.is_finite() { k } else { 0.0 }
        } else {
            0.0
        };
        let pass = Pass {
            kernel: pass.kernel,
            alpha: pass.alpha,
            formula: Normalised {
                inner: pass.formula,
                s,
                k,
            },
        };
        run::reduce::<_, T, S, WEIGHTED>(pass, logits, targets, weights, reduction, sink)
    }

    fn per_element<T: BinaryTarget, const WEIGHTED: bool>(
        &self,
        logits: &[f32],
        targets: &[T],
        weights: &[f32],
        out: &mut [f32],
    ) -> Result<(), FocalError> {
        let pass = self.pass();
        if !self.normalized {
            return run::run::<_, T, _, WEIGHTED>(pass, logits, targets, weights, Losses(out))
                .map(|_| ());
        }
        let (s, _) = self.normaliser(logits, targets)?;
        let pass = Pass {
            kernel: pass.kernel,
            alpha: pass.alpha,
            formula: Normalised {
                inner: pass.formula,
                s,
                k: 0.0,
            },
        };
        run::run::<_, T, _, WEIGHTED>(pass, logits, targets, weights, Losses(out)).map(|_| ())
    }

    /// The reduced loss (as [`SigmoidFocal::loss`]).
    ///
    /// ```
    /// use focal_loss::{Reduction, SigmoidFocal};
    /// let fl = SigmoidFocal::new(2.0, None)?.with_poly1(0.0)?;
    /// let (x, t) = ([0.3f32, -1.0], [1.0f32, 0.5]);
    /// assert_eq!(fl.loss(&x, &t, Reduction::Mean)?, fl.base().loss(&x, &t, Reduction::Mean)?);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss<T: BinaryTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        reduction: Reduction,
    ) -> Result<f32, FocalError> {
        if self.is_plain() {
            return self.base.loss(logits, targets, reduction);
        }
        self.reduce::<T, _, false>(logits, targets, &[], reduction, |_| SumOnly)
    }

    /// The reduced loss with a non-negative weight per element (as
    /// [`SigmoidFocal::loss_weighted`]); weights multiply the focal and the Poly-1 term.
    ///
    /// ```
    /// use focal_loss::{Reduction, SigmoidFocal};
    /// let fl = SigmoidFocal::RETINANET.with_poly1(1.0)?;
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
        if self.is_plain() {
            return self.base.loss_weighted(logits, targets, weights, reduction);
        }
        self.reduce::<T, _, true>(logits, targets, weights, reduction, |_| SumOnly)
    }

    /// Writes each element's loss to `out` (as [`SigmoidFocal::loss_per_element`]); normalised,
    /// each divided by the slice's normaliser.
    ///
    /// ```
    /// use focal_loss::SigmoidFocal;
    /// let mut out = [0.0f32; 2];
    /// SigmoidFocal::new(2.0, None)?.normalized().loss_per_element(&[0.0, 0.0], &[1u8, 1], &mut out)?;
    /// // Each: 0.25·ln 2 / (0.25 + 0.25).
    /// assert!((out[0] - 0.5 * core::f32::consts::LN_2).abs() < 1e-7);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_per_element<T: BinaryTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        out: &mut [f32],
    ) -> Result<(), FocalError> {
        if self.is_plain() {
            return self.base.loss_per_element(logits, targets, out);
        }
        self.per_element::<T, false>(logits, targets, &[], out)
    }

    /// Writes each element's weighted loss to `out`.
    ///
    /// ```
    /// use focal_loss::SigmoidFocal;
    /// let mut out = [0.0f32; 2];
    /// let fl = SigmoidFocal::RETINANET.with_reduced_threshold(0.5)?;
    /// fl.loss_per_element_weighted(&[1.0, 1.0], &[0u8, 0], &[2.0, 0.0], &mut out)?;
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
        if self.is_plain() {
            return self
                .base
                .loss_per_element_weighted(logits, targets, weights, out);
        }
        self.per_element::<T, true>(logits, targets, weights, out)
    }

    /// The reduced loss and its gradient (as [`SigmoidFocal::loss_and_grad`]), fused; finite
    /// for every γ >= 0 and every logit, ±∞ included.
    ///
    /// ```
    /// use focal_loss::{Reduction, SigmoidFocal};
    /// let fl = SigmoidFocal::new(0.5, None)?.with_poly1(-1.0)?;
    /// let mut grad = [0.0f32; 2];
    /// fl.loss_and_grad(&[40.0, f32::NEG_INFINITY], &[1u8, 1], Reduction::Sum, &mut grad)?;
    /// assert!(grad.iter().all(|g| g.is_finite()));
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_and_grad<T: BinaryTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        reduction: Reduction,
        grad: &mut [f32],
    ) -> Result<f32, FocalError> {
        if self.is_plain() {
            return self.base.loss_and_grad(logits, targets, reduction, grad);
        }
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
    /// let fl = SigmoidFocal::RETINANET.with_poly1(1.0)?;
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
        if self.is_plain() {
            return self
                .base
                .loss_and_grad_weighted(logits, targets, weights, reduction, grad);
        }
        self.reduce::<T, _, true>(logits, targets, weights, reduction, |scale| Gradient {
            grad,
            scale,
        })
    }
}

/// Poly-1's ε and α (`(α, 1 − α)`), which it applies to the focal term itself.
#[derive(Clone, Copy)]
struct Poly {
    epsilon: f32,
    alpha: Option<(f32, f32)>,
}

/// The options' element formula: `(ℓ, dℓ/dx, m, dm/dx)` with `m` the modulating factor.
#[derive(Clone, Copy)]
pub(crate) struct Options {
    focusing: Focusing,
    gamma: f32,
    poly: Option<Poly>,
    reduced: Option<Reduced>,
}

/// `−ln(1 − q) − q` at a margin `z >= 0` (`q = e/(1+e)` the smaller sigmoid, `e = e^−z`),
/// without cancellation ([`crate::poly::log_excess`]).
#[inline(always)]
fn log_excess<R: KernelMath>(l: &Logistic<R>) -> R {
    let small = R::select(l.sig.lt(l.sig_neg), l.sig, l.sig_neg);
    crate::poly::log_excess(small, l.e)
}

impl Options {
    /// `(ℓ, dℓ/dx, m, dm/dx)` for any target in [0, 1] (hard ones lane by lane, as the focal
    /// loss's `focal`).
    #[inline(always)]
    ///
    /// With `s` (the normaliser) `ℓ` and `dℓ/dx` come divided by it, the modulating factor
    /// divided first (so that a product that would underflow before a small `s` lifts it
    /// does not); `m` and `dm/dx` never are.
    fn element<R: KernelMath>(
        &self,
        x: R,
        t: R,
        always_hard: bool,
        s: Option<f32>,
    ) -> (R, R, R, R) {
        let l = logistic(x);
        let positive = t.eq(R::splat(1.0));
        if always_hard {
            return self.hard(&l, x, positive, s);
        }
        let is_hard = positive | t.eq(R::splat(0.0));
        if R::all(is_hard) {
            return self.hard(&l, x, positive, s);
        }
        let soft = self.soft(&l, x, t, s);
        if !R::any(is_hard) {
            return soft;
        }
        let hard = self.hard(&l, x, positive, s);
        (
            R::select(is_hard, hard.0, soft.0),
            R::select(is_hard, hard.1, soft.1),
            R::select(is_hard, hard.2, soft.2),
            R::select(is_hard, hard.3, soft.3),
        )
    }

    /// `v / s`, or `v` without a normaliser.
    #[inline(always)]
    fn div<R: KernelMath>(s: Option<f32>, v: R) -> R {
        match s {
            Some(s) => v / R::splat(s),
            None => v,
        }
    }

    /// Hard targets: with `z = ±x`, `q = σ(−z)`, `p_t = σ(z)`, `CE = softplus(−z)`,
    /// `dq/dz = −p_t·q`.
    #[inline(always)]
    fn hard<R: KernelMath>(
        &self,
        l: &Logistic<R>,
        x: R,
        positive: R::Mask,
        s: Option<f32>,
    ) -> (R, R, R, R) {
        let (zero, one) = (R::splat(0.0), R::splat(1.0));
        let p_t = R::select(positive, l.sig, l.sig_neg);
        let q = R::select(positive, l.sig_neg, l.sig);
        let ce = R::select(positive, l.softplus_neg, l.softplus);
        let relu_z = R::select(positive, l.relu, l.relu_neg);
        let m0 = self.focusing.power_of_softplus(q, relu_z, l.tail);
        let mu = Self::div(s, m0);
        let g = R::splat(self.gamma);
        let ce_c = ce.cap(CE_CAP);
        let dm0 = -(g * (m0 * p_t));
        let (loss, d_dz, m, dm) = if let Some(poly) = self.poly {
            let a_t = match poly.alpha {
                Some((a, not_a)) => R::select(positive, R::splat(a), R::splat(not_a)),
                None => one,
            };
            let eps = R::splat(poly.epsilon);
            let margin_non_negative = (positive & x.ge(zero)) | (!positive & zero.ge(x));
            let d = R::select(margin_non_negative, log_excess(l), ce - q);
            let a_eps = a_t + eps;
            let p = a_t * d + a_eps * q;
            let p_c = a_t * d.cap(CE_CAP) + a_eps * q;
            // α_t·q + ε·q·p_t, its terms all non-negative either way.
            let first = if poly.epsilon >= 0.0 {
                a_t * q + eps * (q * p_t)
            } else {
                a_eps * q - eps * (q * q)
            };
            let d_dz = -(mu * (first + g * (p_t * p_c)));
            (mu * p, d_dz, m0, dm0)
        } else {
            let fl = mu * ce;
            let dfl = -(mu * (q + g * (p_t * ce_c)));
            match self.reduced {
                Some(r) => {
                    let full = r.full(q, p_t);
                    (
                        R::select(full, Self::div(s, ce), r.scaled(fl)),
                        R::select(full, Self::div(s, -q), r.scaled(dfl)),
                        R::select(full, one, r.scaled(m0)),
                        R::select(full, zero, r.scaled(dm0)),
                    )
                }
                None => (fl, dfl, m0, dm0),
            }
        };
        (
            loss,
            R::select(positive, d_dz, -d_dz),
            m,
            R::select(positive, dm, -dm),
        )
    }

    /// Soft targets: `q = t·σ(−x) + (1−t)·σ(x)`, `q' = (1−2t)·σ(x)·σ(−x)`, `CE − q` the
    /// sum `t·D(x) + (1−t)·D(−x)` of the hard form's non-negative `D`.
    #[inline(always)]
    fn soft<R: KernelMath>(&self, l: &Logistic<R>, x: R, t: R, s: Option<f32>) -> (R, R, R, R) {
        let (zero, one) = (R::splat(0.0), R::splat(1.0));
        let not_t = one - t;
        let ce = t * l.softplus_neg + not_t * l.softplus;
        let q = t * l.sig_neg + not_t * l.sig;
        let p_t = t * l.sig + not_t * l.sig_neg;
        let m0 = self.focusing.power(q);
        let mu = Self::div(s, m0);
        let g = R::splat(self.gamma);
        let d_ce = not_t * l.sig - t * l.sig_neg;
        let dq = (one - (t + t)) * (l.sig * l.sig_neg);
        let dq_over_q = dq / q;
        let dm0 = g * (m0 * dq_over_q);
        let infinite = R::splat(f32::INFINITY);
        if let Some(poly) = self.poly {
            let a_t = match poly.alpha {
                Some((a, not_a)) => R::splat(a) * t + R::splat(not_a) * not_t,
                None => one,
            };
            let eps = R::splat(poly.epsilon);
            let excess = log_excess(l);
            let non_negative = x.ge(zero);
            let d_pos = R::select(non_negative, excess, l.softplus_neg - l.sig_neg);
            let d_neg = R::select(zero.ge(x), excess, l.softplus - l.sig);
            let d = t * d_pos + not_t * d_neg;
            let a_eps = a_t + eps;
            let p = a_t * d + a_eps * q;
            let p_c = a_t * d.cap(CE_CAP) + a_eps * q;
            let grad = mu * ((a_t * d_ce + eps * dq) + g * (dq_over_q * p_c));
            let loss = R::select(p.eq(infinite), p, mu * p);
            return (loss, grad, m0, dm0);
        }
        let fl = R::select(ce.eq(infinite), ce, mu * ce);
        let dfl = mu * (d_ce + g * (dq_over_q * ce.cap(CE_CAP)));
        match self.reduced {
            Some(r) => {
                let full = r.full(q, p_t);
                (
                    R::select(full, Self::div(s, ce), r.scaled(fl)),
                    R::select(full, Self::div(s, d_ce), r.scaled(dfl)),
                    R::select(full, one, r.scaled(m0)),
                    R::select(full, zero, r.scaled(dm0)),
                )
            }
            None => (fl, dfl, m0, dm0),
        }
    }
}

impl Formula for Options {
    #[inline(always)]
    fn eval<R: KernelMath>(&self, x: R, t: R, always_hard: bool) -> (R, R) {
        let (loss, grad, _, _) = self.element(x, t, always_hard, None);
        (loss, grad)
    }
}

/// The modulating factor alone, as a loss: the normaliser's pass.
#[derive(Clone, Copy)]
struct Modulating(Options);

impl Formula for Modulating {
    #[inline(always)]
    fn eval<R: KernelMath>(&self, x: R, t: R, always_hard: bool) -> (R, R) {
        let (_, _, m, _) = self.0.element(x, t, always_hard, None);
        (m, R::splat(0.0))
    }
}

/// The options divided by the normaliser `s`, with the normaliser's derivative
/// `−k·dm/dx`, `k = (Σ_i w_i ℓ_i)/s²` (0 where the clamp holds or no gradient is asked).
#[derive(Clone, Copy)]
struct Normalised {
    inner: Options,
    s: f32,
    k: f32,
}

impl Formula for Normalised {
    const EXTRA_GRAD: bool = true;

    #[inline(always)]
    fn eval<R: KernelMath>(&self, x: R, t: R, always_hard: bool) -> (R, R) {
        let (loss, grad, _) = self.eval_extra(x, t, always_hard);
        (loss, grad)
    }

    #[inline(always)]
    fn eval_extra<R: KernelMath>(&self, x: R, t: R, always_hard: bool) -> (R, R, R) {
        let (loss, grad, _, dm) = self.inner.element(x, t, always_hard, Some(self.s));
        (loss, grad, -(R::splat(self.k) * dm))
    }
}
