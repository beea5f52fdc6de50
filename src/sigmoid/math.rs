//! The sigmoid focal loss and its derivative for one element per lane (one `f32`, or the
//! [`WIDTH`](crate::simd::WIDTH) lanes of `Kernel::Simd`), written once over [`KernelMath`]
//! and evaluated by both kernels.
//!
//! With `p = σ(x)`, `p_t = p·t + (1−p)(1−t)` and `CE = −t·ln p − (1−t)·ln(1−p)`, the focal
//! loss is `FL = (1 − p_t)^γ · CE` (α and weights are applied by the caller). Nothing here
//! forms `1 − σ(x)` by subtraction: `σ(x)`, `σ(−x)`, `softplus(x)` and `softplus(−x)` all come
//! from one `e = exp(−|x|)`, so easy examples keep full relative accuracy, and no
//! `(1 − p_t)^(γ−1)` appears in the gradient, so it is finite for every γ >= 0.

use super::run::Formula;
use crate::focusing::Focusing;
use crate::kernel_math::KernelMath;

/// Where `p_t·CE` (or `(q'/q)·CE`) multiplies a quantity that underflowed to 0, CE may be +∞
/// (an infinite logit). While that quantity is non-zero, |x| < 104 and CE < 105, so capping
/// CE here changes no finite result and turns `0·∞` into 0.
pub(crate) const CE_CAP: f32 = 1.0e4;

/// Everything the loss needs about the logistic function at `x`, from one `exp` and one
/// `log1p`.
pub(crate) struct Logistic<R> {
    /// e^−|x|
    pub(crate) e: R,
    /// σ(x)
    pub(crate) sig: R,
    /// σ(−x) = 1 − σ(x), without the subtraction.
    pub(crate) sig_neg: R,
    /// max(x, 0)
    pub(crate) relu: R,
    /// max(−x, 0)
    pub(crate) relu_neg: R,
    /// ln(1 + e^−|x|), the part shared by both softplus values.
    pub(crate) tail: R,
    /// softplus(x) = ln(1 + e^x) = relu + tail = −ln σ(−x)
    pub(crate) softplus: R,
    /// softplus(−x) = relu_neg + tail = −ln σ(x)
    pub(crate) softplus_neg: R,
}

#[inline(always)]
pub(crate) fn logistic<R: KernelMath>(x: R) -> Logistic<R> {
    let one = R::splat(1.0);
    let e = (-x.abs()).exp();
    let d = one + e;
    let rd = one / d;
    let tail = R::log1p_unit(e, d, rd);
    let small = e * rd;
    let zero = R::splat(0.0);
    let non_negative = x.ge(zero);
    let (relu, relu_neg) = (
        R::select(non_negative, x, zero),
        R::select(non_negative, zero, -x),
    );
    Logistic {
        e,
        sig: R::select(non_negative, rd, small),
        sig_neg: R::select(non_negative, small, rd),
        relu,
        relu_neg,
        tail,
        softplus: relu + tail,
        softplus_neg: relu_neg + tail,
    }
}

/// `(FL, dFL/dx)` at logit `x` for targets that are exactly 0 or 1 (`positive` where 1).
///
/// With `z = ±x` the signed margin: `CE = softplus(−z)`, `1 − p_t = σ(−z)`,
/// `ln(1 − p_t) = −softplus(z) = −(max(z, 0) + tail)` and
/// `dFL/dz = −(1−p_t)^γ · [(1 − p_t) + γ·p_t·CE]`.
#[inline(always)]
pub(crate) fn hard<R: KernelMath>(
    l: &Logistic<R>,
    positive: R::Mask,
    focusing: Focusing,
    gamma: f32,
) -> (R, R) {
    let p_t = R::select(positive, l.sig, l.sig_neg);
    let q = R::select(positive, l.sig_neg, l.sig);
    let ce = R::select(positive, l.softplus_neg, l.softplus);
    let relu_z = R::select(positive, l.relu, l.relu_neg);
    let modulating = focusing.power_of_softplus(q, relu_z, l.tail);
    let d_dz = -(modulating * (q + R::splat(gamma) * (p_t * ce.cap(CE_CAP))));
    (modulating * ce, R::select(positive, d_dz, -d_dz))
}

/// `(FL, dFL/dx)` at logit `x` for a soft target `t` in (0, 1).
///
/// `CE = t·softplus(−x) + (1−t)·softplus(x)` and `q = 1 − p_t = t·σ(−x) + (1−t)·σ(x)` are
/// sums of non-negative terms (no cancellation); with `q' = (1−2t)·σ(x)·σ(−x)` and
/// `CE' = (1−t)·σ(x) − t·σ(−x)`, `dFL/dx = q^γ · [CE' + γ·(q'/q)·CE]`.
#[inline(always)]
pub(crate) fn soft<R: KernelMath>(l: &Logistic<R>, t: R, focusing: Focusing, gamma: f32) -> (R, R) {
    let one = R::splat(1.0);
    let not_t = one - t;
    let ce = t * l.softplus_neg + not_t * l.softplus;
    let q = t * l.sig_neg + not_t * l.sig;
    let modulating = focusing.power(q);
    let d_ce = not_t * l.sig - t * l.sig_neg;
    let dq_over_q = ((one - (t + t)) * (l.sig * l.sig_neg)) / q;
    let grad = modulating * (d_ce + R::splat(gamma) * (dq_over_q * ce.cap(CE_CAP)));
    // At x = ±∞, q^γ > 0 however large γ is, so the loss is +∞ even where q^γ underflowed.
    let infinite = ce.eq(R::splat(f32::INFINITY));
    (R::select(infinite, ce, modulating * ce), grad)
}

/// `(FL, dFL/dx)` of the sigmoid focal loss, before α and weights, for any target in [0, 1].
///
/// Targets that are exactly 0 or 1 take the hard-target formulas (lane by lane), so a lane's
/// result never depends on its neighbours. With `always_hard` (a constant of the target type)
/// the caller guarantees that every valid target is 0 or 1; invalid ones are reported and their
/// lanes' results unused.
#[inline(always)]
fn focal<R: KernelMath>(x: R, t: R, focusing: Focusing, gamma: f32, always_hard: bool) -> (R, R) {
    let l = logistic(x);
    let one = R::splat(1.0);
    let positive = t.eq(one);
    if always_hard {
        return hard(&l, positive, focusing, gamma);
    }
    let is_hard = positive | t.eq(R::splat(0.0));
    if R::all(is_hard) {
        return hard(&l, positive, focusing, gamma);
    }
    let (soft_loss, soft_grad) = soft(&l, t, focusing, gamma);
    if !R::any(is_hard) {
        return (soft_loss, soft_grad);
    }
    let (hard_loss, hard_grad) = hard(&l, positive, focusing, gamma);
    (
        R::select(is_hard, hard_loss, soft_loss),
        R::select(is_hard, hard_grad, soft_grad),
    )
}

/// The sigmoid focal loss as the pass's [`Formula`]: γ and its evaluation strategy.
#[derive(Clone, Copy)]
pub(crate) struct Focal {
    pub(crate) focusing: Focusing,
    pub(crate) gamma: f32,
}

impl Formula for Focal {
    #[inline(always)]
    fn eval<R: KernelMath>(&self, x: R, t: R, always_hard: bool) -> (R, R) {
        focal(x, t, self.focusing, self.gamma, always_hard)
    }

    /// With vector lanes, γ = 2 (RetinaNet's, the common case) gets a loop of its own,
    /// where the γ variant is a constant: no branch on it per vector, and nothing held in
    /// memory across one. (One-lane targets keep one loop, for flash.)
    #[inline(always)]
    fn specialised<O>(mut self, lanes: usize, sweep: impl FnOnce(Self) -> O) -> O {
        if lanes > 1 && self.focusing == Focusing::Integer(2) {
            self.focusing = Focusing::Integer(2);
            return sweep(self);
        }
        sweep(self)
    }
}
