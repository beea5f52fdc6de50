//! `e^x` lane-wise, with IEEE basic operations only.
//!
//! Method: `x = k·ln2 + r` with `k = round(x / ln2)` (Cody–Waite split of ln 2 so that
//! `k·LN2_HI` is exact), `e^r` by its degree-7 Taylor polynomial on `|r| <= ln2/2` (truncation
//! below 2^-27 relative), then a scale by `2^k` done as two exact power-of-two products so that
//! overflow gives +∞ and results below the normal range underflow gradually to 0.
//! [`exp_sum`] takes the exponent as `hi + lo`, for callers that have it more exactly than
//! one `f32` (the modulating factor `exp(−γ·softplus(z))`, the softmax's `exp(z − m)`), and
//! [`exp_sum_nonpositive`] is the same for exponents known not to exceed 0.
//! Error budget: [`EXP_MAX_ULP`](super::EXP_MAX_ULP), measured by the crate's tests.

use super::{LN2_HI, LN2_LO};
use crate::simd::{SimdF32, SimdI32, SimdMask};

/// `1.5 · 2^23`: adding and subtracting it rounds a float of magnitude < 2^22 to an integer
/// (round-half-even) with plain additions, identically on every target.
const ROUND_MAGIC: f32 = 12_582_912.0;
const LOG2_E: f32 = core::f32::consts::LOG2_E;
/// Below this `e^x` rounds to 0; above `OVERFLOW_AT` it is +∞. Clamping the exponent there
/// keeps `k` in range and yields those limits.
pub(crate) const UNDERFLOW_AT: f32 = -104.0;
pub(crate) const OVERFLOW_AT: f32 = 89.0;

/// Taylor coefficients 1/2!, 1/3!, ..., 1/7!.
const C2: f32 = 1.0 / 2.0;
const C3: f32 = 1.0 / 6.0;
const C4: f32 = 1.0 / 24.0;
const C5: f32 = 1.0 / 120.0;
const C6: f32 = 1.0 / 720.0;
const C7: f32 = 1.0 / 5040.0;

/// `2^k` for integer `k` in the normal exponent range [-126, 127].
#[inline(always)]
fn pow2<V: SimdF32>(k: V::Int) -> V {
    V::from_int_bits((k + V::Int::splat(127)) << 23_u32)
}

/// `e^x` lane-wise. NaN propagates; `-∞ → 0`, `+∞ → +∞`.
#[inline(always)]
pub(crate) fn exp<V: SimdF32>(x: V) -> V {
    let x = x.gt(V::splat(OVERFLOW_AT)).select(V::splat(OVERFLOW_AT), x);
    let x = x
        .lt(V::splat(UNDERFLOW_AT))
        .select(V::splat(UNDERFLOW_AT), x);
    scaled_exp(x, None)
}

/// `e^(hi + lo)` lane-wise, for an exponent carried as an unevaluated sum: `lo` enters the
/// reduced argument after the exact step `hi − k·LN2_HI`, so its bits are not lost to the
/// rounding of `hi + lo`. `lo` must be finite.
#[inline(always)]
pub(crate) fn exp_sum<V: SimdF32>(hi: V, lo: V) -> V {
    let sum = hi + lo;
    let out_of_range = sum.gt(V::splat(OVERFLOW_AT)) | sum.lt(V::splat(UNDERFLOW_AT));
    let limit = sum
        .gt(V::zero())
        .select(V::splat(OVERFLOW_AT), V::splat(UNDERFLOW_AT));
    // Out of range, the clamped sum alone (with `lo` = 0) gives the limit, 0 or +∞.
    let hi = out_of_range.select(limit, hi);
    let lo = out_of_range.select(V::zero(), lo);
    scaled_exp(hi, Some(lo))
}

/// `e^(hi + lo)` for a non-positive exponent carried as a two-sum, `hi` rounded and `lo` its
/// error (`|lo| <= ulp(hi)/2`; any `lo`, NaN included, where `hi = −∞`), such as a logit minus
/// the row maximum: the bits of [`exp_sum`], with the range test on `hi` alone.
///
/// The tests differ only where `hi` and `hi + lo` fall on either side of `UNDERFLOW_AT`, within
/// `2^-17` of it, and there both give 0 (the result is below half the smallest subnormal).
#[inline(always)]
pub(crate) fn exp_sum_nonpositive<V: SimdF32>(hi: V, lo: V) -> V {
    let underflows = hi.lt(V::splat(UNDERFLOW_AT));
    let hi = underflows.select(V::splat(UNDERFLOW_AT), hi);
    let lo = underflows.select(V::zero(), lo);
    scaled_exp(hi, Some(lo))
}

/// `e^(hi + lo)` for `hi + lo` within [UNDERFLOW_AT, OVERFLOW_AT] (or NaN).
#[inline(always)]
fn scaled_exp<V: SimdF32>(hi: V, lo: Option<V>) -> V {
    let x = match lo {
        Some(lo) => hi + lo,
        None => hi,
    };
    let shifted = x * V::splat(LOG2_E) + V::splat(ROUND_MAGIC);
    let kf = shifted - V::splat(ROUND_MAGIC);
    let k = shifted.to_int_bits() - V::Int::splat(ROUND_MAGIC.to_bits() as i32);
    let r = hi - kf * V::splat(LN2_HI);
    let r = match lo {
        Some(lo) => r + lo,
        None => r,
    };
    let r = r - kf * V::splat(LN2_LO);
    let q = V::splat(C6) + r * V::splat(C7);
    let q = V::splat(C5) + r * q;
    let q = V::splat(C4) + r * q;
    let q = V::splat(C3) + r * q;
    let q = V::splat(C2) + r * q;
    let p = V::splat(1.0) + (r + (r * r) * q);
    let k_half = k >> 1_u32;
    p * pow2::<V>(k_half) * pow2::<V>(k - k_half)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::Single;

    fn two_sum(z: f32, m: f32) -> (f32, f32) {
        let hi = z - m;
        let back = hi - z;
        (hi, (z - (hi - back)) + (-m - back))
    }

    fn bits(f: impl Fn(Single, Single) -> Single, hi: f32, lo: f32) -> u32 {
        f(Single(hi), Single(lo)).0.to_bits()
    }

    /// `exp_sum_nonpositive` gives `exp_sum`'s bits on two-sums `z − m` with `z <= m`, near the
    /// underflow threshold and across the range.
    #[test]
    fn nonpositive_exponents_give_exp_sum_bits() {
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_u32);
        let threshold = UNDERFLOW_AT;
        let mut straddling = 0;
        for i in 0..2_000_000u32 {
            let m = (next() % 2_000_001) as f32 / 10_000.0 - 100.0;
            let z = if i % 2 == 0 {
                // Near m + UNDERFLOW_AT: the two tests can disagree only there.
                let near = m + threshold;
                f32::from_bits(near.to_bits().wrapping_add(next() % 64).wrapping_sub(32))
            } else {
                m - (next() % 120_001) as f32 / 1000.0
            };
            if z > m {
                continue;
            }
            let (hi, lo) = two_sum(z, m);
            straddling += usize::from((hi < threshold) != (hi + lo < threshold));
            assert_eq!(
                bits(exp_sum_nonpositive, hi, lo),
                bits(exp_sum, hi, lo),
                "z = {z}, m = {m}"
            );
        }
        // Exponents on the threshold with every admissible error: `hi` on and next to it, `lo`
        // up to half an ULP of `hi` either way.
        let half_ulp = 2.0f32.powi(-18);
        for step in -8i32..=8 {
            let hi = f32::from_bits(threshold.to_bits().wrapping_add_signed(step));
            for k in -64i32..=64 {
                let lo = half_ulp * k as f32 / 64.0;
                straddling += usize::from((hi < threshold) != (hi + lo < threshold));
                assert_eq!(
                    bits(exp_sum_nonpositive, hi, lo),
                    bits(exp_sum, hi, lo),
                    "hi = {hi}, lo = {lo}"
                );
            }
        }
        assert!(straddling > 0);
        assert_eq!(bits(exp_sum_nonpositive, f32::NEG_INFINITY, f32::NAN), 0);
        assert!(
            exp_sum_nonpositive(Single(f32::NAN), Single(0.0))
                .0
                .is_nan()
        );
    }
}
