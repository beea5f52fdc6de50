//! Natural logarithm lane-wise, with IEEE basic operations only.
//!
//! Method: `x = 2^k · m` with `m` in [√½, √2) (exponent taken from the bits), `f = m − 1`
//! exactly, `s = f / (2 + f)`, and the identity `ln(1+f) = f − f²/2 + s·(f²/2 + R(s²))` where
//! `R(z) = 2z/3 + 2z²/5 + 2z³/7 + 2z⁴/9` is the series of `2·atanh(s)/s − 2` (|s| <= 0.1716,
//! so the next term is below 2^-28 relative). The large terms `f` and `k·ln2` enter last, so
//! rounding in the small correction hardly shows.
//! Error budgets: [`LN_MAX_ULP`](super::LN_MAX_ULP), [`LN_1P_MAX_ULP`](super::LN_1P_MAX_ULP).

use super::{LN2_HI, LN2_LO};
use crate::simd::{SimdF32, SimdI32, SimdMask};

/// Bits of √½ (rounded): mantissas at or above it keep exponent k, below it borrow one.
const SQRT_HALF_BITS: i32 = 0x3f35_04f3;
const ONE_BITS: i32 = 0x3f80_0000;
const MANTISSA_MASK: i32 = 0x007f_ffff;
const R1: f32 = 2.0 / 3.0;
const R2: f32 = 2.0 / 5.0;
const R3: f32 = 2.0 / 7.0;
const R4: f32 = 2.0 / 9.0;
/// 2^24, to lift subnormal inputs into the normal range.
const TWO_POW_24: f32 = 16_777_216.0;

/// `ln(x)` for positive, finite, normal `x` (other lanes give unspecified finite values).
#[inline(always)]
pub(crate) fn ln_normal<V: SimdF32>(x: V) -> V {
    ln_scaled(x, None)
}

/// `ln(x) + k_extra·ln 2` for positive, finite, normal `x`.
#[inline(always)]
fn ln_scaled<V: SimdF32>(x: V, k_extra: Option<V>) -> V {
    let (big, small) = ln_scaled_parts(x, k_extra);
    small + big
}

/// [`ln_scaled`] before its last addition: `(k·LN2_HI, rest)`, the first exact (`k` has at
/// most 8 bits and `LN2_HI` 16), `rest` in about [−0.35, 0.35].
///
/// Inlined on vector targets (a SIMD pass must be inlined whole into its `#[target_feature]`
/// function); one copy per lane type on the one-lane targets, where every `ln` of every
/// formula would otherwise inline its own (about 1 KiB of soft-float calls per copy on
/// RV32IMAC).
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), inline(always))]
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(never)
)]
fn ln_scaled_parts<V: SimdF32>(x: V, k_extra: Option<V>) -> (V, V) {
    let bits = x.to_int_bits() + V::Int::splat(ONE_BITS - SQRT_HALF_BITS);
    let k = (bits >> 23_u32) - V::Int::splat(127);
    let m = V::from_int_bits((bits & V::Int::splat(MANTISSA_MASK)) + V::Int::splat(SQRT_HALF_BITS));
    let f = m - V::splat(1.0);
    let s = f / (V::splat(2.0) + f);
    let z = s * s;
    let r = z * (V::splat(R1) + z * (V::splat(R2) + z * (V::splat(R3) + z * V::splat(R4))));
    let hfsq = V::splat(0.5) * f * f;
    // Small integers: the conversion and the addition are exact.
    let kf = match k_extra {
        Some(extra) => V::from_int(k) + extra,
        None => V::from_int(k),
    };
    let rest = ((s * (hfsq + r) + kf * V::splat(LN2_LO)) - hfsq) + f;
    (kf * V::splat(LN2_HI), rest)
}

/// `ln(x)` of a positive finite `x`, subnormals included, as the unevaluated sum
/// `big + small`: `big = k·LN2_HI` exact, `small` in about [−0.35, 0.35]. [`ln`] is
/// `small + big` rounded; kept apart, the sum carries about 8 more bits where `|ln x|` is
/// large, which `q^γ = e^(γ·ln q)` needs (a product `γ·ln q` of a rounded `ln q` scales its
/// rounding error by γ). Other inputs (0, ∞, NaN, negative) give unspecified values.
#[inline(always)]
pub(crate) fn ln_parts<V: SimdF32>(x: V) -> (V, V) {
    let subnormal = x.lt(V::splat(f32::MIN_POSITIVE));
    let lifted = subnormal.select(x * V::splat(TWO_POW_24), x);
    let k_extra = subnormal.select(V::splat(-24.0), V::zero());
    ln_scaled_parts(lifted, Some(k_extra))
}

/// `ln(x)` over the whole domain: subnormals handled, `ln(0) = -∞`, `ln(+∞) = +∞`,
/// negative or NaN input gives NaN.
#[inline(always)]
pub(crate) fn ln<V: SimdF32>(x: V) -> V {
    let zero = V::zero();
    let (big, small) = ln_parts(x);
    let y = small + big;
    let y = x.eq(zero).select(V::splat(f32::NEG_INFINITY), y);
    let y = x.eq(V::splat(f32::INFINITY)).select(x, y);
    let valid = x.gt(zero) | x.eq(zero);
    valid.select(y, V::splat(f32::NAN))
}

/// `ln(1 + e)` for `e` in [0, 1], given `d = 1 + e` rounded and `rd = 1 / d` rounded.
///
/// `d` loses the low bits of `e`; they are exactly `c = e − (d − 1)` (both subtractions are
/// exact here), and `ln(1 + e) = ln(d) + ln(1 + c/d) ≈ ln(d) + c·rd`.
#[inline(always)]
pub(crate) fn log1p_unit<V: SimdF32>(e: V, d: V, rd: V) -> V {
    log1p_from_ln(ln_normal(d), e, d, rd)
}

/// [`log1p_unit`] given `ln_d = ln_normal(d)` (or the same bits from [`ln`]).
#[inline(always)]
pub(crate) fn log1p_from_ln<V: SimdF32>(ln_d: V, e: V, d: V, rd: V) -> V {
    let c = e - (d - V::splat(1.0));
    ln_d + c * rd
}
