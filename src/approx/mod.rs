//! The crate's own `exp` and `log` approximations, used by [`Kernel::Simd`](crate::Kernel::Simd).
//!
//! They use only IEEE-754 basic operations (+, −, ×, ÷, comparisons, bit moves), never a
//! fused multiply-add, so they return the same bits on every target and at every lane count:
//! x86-64 SSE2, AVX2 or AVX-512, aarch64 NEON, Cortex-M with or without an FPU. The scalar
//! functions here run the lane code on one lane (the lane type of Cortex-M targets), so a
//! firmware engineer can reproduce on the host exactly what the device computes.
//!
//! Each function has an error budget in ULP beside it: the worst error over every `f32` of its
//! domain (`ln`: every third), measured by `cargo run --release --example approx_exhaustive`
//! and checked by the crate's tests on dense samples.

mod exp;
mod ln;

pub(crate) use exp::{
    OVERFLOW_AT as EXP_OVERFLOW_AT, UNDERFLOW_AT as EXP_UNDERFLOW_AT, exp as exp_lanes,
    exp_sum as exp_sum_lanes, exp_sum_nonpositive as exp_sum_nonpositive_lanes,
};
pub(crate) use ln::{
    ln as ln_lanes, ln_parts as ln_parts_lanes, log1p_from_ln as log1p_from_ln_lanes,
    log1p_unit as log1p_unit_lanes,
};

use crate::simd::{SimdF32, Single};

/// ln 2 split in two: `LN2_HI` has 16 significant bits, so `k · LN2_HI` is exact for
/// |k| <= 256, and `LN2_HI + LN2_LO` is ln 2 to about 2^-45.
pub(crate) const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
pub(crate) const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);

/// Largest error of [`exp`](fn@exp) in ULP where the result is a normal `f32`.
pub const EXP_MAX_ULP: f32 = 1.03;
/// Largest error of [`ln`](fn@ln) in ULP, for positive finite inputs.
pub const LN_MAX_ULP: f32 = 0.83;
/// Largest error of [`ln_1p`](fn@ln_1p) in ULP, for inputs in [0, 1].
pub const LN_1P_MAX_ULP: f32 = 1.24;

/// `e^x` with `Kernel::Simd`'s approximation (within [`EXP_MAX_ULP`]).
///
/// ```
/// let y = focal_loss::approx::exp(1.0);
/// assert!((y - core::f32::consts::E).abs() <= f32::EPSILON * 3.0);
/// assert_eq!(focal_loss::approx::exp(f32::NEG_INFINITY), 0.0);
/// ```
pub fn exp(x: f32) -> f32 {
    exp_lanes(Single::splat(x)).to_array()[0]
}

/// Natural logarithm with `Kernel::Simd`'s approximation (within [`LN_MAX_ULP`]).
/// `ln(0) = -∞`, negative or NaN input gives NaN.
///
/// ```
/// let y = focal_loss::approx::ln(10.0);
/// assert!((y - core::f32::consts::LN_10).abs() <= f32::EPSILON * 3.0);
/// assert!(focal_loss::approx::ln(-1.0).is_nan());
/// ```
pub fn ln(x: f32) -> f32 {
    ln_lanes(Single::splat(x)).to_array()[0]
}

/// `ln(1 + e)` for `e` in [0, 1] as `Kernel::Simd` computes it (within [`LN_1P_MAX_ULP`]);
/// this is the tail of every softplus in the crate. Outside [0, 1] the result is unspecified.
///
/// ```
/// let y = focal_loss::approx::ln_1p(1e-6);
/// assert!((y - 9.999995e-7).abs() <= 1e-12);
/// ```
pub fn ln_1p(e: f32) -> f32 {
    let e = Single::splat(e);
    let d = Single::splat(1.0) + e;
    let rd = Single::splat(1.0) / d;
    log1p_unit_lanes(e, d, rd).to_array()[0]
}
