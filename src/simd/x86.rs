//! The crate's only `unsafe` code: AVX2 and AVX-512F lane types for x86-64, the CPU check
//! that decides whether they may run, and the two `#[target_feature]` entry points that run a
//! [`Job`] on them.
//!
//! `wide` picks its instructions by `cfg(target_feature)` when the crate is compiled, so a
//! default build (SSE2) cannot reach wider registers through it. These types implement the
//! same [`SimdF32`] interface with `core::arch` intrinsics, sixteen lanes each like the
//! baseline `f32x16` (two `__m256`, or one `__m512`), and perform exactly the IEEE operation
//! of each lane that the other lane types perform: no fused multiply-add, ordered
//! non-signalling compares giving all-ones / all-zeros masks, selects by the mask's sign bit,
//! `i32 → f32` conversion only of small (exact) integers. So every dispatch level computes the
//! same bits; `tests/determinism.rs` checks each level this CPU has.
//!
//! # Soundness
//! Each intrinsic needs its CPU feature. The lane types are private to this module, so the
//! only code that runs their methods is a `Job` instantiated by [`on_avx2`] or [`on_avx512`],
//! and [`run`] calls those only after [`detected`] found the features (CPUID bits and the
//! OS-enabled register state in XCR0). Every method is `#[inline(always)]`, so it is compiled
//! inside those `#[target_feature]` functions.

#![allow(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::arch::x86_64::*;
use core::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Not, Shl, Shr, Sub};

use super::{SimdF32, SimdI32, SimdMask};
use crate::dispatch::{Job, Level};

/// The best level this CPU and OS support: AVX-512F and AVX2 need their CPUID bits and the
/// vector state enabled by the OS (XCR0: SSE and AVX state, plus opmask and ZMM state for
/// AVX-512).
pub(crate) fn detected() -> Level {
    const OSXSAVE: u32 = 1 << 27;
    const AVX: u32 = 1 << 28;
    const AVX2: u32 = 1 << 5;
    const AVX512F: u32 = 1 << 16;
    const XCR0_YMM: u64 = 0b110;
    const XCR0_ZMM: u64 = 0b1110_0110;
    // SAFETY: CPUID exists on every x86-64 CPU. The intrinsics are safe functions in the Rust
    // CI builds with (1.95) and `unsafe` in 1.89, the declared `rust-version`, which the block
    // keeps building (the MSRV stage of `cargo xtask test`).
    #[allow(unused_unsafe)]
    let (leaf0, leaf1) = unsafe { (__cpuid(0), __cpuid(1)) };
    if leaf1.ecx & (OSXSAVE | AVX) != OSXSAVE | AVX || leaf0.eax < 7 {
        return Level::Baseline;
    }
    // SAFETY: `xgetbv` exists when CPUID reports OSXSAVE, checked above.
    let xcr0 = unsafe { _xgetbv(0) };
    // SAFETY: as for leaves 0 and 1 above; leaf 7 exists, as leaf 0 reported.
    #[allow(unused_unsafe)]
    let leaf7 = unsafe { __cpuid_count(7, 0) };
    if leaf7.ebx & AVX512F != 0 && xcr0 & XCR0_ZMM == XCR0_ZMM && leaf7.ebx & AVX2 != 0 {
        Level::Avx512
    } else if leaf7.ebx & AVX2 != 0 && xcr0 & XCR0_YMM == XCR0_YMM {
        Level::Avx2
    } else {
        Level::Baseline
    }
}

/// Runs `job` on the lanes of `level`, or of the best level this CPU has if that is lower.
#[inline]
pub(crate) fn run<J: Job>(job: J, level: Level) -> J::Output {
    match level.min(detected_cached()) {
        // SAFETY: the CPU has AVX-512F and the OS saves ZMM state (`detected`).
        Level::Avx512 => unsafe { on_avx512(job) },
        // SAFETY: the CPU has AVX2 and the OS saves YMM state (`detected`).
        Level::Avx2 => unsafe { on_avx2(job) },
        Level::Baseline => job.run::<super::F32s>(),
    }
}

/// [`detected`], computed once.
#[inline]
pub(crate) fn detected_cached() -> Level {
    use core::sync::atomic::{AtomicU8, Ordering};
    /// 0 until the first call, then 1 + the level.
    static DETECTED: AtomicU8 = AtomicU8::new(0);
    match DETECTED.load(Ordering::Relaxed) {
        0 => {
            let level = detected();
            DETECTED.store(1 + level as u8, Ordering::Relaxed);
            level
        }
        1 => Level::Baseline,
        2 => Level::Avx2,
        _ => Level::Avx512,
    }
}

#[target_feature(enable = "avx2")]
fn on_avx2<J: Job>(job: J) -> J::Output {
    job.run::<Avx2>()
}

#[target_feature(enable = "avx512f")]
fn on_avx512<J: Job>(job: J) -> J::Output {
    job.run::<Avx512>()
}

/// Sixteen `f32` lanes in two AVX registers.
#[derive(Clone, Copy)]
struct Avx2(__m256, __m256);

/// Sixteen `i32` lanes in two AVX2 registers.
#[derive(Clone, Copy)]
struct Avx2Int(__m256i, __m256i);

/// Sixteen `f32` lanes in one AVX-512 register.
#[derive(Clone, Copy)]
struct Avx512(__m512);

/// Sixteen `i32` lanes in one AVX-512 register.
#[derive(Clone, Copy)]
struct Avx512Int(__m512i);

/// `SimdMask::any` and `all` from the sixteen sign bits of a mask.
macro_rules! sign_bit_queries {
    () => {
        #[inline(always)]
        fn any(self) -> bool {
            self.sign_bits() != 0
        }
        #[inline(always)]
        fn all(self) -> bool {
            self.sign_bits() == 0xffff
        }
    };
}

/// Implements a binary operator on a lane type from one intrinsic per register.
macro_rules! binary {
    ($lane:ident, $trait:ident, $method:ident, $intrinsic:ident, $($field:tt),+) => {
        impl $trait for $lane {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                // SAFETY: see the module's soundness note; the intrinsic is plain arithmetic.
                unsafe { $lane($($intrinsic(self.$field, rhs.$field)),+) }
            }
        }
    };
}

binary!(Avx2, Add, add, _mm256_add_ps, 0, 1);
binary!(Avx2, Sub, sub, _mm256_sub_ps, 0, 1);
binary!(Avx2, Mul, mul, _mm256_mul_ps, 0, 1);
binary!(Avx2, Div, div, _mm256_div_ps, 0, 1);
binary!(Avx2, BitAnd, bitand, _mm256_and_ps, 0, 1);
binary!(Avx2, BitOr, bitor, _mm256_or_ps, 0, 1);
binary!(Avx2Int, Add, add, _mm256_add_epi32, 0, 1);
binary!(Avx2Int, Sub, sub, _mm256_sub_epi32, 0, 1);
binary!(Avx2Int, BitAnd, bitand, _mm256_and_si256, 0, 1);
binary!(Avx512, Add, add, _mm512_add_ps, 0);
binary!(Avx512, Sub, sub, _mm512_sub_ps, 0);
binary!(Avx512, Mul, mul, _mm512_mul_ps, 0);
binary!(Avx512, Div, div, _mm512_div_ps, 0);
binary!(Avx512Int, Add, add, _mm512_add_epi32, 0);
binary!(Avx512Int, Sub, sub, _mm512_sub_epi32, 0);
binary!(Avx512Int, BitAnd, bitand, _mm512_and_si512, 0);

impl Neg for Avx2 {
    type Output = Self;
    /// Flips the sign bit, as `wide`'s `neg` does (so `−(+0) = −0`).
    #[inline(always)]
    fn neg(self) -> Self {
        self ^ Avx2::splat(-0.0)
    }
}

impl Not for Avx2 {
    type Output = Self;
    #[inline(always)]
    fn not(self) -> Self {
        self ^ Avx2::from_int_bits(Avx2Int::splat(-1))
    }
}

impl core::ops::BitXor for Avx2 {
    type Output = Self;
    #[inline(always)]
    fn bitxor(self, rhs: Self) -> Self {
        // SAFETY: see the module's soundness note.
        unsafe { Avx2(_mm256_xor_ps(self.0, rhs.0), _mm256_xor_ps(self.1, rhs.1)) }
    }
}

impl Avx2 {
    /// The comparison `PREDICATE` (an ordered, non-signalling `_CMP_*_OQ`) of every lane.
    #[inline(always)]
    fn compare<const PREDICATE: i32>(self, rhs: Self) -> Self {
        // SAFETY: see the module's soundness note.
        unsafe {
            Avx2(
                _mm256_cmp_ps::<PREDICATE>(self.0, rhs.0),
                _mm256_cmp_ps::<PREDICATE>(self.1, rhs.1),
            )
        }
    }

    /// One bit per lane: the sign bits.
    #[inline(always)]
    fn sign_bits(self) -> u32 {
        // SAFETY: see the module's soundness note.
        let (low, high) = unsafe { (_mm256_movemask_ps(self.0), _mm256_movemask_ps(self.1)) };
        (low as u32) | ((high as u32) << 8)
    }
}

impl Shl<u32> for Avx2Int {
    type Output = Self;
    #[inline(always)]
    fn shl(self, n: u32) -> Self {
        // SAFETY: see the module's soundness note.
        unsafe {
            let n = _mm_cvtsi32_si128(n as i32);
            Avx2Int(_mm256_sll_epi32(self.0, n), _mm256_sll_epi32(self.1, n))
        }
    }
}

impl Shr<u32> for Avx2Int {
    type Output = Self;
    /// Arithmetic shift, as `wide`'s.
    #[inline(always)]
    fn shr(self, n: u32) -> Self {
        // SAFETY: see the module's soundness note.
        unsafe {
            let n = _mm_cvtsi32_si128(n as i32);
            Avx2Int(_mm256_sra_epi32(self.0, n), _mm256_sra_epi32(self.1, n))
        }
    }
}

impl SimdI32 for Avx2Int {
    #[inline(always)]
    fn splat(v: i32) -> Self {
        // SAFETY: see the module's soundness note.
        unsafe { Avx2Int(_mm256_set1_epi32(v), _mm256_set1_epi32(v)) }
    }
}

impl SimdMask<Avx2> for Avx2 {
    /// By the mask's sign bit, as `wide`'s AVX select.
    #[inline(always)]
    fn select(self, if_true: Self, if_false: Self) -> Self {
        // SAFETY: see the module's soundness note.
        unsafe {
            Avx2(
                _mm256_blendv_ps(if_false.0, if_true.0, self.0),
                _mm256_blendv_ps(if_false.1, if_true.1, self.1),
            )
        }
    }
    sign_bit_queries!();
}

impl SimdF32 for Avx2 {
    type Int = Avx2Int;
    type Mask = Self;
    type Array = [f32; 16];
    const LANES: usize = 16;
    #[inline(always)]
    fn splat(v: f32) -> Self {
        // SAFETY: see the module's soundness note.
        unsafe { Avx2(_mm256_set1_ps(v), _mm256_set1_ps(v)) }
    }
    #[inline(always)]
    fn from_array(a: [f32; 16]) -> Self {
        // SAFETY: `a` holds 16 floats; `loadu` needs no alignment.
        unsafe {
            Avx2(
                _mm256_loadu_ps(a.as_ptr()),
                _mm256_loadu_ps(a.as_ptr().add(8)),
            )
        }
    }
    #[inline(always)]
    fn to_array(self) -> [f32; 16] {
        let mut a = [0.0f32; 16];
        // SAFETY: `a` has room for 16 floats; `storeu` needs no alignment.
        unsafe {
            _mm256_storeu_ps(a.as_mut_ptr(), self.0);
            _mm256_storeu_ps(a.as_mut_ptr().add(8), self.1);
        }
        a
    }
    super::load_store!(16);
    #[inline(always)]
    fn abs(self) -> Self {
        self & Avx2::from_int_bits(Avx2Int::splat(i32::MAX))
    }
    #[inline(always)]
    fn lt(self, rhs: Self) -> Self {
        self.compare::<_CMP_LT_OQ>(rhs)
    }
    #[inline(always)]
    fn le(self, rhs: Self) -> Self {
        self.compare::<_CMP_LE_OQ>(rhs)
    }
    #[inline(always)]
    fn gt(self, rhs: Self) -> Self {
        self.compare::<_CMP_GT_OQ>(rhs)
    }
    #[inline(always)]
    fn ge(self, rhs: Self) -> Self {
        self.compare::<_CMP_GE_OQ>(rhs)
    }
    #[inline(always)]
    fn eq(self, rhs: Self) -> Self {
        self.compare::<_CMP_EQ_OQ>(rhs)
    }
    #[inline(always)]
    fn to_int_bits(self) -> Avx2Int {
        // SAFETY: see the module's soundness note (a bit cast).
        unsafe { Avx2Int(_mm256_castps_si256(self.0), _mm256_castps_si256(self.1)) }
    }
    #[inline(always)]
    fn from_int_bits(bits: Avx2Int) -> Self {
        // SAFETY: see the module's soundness note (a bit cast).
        unsafe { Avx2(_mm256_castsi256_ps(bits.0), _mm256_castsi256_ps(bits.1)) }
    }
    #[inline(always)]
    fn from_int(v: Avx2Int) -> Self {
        // SAFETY: see the module's soundness note; small integers convert exactly.
        unsafe { Avx2(_mm256_cvtepi32_ps(v.0), _mm256_cvtepi32_ps(v.1)) }
    }
}

impl Avx512 {
    /// The lanes as integer bits.
    #[inline(always)]
    fn bits(self) -> __m512i {
        // SAFETY: see the module's soundness note (a bit cast).
        unsafe { _mm512_castps_si512(self.0) }
    }

    /// Lanes from integer bits.
    #[inline(always)]
    fn of_bits(bits: __m512i) -> Self {
        // SAFETY: see the module's soundness note (a bit cast).
        Avx512(unsafe { _mm512_castsi512_ps(bits) })
    }

    /// The comparison `PREDICATE` (an ordered, non-signalling `_CMP_*_OQ`) of every lane, as
    /// an all-ones / all-zeros mask like the other lane types'.
    #[inline(always)]
    fn compare<const PREDICATE: i32>(self, rhs: Self) -> Self {
        // SAFETY: see the module's soundness note (AVX-512F only: no DQ mask moves).
        unsafe {
            let holds = _mm512_cmp_ps_mask::<PREDICATE>(self.0, rhs.0);
            Self::of_bits(_mm512_maskz_mov_epi32(holds, _mm512_set1_epi32(-1)))
        }
    }

    /// One bit per lane: the sign bits.
    #[inline(always)]
    fn sign_bits(self) -> u16 {
        // SAFETY: see the module's soundness note.
        unsafe { _mm512_cmplt_epi32_mask(self.bits(), _mm512_setzero_si512()) }
    }
}

impl BitAnd for Avx512 {
    type Output = Self;
    #[inline(always)]
    fn bitand(self, rhs: Self) -> Self {
        // SAFETY: see the module's soundness note.
        Self::of_bits(unsafe { _mm512_and_si512(self.bits(), rhs.bits()) })
    }
}

impl BitOr for Avx512 {
    type Output = Self;
    #[inline(always)]
    fn bitor(self, rhs: Self) -> Self {
        // SAFETY: see the module's soundness note.
        Self::of_bits(unsafe { _mm512_or_si512(self.bits(), rhs.bits()) })
    }
}

impl Not for Avx512 {
    type Output = Self;
    #[inline(always)]
    fn not(self) -> Self {
        // SAFETY: see the module's soundness note.
        Self::of_bits(unsafe { _mm512_xor_si512(self.bits(), _mm512_set1_epi32(-1)) })
    }
}

impl Neg for Avx512 {
    type Output = Self;
    /// Flips the sign bit, as `wide`'s `neg` does (so `−(+0) = −0`).
    #[inline(always)]
    fn neg(self) -> Self {
        // SAFETY: see the module's soundness note.
        Self::of_bits(unsafe { _mm512_xor_si512(self.bits(), _mm512_set1_epi32(i32::MIN)) })
    }
}

impl Shl<u32> for Avx512Int {
    type Output = Self;
    #[inline(always)]
    fn shl(self, n: u32) -> Self {
        // SAFETY: see the module's soundness note.
        unsafe { Avx512Int(_mm512_sll_epi32(self.0, _mm_cvtsi32_si128(n as i32))) }
    }
}

impl Shr<u32> for Avx512Int {
    type Output = Self;
    /// Arithmetic shift, as `wide`'s.
    #[inline(always)]
    fn shr(self, n: u32) -> Self {
        // SAFETY: see the module's soundness note.
        unsafe { Avx512Int(_mm512_sra_epi32(self.0, _mm_cvtsi32_si128(n as i32))) }
    }
}

impl SimdI32 for Avx512Int {
    #[inline(always)]
    fn splat(v: i32) -> Self {
        // SAFETY: see the module's soundness note.
        Avx512Int(unsafe { _mm512_set1_epi32(v) })
    }
}

impl SimdMask<Avx512> for Avx512 {
    /// By the mask's sign bit, as the other lane types select.
    #[inline(always)]
    fn select(self, if_true: Self, if_false: Self) -> Self {
        // SAFETY: see the module's soundness note.
        Avx512(unsafe { _mm512_mask_blend_ps(self.sign_bits(), if_false.0, if_true.0) })
    }
    sign_bit_queries!();
}

impl SimdF32 for Avx512 {
    type Int = Avx512Int;
    type Mask = Self;
    type Array = [f32; 16];
    const LANES: usize = 16;
    #[inline(always)]
    fn splat(v: f32) -> Self {
        // SAFETY: see the module's soundness note.
        Avx512(unsafe { _mm512_set1_ps(v) })
    }
    #[inline(always)]
    fn from_array(a: [f32; 16]) -> Self {
        // SAFETY: `a` holds 16 floats; `loadu` needs no alignment.
        Avx512(unsafe { _mm512_loadu_ps(a.as_ptr()) })
    }
    #[inline(always)]
    fn to_array(self) -> [f32; 16] {
        let mut a = [0.0f32; 16];
        // SAFETY: `a` has room for 16 floats; `storeu` needs no alignment.
        unsafe { _mm512_storeu_ps(a.as_mut_ptr(), self.0) };
        a
    }
    super::load_store!(16);
    #[inline(always)]
    fn abs(self) -> Self {
        // SAFETY: see the module's soundness note.
        Self::of_bits(unsafe { _mm512_and_si512(self.bits(), _mm512_set1_epi32(i32::MAX)) })
    }
    #[inline(always)]
    fn lt(self, rhs: Self) -> Self {
        self.compare::<_CMP_LT_OQ>(rhs)
    }
    #[inline(always)]
    fn le(self, rhs: Self) -> Self {
        self.compare::<_CMP_LE_OQ>(rhs)
    }
    #[inline(always)]
    fn gt(self, rhs: Self) -> Self {
        self.compare::<_CMP_GT_OQ>(rhs)
    }
    #[inline(always)]
    fn ge(self, rhs: Self) -> Self {
        self.compare::<_CMP_GE_OQ>(rhs)
    }
    #[inline(always)]
    fn eq(self, rhs: Self) -> Self {
        self.compare::<_CMP_EQ_OQ>(rhs)
    }
    #[inline(always)]
    fn to_int_bits(self) -> Avx512Int {
        Avx512Int(self.bits())
    }
    #[inline(always)]
    fn from_int_bits(bits: Avx512Int) -> Self {
        Self::of_bits(bits.0)
    }
    #[inline(always)]
    fn from_int(v: Avx512Int) -> Self {
        // SAFETY: see the module's soundness note; small integers convert exactly.
        Avx512(unsafe { _mm512_cvtepi32_ps(v.0) })
    }
}
