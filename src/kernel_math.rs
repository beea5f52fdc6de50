//! The arithmetic the loss formulas are written against, so that each formula is written once
//! and evaluated by both kernels: the type a formula is instantiated with picks the kernel's
//! elementary functions (`exp`, `ln`, `log1p`) as well as its number of lanes.
//!
//! - [`F32s`](crate::simd::F32s) (and any other [`SimdF32`]):
//!   [`Kernel::Simd`](crate::Kernel::Simd), the crate's own [`approx`](crate::approx)
//!   functions, [`WIDTH`](crate::simd::WIDTH) lanes (sixteen on x86-64 and aarch64, one
//!   elsewhere).
//! - `f32`: [`Kernel::Libm`](crate::Kernel::Libm), libm's functions, one element.

use crate::simd::{BasicOps, SimdF32};
use core::ops::{BitAnd, BitOr, Not};

/// One or more `f32` lanes with the IEEE basic operations and the elementary functions of one
/// kernel: libm's for `f32`, the crate's approximations for the lane types of [`crate::simd`].
pub(crate) trait KernelMath: BasicOps {
    /// A lane-wise boolean.
    type Mask: Copy
        + BitAnd<Output = Self::Mask>
        + BitOr<Output = Self::Mask>
        + Not<Output = Self::Mask>;

    fn splat(v: f32) -> Self;
    fn exp(self) -> Self;
    /// `e^(hi + lo)` for an exponent carried as an unevaluated sum (`lo` finite and small).
    fn exp_sum(hi: Self, lo: Self) -> Self;
    /// Natural log over the whole domain (`ln 0 = -∞`).
    fn ln(self) -> Self;
    /// `ln(1 + e)` for `e` in [0, 1], given `d = 1 + e` and `rd = 1 / d` (both rounded).
    fn log1p_unit(e: Self, d: Self, rd: Self) -> Self;
    fn abs(self) -> Self;
    fn ge(self, other: Self) -> Self::Mask;
    fn lt(self, other: Self) -> Self::Mask;
    fn eq(self, other: Self) -> Self::Mask;
    /// `if_true` where `mask`, else `if_false`.
    fn select(mask: Self::Mask, if_true: Self, if_false: Self) -> Self;
    fn all(mask: Self::Mask) -> bool;
    fn any(mask: Self::Mask) -> bool;

    /// `min(self, cap)` for a non-NaN `cap`, with the same rule on every target.
    #[inline(always)]
    fn cap(self, cap: f32) -> Self {
        let cap = Self::splat(cap);
        Self::select(self.lt(cap), self, cap)
    }
}

impl KernelMath for f32 {
    type Mask = bool;
    #[inline(always)]
    fn splat(v: f32) -> Self {
        v
    }
    #[inline(always)]
    fn exp(self) -> Self {
        libm::expf(self)
    }
    #[inline(always)]
    fn exp_sum(hi: Self, lo: Self) -> Self {
        libm::expf(hi) * libm::expf(lo)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        libm::logf(self)
    }
    #[inline(always)]
    fn log1p_unit(e: Self, _d: Self, _rd: Self) -> Self {
        libm::log1pf(e)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        libm::fabsf(self)
    }
    #[inline(always)]
    fn ge(self, other: Self) -> bool {
        self >= other
    }
    #[inline(always)]
    fn lt(self, other: Self) -> bool {
        self < other
    }
    #[inline(always)]
    fn eq(self, other: Self) -> bool {
        self == other
    }
    #[inline(always)]
    fn select(mask: bool, if_true: Self, if_false: Self) -> Self {
        if mask { if_true } else { if_false }
    }
    #[inline(always)]
    fn all(mask: bool) -> bool {
        mask
    }
    #[inline(always)]
    fn any(mask: bool) -> bool {
        mask
    }
}

impl<V: SimdF32> KernelMath for V {
    type Mask = V;
    #[inline(always)]
    fn splat(v: f32) -> Self {
        V::splat(v)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        crate::approx::exp_lanes(self)
    }
    #[inline(always)]
    fn exp_sum(hi: Self, lo: Self) -> Self {
        crate::approx::exp_sum_lanes(hi, lo)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        crate::approx::ln_lanes(self)
    }
    #[inline(always)]
    fn log1p_unit(e: Self, d: Self, rd: Self) -> Self {
        crate::approx::log1p_unit_lanes(e, d, rd)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        SimdF32::abs(self)
    }
    #[inline(always)]
    fn ge(self, other: Self) -> Self {
        SimdF32::ge(self, other)
    }
    #[inline(always)]
    fn lt(self, other: Self) -> Self {
        SimdF32::lt(self, other)
    }
    #[inline(always)]
    fn eq(self, other: Self) -> Self {
        SimdF32::eq(self, other)
    }
    #[inline(always)]
    fn select(mask: Self, if_true: Self, if_false: Self) -> Self {
        mask.select(if_true, if_false)
    }
    #[inline(always)]
    fn all(mask: Self) -> bool {
        SimdF32::all(mask)
    }
    #[inline(always)]
    fn any(mask: Self) -> bool {
        SimdF32::any(mask)
    }
}
