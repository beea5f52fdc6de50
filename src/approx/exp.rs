//! `e^x` over eight lanes, with IEEE basic operations only.
//!
//! Method: `x = k·ln2 + r` with `k = round(x / ln2)` (Cody–Waite split of ln 2 so that
//! `k·LN2_HI` is exact), `e^r` by its degree-7 Taylor polynomial on `|r| <= ln2/2` (truncation
//! below 2^-27 relative), then a scale by `2^k` done as two exact power-of-two products so that
//! overflow gives +∞ and results below the normal range underflow gradually to 0.
//! [`exp_sum`] takes the exponent as `hi + lo`, for callers that have it more exactly than
//! one `f32` (the modulating factor `exp(−γ·softplus(z))`).
//! Error budget: [`EXP_MAX_ULP`](super::EXP_MAX_ULP), measured by the crate's tests.

use super::{LN2_HI, LN2_LO};
use wide::{f32x8, i32x8};

/// `1.5 · 2^23`: adding and subtracting it rounds a float of magnitude < 2^22 to an integer
/// (round-half-even) with plain additions, identically on every target.
const ROUND_MAGIC: f32 = 12_582_912.0;
const LOG2_E: f32 = core::f32::consts::LOG2_E;
/// Below this `e^x` rounds to 0; above `OVERFLOW_AT` it is +∞. Clamping the exponent there
/// keeps `k` in range; those lanes are then set to the limit.
const UNDERFLOW_AT: f32 = -104.0;
const OVERFLOW_AT: f32 = 89.0;

/// Taylor coefficients 1/2!, 1/3!, ..., 1/7!.
const C2: f32 = 1.0 / 2.0;
const C3: f32 = 1.0 / 6.0;
const C4: f32 = 1.0 / 24.0;
const C5: f32 = 1.0 / 120.0;
const C6: f32 = 1.0 / 720.0;
const C7: f32 = 1.0 / 5040.0;

/// `2^k` for integer `k` in the normal exponent range [-126, 127].
#[inline(always)]
fn pow2(k: i32x8) -> f32x8 {
    f32x8::from_bits(((k + i32x8::splat(127)) << 23_u32).cast_unsigned())
}

/// `e^x` lane-wise. NaN propagates; `-∞ → 0`, `+∞ → +∞`.
#[inline(always)]
pub(crate) fn exp(x: f32x8) -> f32x8 {
    exp_sum(x, f32x8::ZERO)
}

/// `e^(hi + lo)` lane-wise, for an exponent carried as an unevaluated sum: `lo` enters the
/// reduced argument after the exact step `hi − k·LN2_HI`, so its bits are not lost to the
/// rounding of `hi + lo`. `lo` must be finite with `|lo|` small next to `|hi|` or below ~8.
#[inline(always)]
pub(crate) fn exp_sum(hi: f32x8, lo: f32x8) -> f32x8 {
    let sum = hi + lo;
    let clamped = sum
        .simd_gt(f32x8::splat(OVERFLOW_AT))
        .select(f32x8::splat(OVERFLOW_AT), sum);
    let clamped = clamped
        .simd_lt(f32x8::splat(UNDERFLOW_AT))
        .select(f32x8::splat(UNDERFLOW_AT), clamped);
    let shifted = clamped * f32x8::splat(LOG2_E) + f32x8::splat(ROUND_MAGIC);
    let kf = shifted - f32x8::splat(ROUND_MAGIC);
    let k = shifted.to_bits().cast_signed() - i32x8::splat(ROUND_MAGIC.to_bits() as i32);
    let r = ((hi - kf * f32x8::splat(LN2_HI)) + lo) - kf * f32x8::splat(LN2_LO);
    let q = f32x8::splat(C6) + r * f32x8::splat(C7);
    let q = f32x8::splat(C5) + r * q;
    let q = f32x8::splat(C4) + r * q;
    let q = f32x8::splat(C3) + r * q;
    let q = f32x8::splat(C2) + r * q;
    let p = f32x8::splat(1.0) + (r + (r * r) * q);
    let k_half = k >> 1_u32;
    let y = p * pow2(k_half) * pow2(k - k_half);
    let underflow =
        sum.simd_lt(f32x8::splat(UNDERFLOW_AT)) | hi.simd_lt(f32x8::splat(2.0 * UNDERFLOW_AT));
    let y = underflow.select(f32x8::ZERO, y);
    sum.simd_gt(f32x8::splat(OVERFLOW_AT))
        .select(f32x8::splat(f32::INFINITY), y)
}
