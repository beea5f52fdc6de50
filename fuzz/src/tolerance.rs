//! How far `Kernel::Simd` may be from `Kernel::Libm`, from the bounds the accuracy tests
//! hold each kernel to against the `f64` references.
//!
//! Each kernel is within `bound` ULP of the reference, measured at the reference's `scale`
//! (`testkit::ulp::check`: the value's magnitude, or the sum of its terms' magnitudes where
//! a difference cancels), or within half the smallest normal `f32` where that scale is not
//! normal. So the two differ by at most `2·bound` ULP of `scale` plus the smallest normal.
//! Roundings applied after the formula (a weight, the reduction's `1/n`) add `extra` ULP of
//! the values themselves.

use testkit::ulp::ulp_at;

/// Smallest normal `f32`, as `f64`.
const MIN_NORMAL: f64 = f32::MIN_POSITIVE as f64;

/// An `f32` as `f64`, ±∞ as ±2^128 (one step beyond `f32::MAX`), so a value that overflows
/// in one kernel and rounds to `f32::MAX` in the other is a finite distance apart.
pub fn widen(v: f32) -> f64 {
    if v.is_infinite() {
        f64::from(v.signum()) * 2f64.powi(128)
    } else {
        f64::from(v)
    }
}

/// The ULP of `f32` at magnitude `m`, 0 where `m` is not a normal `f32` magnitude.
pub fn ulp(m: f64) -> f64 {
    if (MIN_NORMAL..=f64::from(f32::MAX)).contains(&m) {
        ulp_at(m)
    } else if m > f64::from(f32::MAX) {
        ulp_at(f64::from(f32::MAX))
    } else {
        0.0
    }
}

/// The largest difference allowed between the kernels' values `simd` and `libm`: `2·bound`
/// ULP of `scale` (the reference's; where it is NaN, the values' own magnitude), `extra`
/// ULP of the values, and the smallest normal `f32`.
pub fn allowance(simd: f32, libm: f32, scale: f64, bound: f64, extra: f64) -> f64 {
    let magnitude = widen(simd).abs().max(widen(libm).abs());
    let scale = if scale.is_nan() { magnitude } else { scale };
    2.0 * bound * ulp(scale) + extra * ulp(magnitude) + MIN_NORMAL
}

/// `simd` and `libm` agree: bit-identical, or both numbers within `allowed` of each other.
pub fn within(simd: f32, libm: f32, allowed: f64) -> bool {
    simd.to_bits() == libm.to_bits()
        || (!simd.is_nan() && !libm.is_nan() && (widen(simd) - widen(libm)).abs() <= allowed)
}

/// [`within`] the [`allowance`]: the kernels' values of one element agree.
pub fn agree(simd: f32, libm: f32, scale: f64, bound: f64, extra: f64) -> bool {
    within(simd, libm, allowance(simd, libm, scale, bound, extra))
}

/// The summation error of the reductions (`src/sum.rs`): a lane adds 16 values in `f32`
/// before its block is folded into a compensated pair, so each kernel's sum is within
/// `(16 + 2)·ε·Σ|l_i|` of the exact sum of its values; twice that between the kernels.
pub const SUM_ULPS: f64 = 2.0 * (16.0 + 2.0);

/// `ε = 2^-23` as `f64`.
pub const EPS: f64 = f32::EPSILON as f64;
