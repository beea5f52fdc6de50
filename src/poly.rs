//! Poly-1's exact `−ln(1 − q) − q` (Leng et al. 2022), shared by the sigmoid form's option
//! ([`crate::ExtendedSigmoidFocal`]) and the softmax form's ([`crate::SoftmaxFocal::with_poly1`]).
//!
//! Both forms know `q = e/(1 + e)` with `e` in [0, 1] (the sigmoid's `e^−|x|` at a
//! non-negative margin; the softmax's `S'`, the other classes' sum, at the row's largest
//! logit) where `1 − q >= 1/2`: with `s = e/(2 + e)` (`s <= 1/3`), `−ln(1 − q) = ln(1 + e) =
//! 2·atanh(s)`, so `−ln(1 − q) − q = q·s + 2s³·(1/3 + s²/5 + s⁴/7 + …)`, a sum of positive
//! terms where the plain `f32` formula cancels completely as `q → 0`. Eight terms reach
//! `2^−27` of the series.

use crate::kernel_math::KernelMath;

/// The coefficients of `atanh(s)/s³ − 1/s² = 1/3 + s²/5 + s⁴/7 + …` (`s² <= 1/9`).
const ATANH_SERIES: [f32; 8] = [
    1.0 / 3.0,
    1.0 / 5.0,
    1.0 / 7.0,
    1.0 / 9.0,
    1.0 / 11.0,
    1.0 / 13.0,
    1.0 / 15.0,
    1.0 / 17.0,
];

/// `−ln(1 − q) − q` given `q = e/(1 + e)` and `e` in [0, 1], without cancellation:
/// `q·s + 2s³·Σ s^(2k)/(2k+3)`, `s = e/(2 + e)`.
#[inline(always)]
pub(crate) fn log_excess<R: KernelMath>(q: R, e: R) -> R {
    let s = e / (R::splat(2.0) + e);
    let u = s * s;
    let mut series = R::splat(ATANH_SERIES[7]);
    for &c in ATANH_SERIES[..7].iter().rev() {
        series = R::splat(c) + u * series;
    }
    q * s + (s + s) * (u * series)
}
