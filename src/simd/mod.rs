//! The lane types [`Kernel::Simd`](crate::Kernel::Simd) runs on, behind one small trait
//! ([`SimdF32`]) so that the approximations and formulas are written once for every width.
//!
//! The width is chosen per target for speed and code size only; it never changes a result,
//! since every operation is lane-wise and the summation order is fixed by [`crate::sum`].
//! x86-64 and aarch64 take sixteen lanes (`wide`'s `f32x16`: one AVX-512 register, or two
//! AVX2 / four SSE2 / four NEON registers whose independent chains overlap). Every other
//! target, Cortex-M first, takes one lane ([`Single`]): without vector registers, `wide`
//! lowers lanes to copies of scalar code, which costs flash, stack and instructions and buys
//! nothing. So "SIMD" names the kernel's arithmetic (the crate's own approximations, the same
//! bits everywhere), not a promise of vector instructions.
//!
//! `--cfg focal_loss_lanes8` (eight lanes, `f32x8`) and `--cfg focal_loss_lanes1` (one) select
//! the other widths on any target, so the host can check that the width changes no bit.
//! `--cfg focal_loss_helium` selects four lanes (`f32x4`) on Arm, for the Cortex-M55's Helium
//! unit: an opt-in outside the bit-identity guarantee (see [`F32s`]).

mod single;
#[cfg(all(target_arch = "x86_64", not(focal_loss_lanes8), not(focal_loss_lanes1)))]
pub(crate) mod x86;

use core::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Not, Shl, Shr, Sub};
#[allow(unused_imports)]
use wide::{f32x4, f32x8, f32x16, i32x4, i32x8, i32x16};

pub(crate) use single::Single;

/// The `f32` lanes [`Kernel::Simd`](crate::Kernel::Simd) computes at a time on this target:
/// sixteen (`wide`'s `f32x16`) on x86-64 and aarch64.
#[cfg(all(
    any(target_arch = "x86_64", target_arch = "aarch64"),
    not(focal_loss_lanes8),
    not(focal_loss_lanes1)
))]
pub(crate) type F32s = f32x16;
/// The `f32` lanes [`Kernel::Simd`](crate::Kernel::Simd) computes at a time on this target:
/// eight (`wide`'s `f32x8`), selected by `--cfg focal_loss_lanes8`.
#[cfg(all(focal_loss_lanes8, not(focal_loss_lanes1)))]
pub(crate) type F32s = f32x8;
/// The `f32` lanes [`Kernel::Simd`](crate::Kernel::Simd) computes at a time on this target:
/// four (`wide`'s `f32x4`), selected on Arm by `--cfg focal_loss_helium`, for the Cortex-M55,
/// where LLVM turns `wide`'s four-lane fallback into Helium (MVE) vector code. Not part of
/// the bit-identity guarantee: MVE flushes subnormal inputs and results to zero whatever
/// FPSCR says (docs/embedded.md lists what that changes).
#[cfg(all(
    focal_loss_helium,
    target_arch = "arm",
    not(focal_loss_lanes8),
    not(focal_loss_lanes1)
))]
pub(crate) type F32s = wide::f32x4;
/// The `f32` lanes [`Kernel::Simd`](crate::Kernel::Simd) computes at a time on this target:
/// one ([`Single`]), on targets without vector registers or with `--cfg focal_loss_lanes1`.
#[cfg(any(
    focal_loss_lanes1,
    all(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        not(focal_loss_lanes8),
        not(all(focal_loss_helium, target_arch = "arm"))
    )
))]
pub(crate) type F32s = Single;

/// `core::array::from_fn`, always inlined (std's is not): everything a SIMD pass runs must be
/// inlined into the `#[target_feature]` function [`crate::dispatch`] runs it in. Every element
/// starts as `seed`.
#[inline(always)]
pub(crate) fn array_from_fn<T: Copy, const N: usize>(
    seed: T,
    mut f: impl FnMut(usize) -> T,
) -> [T; N] {
    let mut out = [seed; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = f(i);
    }
    out
}

/// `[T; N]::map`, always inlined (see [`array_from_fn`]).
#[inline(always)]
pub(crate) fn map_array<T: Copy, U: Copy, const N: usize>(
    a: [T; N],
    seed: U,
    mut f: impl FnMut(T) -> U,
) -> [U; N] {
    let mut out = [seed; N];
    for (o, x) in out.iter_mut().zip(a) {
        *o = f(x);
    }
    out
}

/// The number of lanes of [`F32s`]: 16 on x86-64 and aarch64, 1 on other targets (8 or 1
/// with the `focal_loss_lanes*` cfgs, 4 with `focal_loss_helium` on Arm).
pub(crate) const WIDTH: usize = <F32s as SimdF32>::LANES;

/// `index`, hidden from the optimiser on 32-bit Arm, so that a loop over it stays a scalar
/// loop there.
///
/// LLVM's loop vectoriser turns a one-lane loop over classes into Helium (MVE) vector code
/// on a Cortex-M55 (`+mve.fp`), and MVE flushes subnormal inputs and results to zero
/// whatever FPSCR says: the bits would no longer be the other targets'. A value it cannot
/// see through (an empty `asm` block holds it) makes each iteration opaque. Elsewhere it is
/// `index` itself: the vector units of x86-64 and aarch64 keep subnormals, and so does
/// RISC-V's V extension (the RV32 targets here have none), where the opaque index would only
/// cost flash. `cargo xtask test` disassembles the M55's programs to prove no such
/// instruction is left.
#[inline(always)]
pub(crate) fn scalar_index(index: usize) -> usize {
    #[cfg(not(target_arch = "arm"))]
    {
        index
    }
    #[cfg(target_arch = "arm")]
    {
        core::hint::black_box(index)
    }
}

/// `Copy` values closed under the IEEE basic operations `+ − × ÷` and negation: `f32` and
/// every lane type. Both [`SimdF32`] and [`KernelMath`](crate::kernel_math::KernelMath) build
/// on it.
pub(crate) trait BasicOps:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
}

impl<T> BasicOps for T where
    T: Copy
        + Add<Output = T>
        + Sub<Output = T>
        + Mul<Output = T>
        + Div<Output = T>
        + Neg<Output = T>
{
}

/// `f32` lanes with IEEE basic operations: `wide`'s vectors and [`Single`].
pub(crate) trait SimdF32:
    BasicOps + BitAnd<Output = Self> + BitOr<Output = Self> + Not<Output = Self>
{
    /// The matching vector of `i32` lanes.
    type Int: SimdI32;
    /// The result of a lane-wise comparison: all-ones / all-zeros lanes of `Self` on vector
    /// types, a `bool` on [`Single`], whose selects are then a conditional move.
    type Mask: SimdMask<Self>;
    /// The lanes as an array, `[f32; LANES]`.
    type Array: Copy + Default + AsRef<[f32]> + AsMut<[f32]>;
    /// The number of lanes.
    const LANES: usize;
    /// All lanes 0.
    #[inline(always)]
    fn zero() -> Self {
        Self::splat(0.0)
    }
    fn splat(v: f32) -> Self;
    fn from_array(a: Self::Array) -> Self;
    fn to_array(self) -> Self::Array;
    /// The first [`LANES`](Self::LANES) values of `values`, the missing lanes 0.
    fn load(values: &[f32]) -> Self;
    /// Writes the first `min(LANES, out.len())` lanes to `out`.
    fn store(self, out: &mut [f32]);
    /// `0, 1, …, LANES − 1`.
    #[inline(always)]
    fn lane_indices() -> Self {
        let mut a = Self::Array::default();
        for (i, lane) in a.as_mut().iter_mut().enumerate() {
            *lane = i as f32;
        }
        Self::from_array(a)
    }
    /// `f` of each of the first `LANES` items, the missing lanes 0.
    #[inline(always)]
    fn from_fn_of<T: Copy>(values: &[T], f: impl Fn(T) -> f32) -> Self {
        let mut a = Self::Array::default();
        for (lane, &v) in a.as_mut().iter_mut().zip(values) {
            *lane = f(v);
        }
        Self::from_array(a)
    }
    /// A block of `LANES` rows of `n = columns.len()` values each, row `l` at `rows[l·n ..]`
    /// (`rows.len() >= LANES·n`), transposed into one vector per column: lane `l` of
    /// `columns[j]` is `rows[l·n + j]`. A lane shuffle where the target has one; this default
    /// moves one value at a time.
    #[inline(always)]
    fn load_columns(rows: &[f32], columns: &mut [Self]) {
        let n = columns.len();
        for (j, column) in columns.iter_mut().enumerate() {
            let mut a = Self::Array::default();
            for (l, lane) in a.as_mut().iter_mut().enumerate() {
                // (Total: a short `rows` reads NaN.)
                *lane = rows.get(l * n + j).copied().unwrap_or(f32::NAN);
            }
            *column = Self::from_array(a);
        }
    }
    /// The inverse of [`load_columns`](Self::load_columns): `rows[l·n + j]` becomes lane `l`
    /// of `columns[j]`, for `n = columns.len()` and every `l < LANES` (`rows.len() >= LANES·n`).
    #[inline(always)]
    fn store_columns(columns: &[Self], rows: &mut [f32]) {
        let n = columns.len();
        for (j, column) in columns.iter().enumerate() {
            let lanes = column.to_array();
            for (l, &v) in lanes.as_ref().iter().enumerate() {
                // (Total: a short `rows` is written as far as it goes.)
                if let Some(out) = rows.get_mut(l * n + j) {
                    *out = v;
                }
            }
        }
    }
    fn abs(self) -> Self;
    fn lt(self, rhs: Self) -> Self::Mask;
    fn le(self, rhs: Self) -> Self::Mask;
    fn gt(self, rhs: Self) -> Self::Mask;
    fn ge(self, rhs: Self) -> Self::Mask;
    fn eq(self, rhs: Self) -> Self::Mask;
    fn to_int_bits(self) -> Self::Int;
    fn from_int_bits(bits: Self::Int) -> Self;
    /// Exact conversion of small integers.
    fn from_int(v: Self::Int) -> Self;
}

/// A lane-wise condition on the lanes `V`, from one of `V`'s comparisons.
pub(crate) trait SimdMask<V>:
    Copy + BitAnd<Output = Self> + BitOr<Output = Self> + Not<Output = Self>
{
    /// `if_true` in the lanes where the condition holds, else `if_false`.
    fn select(self, if_true: V, if_false: V) -> V;
    /// Whether the condition holds in any lane.
    fn any(self) -> bool;
    /// Whether the condition holds in every lane.
    fn all(self) -> bool;
}

/// `i32` lanes, the integer view of a [`SimdF32`].
pub(crate) trait SimdI32:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + BitAnd<Output = Self>
    + Shl<u32, Output = Self>
    + Shr<u32, Output = Self>
{
    fn splat(v: i32) -> Self;
}

/// [`SimdF32::load`] and [`SimdF32::store`] for a lane type of `$n` lanes whose `Array` is
/// `[f32; $n]`: one plain load or store for a whole vector, a padded copy for a tail.
macro_rules! load_store {
    ($n:literal) => {
        #[inline(always)]
        fn load(values: &[f32]) -> Self {
            match values.first_chunk::<$n>() {
                Some(a) => Self::from_array(*a),
                None => Self::from_fn_of(values, |v| v),
            }
        }
        #[inline(always)]
        fn store(self, out: &mut [f32]) {
            match out.first_chunk_mut::<$n>() {
                Some(dst) => *dst = self.to_array(),
                None => {
                    let n = out.len();
                    out.copy_from_slice(&self.to_array()[..n]);
                }
            }
        }
    };
}
#[cfg(all(target_arch = "x86_64", not(focal_loss_lanes8), not(focal_loss_lanes1)))]
pub(crate) use load_store;

macro_rules! simd_impl {
    ($f:ident, $i:ident, $n:literal) => {
        impl SimdI32 for $i {
            #[inline(always)]
            fn splat(v: i32) -> Self {
                $i::splat(v)
            }
        }

        impl SimdMask<$f> for $f {
            #[inline(always)]
            fn select(self, if_true: Self, if_false: Self) -> Self {
                $f::select(self, if_true, if_false)
            }
            #[inline(always)]
            fn any(self) -> bool {
                $f::any(self)
            }
            #[inline(always)]
            fn all(self) -> bool {
                $f::all(self)
            }
        }

        impl SimdF32 for $f {
            type Int = $i;
            type Mask = $f;
            type Array = [f32; $n];
            const LANES: usize = $n;
            #[inline(always)]
            fn splat(v: f32) -> Self {
                $f::splat(v)
            }
            #[inline(always)]
            fn from_array(a: Self::Array) -> Self {
                $f::new(a)
            }
            #[inline(always)]
            fn to_array(self) -> Self::Array {
                $f::to_array(self)
            }
            load_store!($n);
            #[inline(always)]
            fn abs(self) -> Self {
                $f::abs(self)
            }
            #[inline(always)]
            fn lt(self, rhs: Self) -> Self {
                self.simd_lt(rhs)
            }
            #[inline(always)]
            fn le(self, rhs: Self) -> Self {
                self.simd_le(rhs)
            }
            #[inline(always)]
            fn gt(self, rhs: Self) -> Self {
                self.simd_gt(rhs)
            }
            #[inline(always)]
            fn ge(self, rhs: Self) -> Self {
                self.simd_ge(rhs)
            }
            #[inline(always)]
            fn eq(self, rhs: Self) -> Self {
                self.simd_eq(rhs)
            }
            #[inline(always)]
            fn to_int_bits(self) -> $i {
                self.to_bits().cast_signed()
            }
            #[inline(always)]
            fn from_int_bits(bits: $i) -> Self {
                $f::from_bits(bits.cast_unsigned())
            }
            #[inline(always)]
            fn from_int(v: $i) -> Self {
                v.round_float()
            }
        }
    };
}

simd_impl!(f32x4, i32x4, 4);
simd_impl!(f32x8, i32x8, 8);
simd_impl!(f32x16, i32x16, 16);
