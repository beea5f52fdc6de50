//! The arithmetic the loss formulas are written against, so that each formula is written once
//! and evaluated by both kernels: the type a formula is instantiated with picks the kernel's
//! elementary functions (`exp`, `ln`, `log1p`) as well as its number of lanes.
//!
//! - [`F32s`](crate::simd::F32s) (and any other [`SimdF32`]):
//!   [`Kernel::Simd`](crate::Kernel::Simd), the crate's own [`approx`](crate::approx)
//!   functions, [`WIDTH`](crate::simd::WIDTH) lanes (sixteen on x86-64 and aarch64, one
//!   elsewhere).
//! - `f32`: [`Kernel::Libm`](crate::Kernel::Libm), libm's functions, one element.

use crate::simd::{BasicOps, SimdF32, SimdMask};
use core::ops::{BitAnd, BitOr, Not};

/// One or more `f32` lanes with the IEEE basic operations and the elementary functions of one
/// kernel: libm's for `f32`, the crate's approximations for the lane types of [`crate::simd`].
pub(crate) trait KernelMath: BasicOps {
    /// A lane-wise boolean.
    type Mask: Copy
        + BitAnd<Output = Self::Mask>
        + BitOr<Output = Self::Mask>
        + Not<Output = Self::Mask>;

    /// The number of lanes.
    const LANES: usize;
    /// The lanes as an array, `[f32; LANES]`.
    type Array: Copy + Default + AsRef<[f32]> + AsMut<[f32]>;

    fn splat(v: f32) -> Self;
    fn from_array(a: Self::Array) -> Self;
    fn to_array(self) -> Self::Array;
    /// The first [`LANES`](Self::LANES) values of `values`, the missing lanes 0.
    fn load(values: &[f32]) -> Self;
    /// Writes the first `min(LANES, out.len())` lanes to `out`.
    fn store(self, out: &mut [f32]);
    /// [`SimdF32::load_columns`]: `LANES` rows of `columns.len()` values into one vector per
    /// column.
    fn load_columns(rows: &[f32], columns: &mut [Self]);
    /// [`SimdF32::store_columns`], the inverse of [`load_columns`](Self::load_columns).
    fn store_columns(columns: &[Self], rows: &mut [f32]);
    fn exp(self) -> Self;
    /// `e^(hi + lo)` for an exponent carried as an unevaluated sum (`lo` finite, small
    /// beside `hi` or of the sign of `hi`). Where `hi + lo` is out of range the result is its
    /// limit, 0 or +∞, however the sum is split: the rounding error of a huge `hi` can be
    /// huge too (`2^104` at `f32::MAX`).
    fn exp_sum(hi: Self, lo: Self) -> Self;
    /// [`exp_sum`](Self::exp_sum) for a two-sum `hi + lo <= 0` (`lo` the rounding error of
    /// `hi`, or anything, NaN included, where `hi = −∞`): the same values, fewer operations.
    fn exp_sum_nonpositive(hi: Self, lo: Self) -> Self;
    /// Natural log over the whole domain (`ln 0 = -∞`).
    fn ln(self) -> Self;
    /// `ln x` of a positive finite `x` as an unevaluated sum `(big, small)`: `big = k·ln2_hi`
    /// exact (`x = 2^k·m`, `m` in [√½, √2)), `small` the rest, in about [−0.35, 0.35]. The
    /// same `ln` as [`ln`](Self::ln) to within its last rounding, with about 8 more bits
    /// where `|ln x|` is large. Other inputs give unspecified values.
    fn ln_parts(self) -> (Self, Self);
    /// `ln(1 + e)` for `e` in [0, 1], given `d = 1 + e` and `rd = 1 / d` (both rounded).
    fn log1p_unit(e: Self, d: Self, rd: Self) -> Self;
    /// `(ln d, ln(1 + e))` for `d` >= 1 and `rd = 1 / d` (rounded); the second value is
    /// specified where `e` is in [0, 1] and `d = 1 + e` rounded. `Kernel::Simd` takes it as
    /// `ln d` plus a correction ([`log1p_unit`](Self::log1p_unit)), so one logarithm serves
    /// both.
    fn ln_and_log1p_unit(d: Self, e: Self, rd: Self) -> (Self, Self);
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

/// libm's `expf`, called rather than inlined: each formula calls it from several places, and
/// one copy of it is what a microcontroller's flash can spare (the values are libm's either
/// way).
#[inline(never)]
fn expf(x: f32) -> f32 {
    libm::expf(x)
}

/// libm's `logf`, called rather than inlined (see [`expf`]).
#[inline(never)]
fn logf(x: f32) -> f32 {
    libm::logf(x)
}

/// libm's `log1pf`, called rather than inlined (see [`expf`]).
#[inline(never)]
fn log1pf(x: f32) -> f32 {
    libm::log1pf(x)
}

impl KernelMath for f32 {
    type Mask = bool;
    const LANES: usize = 1;
    type Array = [f32; 1];
    #[inline(always)]
    fn splat(v: f32) -> Self {
        v
    }
    #[inline(always)]
    fn from_array(a: [f32; 1]) -> Self {
        a[0]
    }
    #[inline(always)]
    fn to_array(self) -> [f32; 1] {
        [self]
    }
    #[inline(always)]
    fn load(values: &[f32]) -> Self {
        values.first().copied().unwrap_or(0.0)
    }
    #[inline(always)]
    fn store(self, out: &mut [f32]) {
        if let Some(dst) = out.first_mut() {
            *dst = self;
        }
    }
    #[inline(always)]
    fn load_columns(rows: &[f32], columns: &mut [Self]) {
        columns.copy_from_slice(&rows[..columns.len()]);
    }
    #[inline(always)]
    fn store_columns(columns: &[Self], rows: &mut [f32]) {
        rows[..columns.len()].copy_from_slice(columns);
    }
    #[inline(always)]
    fn exp(self) -> Self {
        expf(self)
    }
    /// Out of range the sum alone decides, as in `Kernel::Simd`: `e^hi · e^lo` would be
    /// `0 · ∞ = NaN` where `hi` underflows and its rounding error `lo` is above 88.7 (the
    /// error of any `hi` below about `−2^31`).
    #[inline(always)]
    fn exp_sum(hi: Self, lo: Self) -> Self {
        let sum = hi + lo;
        if sum < crate::approx::EXP_UNDERFLOW_AT {
            0.0
        } else if sum > crate::approx::EXP_OVERFLOW_AT {
            f32::INFINITY
        } else {
            expf(hi) * expf(lo)
        }
    }
    /// `lo` is left out where `hi = −∞` (where the exponential is 0 whatever `lo` is).
    #[inline(always)]
    fn exp_sum_nonpositive(hi: Self, lo: Self) -> Self {
        let lo = if hi == f32::NEG_INFINITY { 0.0 } else { lo };
        Self::exp_sum(hi, lo)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        logf(self)
    }
    /// `x = 2^k·m` by `frexpf` (exact), `ln m` by libm's `logf`.
    #[inline(always)]
    fn ln_parts(self) -> (Self, Self) {
        let (m, e) = libm::frexpf(self);
        let (m, e) = if m < core::f32::consts::FRAC_1_SQRT_2 {
            (m * 2.0, e - 1)
        } else {
            (m, e)
        };
        // |e| <= 149: the conversion is exact, and so is the product with the 16-bit LN2_HI.
        let k = e as f32;
        (
            k * crate::approx::LN2_HI,
            logf(m) + k * crate::approx::LN2_LO,
        )
    }
    #[inline(always)]
    fn log1p_unit(e: Self, _d: Self, _rd: Self) -> Self {
        log1pf(e)
    }
    #[inline(always)]
    fn ln_and_log1p_unit(d: Self, e: Self, _rd: Self) -> (Self, Self) {
        (logf(d), log1pf(e))
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
    type Mask = V::Mask;
    const LANES: usize = <V as SimdF32>::LANES;
    type Array = <V as SimdF32>::Array;
    #[inline(always)]
    fn splat(v: f32) -> Self {
        V::splat(v)
    }
    #[inline(always)]
    fn from_array(a: Self::Array) -> Self {
        <V as SimdF32>::from_array(a)
    }
    #[inline(always)]
    fn to_array(self) -> Self::Array {
        SimdF32::to_array(self)
    }
    #[inline(always)]
    fn load(values: &[f32]) -> Self {
        <V as SimdF32>::load(values)
    }
    #[inline(always)]
    fn store(self, out: &mut [f32]) {
        SimdF32::store(self, out);
    }
    #[inline(always)]
    fn load_columns(rows: &[f32], columns: &mut [Self]) {
        <V as SimdF32>::load_columns(rows, columns);
    }
    #[inline(always)]
    fn store_columns(columns: &[Self], rows: &mut [f32]) {
        <V as SimdF32>::store_columns(columns, rows);
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
    fn exp_sum_nonpositive(hi: Self, lo: Self) -> Self {
        crate::approx::exp_sum_nonpositive_lanes(hi, lo)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        crate::approx::ln_lanes(self)
    }
    #[inline(always)]
    fn ln_parts(self) -> (Self, Self) {
        crate::approx::ln_parts_lanes(self)
    }
    #[inline(always)]
    fn log1p_unit(e: Self, d: Self, rd: Self) -> Self {
        crate::approx::log1p_unit_lanes(e, d, rd)
    }
    /// `ln d` by the full-domain `ln`, which for the normal `d` >= 1 here gives the bits of
    /// the `ln` inside [`log1p_unit`](Self::log1p_unit).
    #[inline(always)]
    fn ln_and_log1p_unit(d: Self, e: Self, rd: Self) -> (Self, Self) {
        let ln_d = crate::approx::ln_lanes(d);
        (ln_d, crate::approx::log1p_from_ln_lanes(ln_d, e, d, rd))
    }
    #[inline(always)]
    fn abs(self) -> Self {
        SimdF32::abs(self)
    }
    #[inline(always)]
    fn ge(self, other: Self) -> V::Mask {
        SimdF32::ge(self, other)
    }
    #[inline(always)]
    fn lt(self, other: Self) -> V::Mask {
        SimdF32::lt(self, other)
    }
    #[inline(always)]
    fn eq(self, other: Self) -> V::Mask {
        SimdF32::eq(self, other)
    }
    #[inline(always)]
    fn select(mask: V::Mask, if_true: Self, if_false: Self) -> Self {
        mask.select(if_true, if_false)
    }
    #[inline(always)]
    fn all(mask: V::Mask) -> bool {
        mask.all()
    }
    #[inline(always)]
    fn any(mask: V::Mask) -> bool {
        mask.any()
    }
}
