//! The focal family beyond the plain focal loss, on the sigmoid form's pass: FL\*
//! ([`FocalStar`]), Quality Focal Loss ([`QualityFocal`]), Varifocal Loss ([`Varifocal`]),
//! Asymmetric Loss ([`Asymmetric`]), and detectron2's positive-count normaliser
//! ([`PositiveNormaliser`]).
//!
//! Each loss is a validated `Copy` configuration whose element formula (a
//! [`Formula`](crate::sigmoid::run::Formula)) is written once over
//! [`KernelMath`] and run by the sigmoid form's pass, so both kernels, the fixed summation
//! order, the folded validation and the outputs are the sigmoid form's. Each formula is in log
//! space (no `1 − σ(x)` by subtraction) and gives a finite gradient at every logit, ±∞
//! included; see `docs/variants.md`.

mod asymmetric;
mod focal_star;
mod normaliser;
mod quality;
mod varifocal;

pub use asymmetric::Asymmetric;
pub use focal_star::FocalStar;
pub use normaliser::PositiveNormaliser;
pub use quality::QualityFocal;
pub use varifocal::Varifocal;

use crate::Reduction;
use crate::error::FocalError;
use crate::kernel_math::KernelMath;
use crate::sigmoid::math::Logistic;
use crate::sigmoid::run::{self, Formula, Pass};
use crate::sink::{Gradient, Losses, SumOnly};
use crate::target::BinaryTarget;

/// `v` where it is finite, else 0 (for the error terms of an exact transformation whose
/// operands overflowed: the value they correct is then ±∞ or saturated anyway).
#[inline(always)]
pub(crate) fn finite_or_zero<R: KernelMath>(v: R) -> R {
    R::select(v.abs().lt(R::splat(f32::INFINITY)), v, R::splat(0.0))
}

/// `q − σ(x)` for a score `q` in [0, 1], as exactly as the rounded sigmoids allow: `q − σ(x)`
/// below one half, `σ(−x) − (1 − q)` from one half on (`1 − q` is exact there), so the
/// difference carries the rounding error of the smaller of σ(x), σ(−x) near `q`, never that
/// of a σ(x) rounded near 1.
#[inline(always)]
pub(crate) fn score_minus_sigmoid<R: KernelMath>(l: &Logistic<R>, q: R) -> R {
    let upper = q.ge(R::splat(0.5));
    R::select(upper, l.sig_neg - (R::splat(1.0) - q), q - l.sig)
}

/// `BCE(x, q) = q·softplus(−x) + (1 − q)·softplus(x)` for a score `q` in (0, 1): a sum of
/// non-negative terms.
#[inline(always)]
pub(crate) fn soft_bce<R: KernelMath>(l: &Logistic<R>, q: R) -> R {
    q * l.softplus_neg + (R::splat(1.0) - q) * l.softplus
}

/// The three entry points of every loss here, on the pass of `formula`.
pub(crate) fn loss<F: Formula, T: BinaryTarget>(
    pass: Pass<F>,
    logits: &[f32],
    targets: &[T],
    reduction: Reduction,
) -> Result<f32, FocalError> {
    run::reduce::<F, T, _, false>(pass, logits, targets, &[], reduction, |_| SumOnly)
}

/// Each element's loss into `out`.
pub(crate) fn loss_per_element<F: Formula, T: BinaryTarget>(
    pass: Pass<F>,
    logits: &[f32],
    targets: &[T],
    out: &mut [f32],
) -> Result<(), FocalError> {
    run::run::<F, T, _, false>(pass, logits, targets, &[], Losses(out)).map(|_| ())
}

/// The reduced loss, and its gradient into `grad`.
pub(crate) fn loss_and_grad<F: Formula, T: BinaryTarget>(
    pass: Pass<F>,
    logits: &[f32],
    targets: &[T],
    reduction: Reduction,
    grad: &mut [f32],
) -> Result<f32, FocalError> {
    run::reduce::<F, T, _, false>(pass, logits, targets, &[], reduction, |scale| Gradient {
        grad,
        scale,
    })
}
