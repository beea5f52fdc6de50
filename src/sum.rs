//! Summations whose order is fixed by the algorithm, not by the hardware.
//!
//! [`BlockSum`], the losses of a pass: values arrive in index order, eight at a time (a wider
//! vector is taken as consecutive groups of eight; one lane at a time is gathered into groups
//! of eight, the last padded with zeros); lane `k` accumulates the elements `i ≡ k (mod 8)` in
//! `f32` for a block of [`BLOCK`] groups, then the block's lanes are added in lane order into
//! a compensated pair of `f32` ([`Pair`]). The error grows with the block length (16 terms
//! per lane), not with the slice length, and no `f64` is involved.
//!
//! A softmax row's class sums: class `j` goes to [`Compensated`] partial `j mod 8`
//! ([`PARTIALS`]) in increasing `j`, and [`fold_partials`] folds the eight in one tree. The
//! partials fill the same way whether a vector holds one row per lane (partial `j mod 8` of
//! every lane) or eight consecutive classes of a row (one partial per lane), so both
//! traversals give the same bits.
//!
//! Either way the same inputs give the same bits on every target and at every vector width.

use crate::kernel_math::KernelMath;
use crate::total::Pair;

/// The eight accumulators of a block: one `f32x8` on vector targets (one or two vector adds
/// per group); eight `f32` elsewhere, which keeps the sum's state at four-byte alignment on
/// the stack (an `f32x8` asks for 32) and its adds scalar (see [`BlockSum::add`]).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
type Accumulators = wide::f32x8;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
type Accumulators = [f32; 8];

/// The accumulators' values, lane 0 first.
#[inline(always)]
fn lane_values(lanes: Accumulators) -> [f32; 8] {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    return lanes.to_array();
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    return lanes;
}

/// Eight zero accumulators.
const ZERO_LANES: Accumulators = {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        wide::f32x8::ZERO
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        [0.0; 8]
    }
};

/// Vectors accumulated in `f32` before a block is folded into the total.
const BLOCK: u32 = 16;

/// A deterministic, blocked sum of groups of eight values.
pub(crate) struct BlockSum {
    lanes: Accumulators,
    pending: u32,
    total: Pair,
    /// A group of eight being gathered from values that arrive fewer than eight at a time
    /// (vector targets; elsewhere each value goes to its lane as it arrives).
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    group: [f32; 8],
    /// Values of the current group received so far: the lane the next value goes to.
    gathered: usize,
}

impl BlockSum {
    pub(crate) const fn new() -> Self {
        BlockSum {
            lanes: ZERO_LANES,
            pending: 0,
            total: Pair::ZERO,
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            group: [0.0; 8],
            gathered: 0,
        }
    }

    /// Adds `values` in order. A length that is a multiple of 8 adds whole groups; any other
    /// length (one lane at a time) must be the same for every call of one sum.
    ///
    /// On vector targets a group of eight is added to the accumulators by one `f32x8` add
    /// (SSE / AVX / NEON, which keep subnormals). Elsewhere each value is added to its lane
    /// as it arrives, one scalar add with a lane index the compiler cannot see: a group of
    /// eight adds to consecutive lanes would be turned into vector adds by LLVM's SLP
    /// vectoriser on a core with a vector unit (Cortex-M55's Helium: two `vadd.f32 q` per
    /// group), and MVE flushes subnormal sums to zero whatever FPSCR says. Each lane receives
    /// the same terms in the same order either way.
    #[inline(always)]
    pub(crate) fn add(&mut self, values: &[f32]) {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        {
            if !values.len().is_multiple_of(8) {
                for &v in values {
                    // `gathered` is below 8 here; `% 8` lets the compiler see it (no bounds
                    // check, no panic path: the C API's link proves none is reachable).
                    self.group[self.gathered % 8] = v;
                    self.gathered += 1;
                    if self.gathered == 8 {
                        self.gathered = 0;
                        self.add_group(self.group);
                    }
                }
                return;
            }
            for group in values.as_chunks::<8>().0 {
                self.add_group(*group);
            }
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        for &v in values {
            self.add_to_lane(v);
        }
    }

    /// Adds one group of eight.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[inline(always)]
    fn add_group(&mut self, group: [f32; 8]) {
        self.lanes += wide::f32x8::new(group);
        self.group_done();
    }

    /// Adds `v` to the next lane (one-lane targets).
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[inline(always)]
    fn add_to_lane(&mut self, v: f32) {
        // `gathered < 8` always; the mask spares the bounds check.
        self.lanes[self.gathered % 8] += v;
        self.gathered += 1;
        if self.gathered == 8 {
            self.gathered = 0;
            self.group_done();
        }
    }

    /// Counts a group added; folds a full block.
    #[inline(always)]
    fn group_done(&mut self) {
        self.pending += 1;
        if self.pending == BLOCK {
            self.fold();
        }
    }

    /// Inlined on vector targets, so that the sum's state stays in registers across the loop
    /// (a call takes its address); one-lane targets keep one copy, for flash.
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), inline(always))]
    #[cfg_attr(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        inline(never)
    )]
    fn fold(&mut self) {
        for v in lane_values(self.lanes) {
            self.total.add(v);
        }
        self.total.renormalise();
        self.lanes = ZERO_LANES;
        self.pending = 0;
    }

    /// The sum of everything added.
    pub(crate) fn finish(&mut self) -> Pair {
        if self.gathered != 0 {
            // Pad the last group with zeros, as a wider vector's padded tail is.
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            {
                self.group
                    .iter_mut()
                    .skip(self.gathered)
                    .for_each(|v| *v = 0.0);
                self.add_group(self.group);
            }
            // One value at a time, as above (a loop of adds over the remaining lanes could
            // be vectorised).
            #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
            while self.gathered != 0 {
                self.add_to_lane(0.0);
            }
        }
        self.fold();
        self.total
    }
}

/// How many partial sums a softmax row's class sums are split into: class `j` goes to partial
/// `j mod 8`.
pub(crate) const PARTIALS: usize = 8;

/// A compensated (Kahan) sum, worth `sum − lost`: its error stays a few ULP however many terms
/// are added (a plain `f32` sum of n terms can lose n/2 ULP), with basic operations only.
///
/// `GUARDED` sums may meet infinite terms: once the sum is infinite the compensation is held
/// at 0 (it would be `∞ − ∞`). Unguarded sums (of terms in [0, 1]) skip that select; with
/// finite terms both give the same bits.
#[derive(Clone, Copy)]
pub(crate) struct Compensated<R> {
    sum: R,
    lost: R,
}

impl<R: KernelMath> Compensated<R> {
    /// The empty sum, (+0, +0).
    #[inline(always)]
    pub(crate) fn zero() -> Self {
        Compensated {
            sum: R::splat(0.0),
            lost: R::splat(0.0),
        }
    }

    /// The sum of the single term `t`: `(+0 + t, +0)`.
    #[inline(always)]
    pub(crate) fn first(t: R) -> Self {
        Compensated {
            sum: R::splat(0.0) + t,
            lost: R::splat(0.0),
        }
    }

    /// Adds `t` (Kahan's step).
    #[inline(always)]
    pub(crate) fn add<const GUARDED: bool>(&mut self, t: R) {
        let y = t - self.lost;
        let s = self.sum + y;
        self.lost = held::<R, GUARDED>(s, (s - self.sum) - y);
        self.sum = s;
    }

    /// The sum of both: their sums added with the exact error of that addition (Knuth's
    /// two-sum) moved into the compensation.
    #[inline(always)]
    pub(crate) fn combine<const GUARDED: bool>(self, other: Self) -> Self {
        let s = self.sum + other.sum;
        let back = s - self.sum;
        let error = (self.sum - (s - back)) + (other.sum - back);
        Compensated {
            sum: s,
            lost: held::<R, GUARDED>(s, (self.lost + other.lost) - error),
        }
    }

    /// `if_true` where `mask`, else `if_false`, lane by lane.
    #[inline(always)]
    pub(crate) fn select(mask: R::Mask, if_true: Self, if_false: Self) -> Self {
        Compensated {
            sum: R::select(mask, if_true.sum, if_false.sum),
            lost: R::select(mask, if_true.lost, if_false.lost),
        }
    }

    /// The sum's value, `sum − lost`.
    #[inline(always)]
    pub(crate) fn value(self) -> R {
        self.sum - self.lost
    }

    /// The two halves, `(sum, lost)`.
    #[inline(always)]
    pub(crate) fn parts(self) -> (R, R) {
        (self.sum, self.lost)
    }

    /// From `(sum, lost)` halves.
    #[inline(always)]
    pub(crate) fn from_parts(sum: R, lost: R) -> Self {
        Compensated { sum, lost }
    }
}

/// The compensation `lost` of a sum that is now `s`: 0 once a guarded sum is infinite.
#[inline(always)]
fn held<R: KernelMath, const GUARDED: bool>(s: R, lost: R) -> R {
    if GUARDED {
        R::select(s.abs().lt(R::splat(f32::INFINITY)), lost, R::splat(0.0))
    } else {
        lost
    }
}

/// A softmax row's class sum from its partials (`filled` of them received terms,
/// `min(C, 8)`), folded in one fixed tree, `((P0 ⊕ P4) ⊕ (P2 ⊕ P6)) ⊕ ((P1 ⊕ P5) ⊕ (P3 ⊕ P7))`
/// with `⊕` [`Compensated::combine`], partials without terms left out; the value of the
/// root. `parts` holds at least the `filled` partials (fewer than [`PARTIALS`] slots serve
/// rows of fewer classes).
///
/// The partials hold the class terms in the canonical order: partial `k` the terms of classes
/// `j ≡ k (mod 8)` in increasing `j`, the first by [`Compensated::first`], the others by
/// [`Compensated::add`]. Any traversal that fills them so (one row per lane, or eight classes
/// per lane group) gives the same bits.
#[inline(always)]
pub(crate) fn fold_partials<R: KernelMath, const GUARDED: bool, const P: usize>(
    parts: &mut [Compensated<R>; P],
    filled: usize,
) -> R {
    debug_assert!(filled <= P && P <= PARTIALS);
    let filled = filled.min(P);
    for half in [4, 2, 1] {
        // Partial `k` absorbs partial `k + half`, for every `k + half < filled`.
        let (low, high) = parts.split_at_mut(half.min(P));
        for (k, (low, &high)) in low.iter_mut().zip(high.iter()).enumerate() {
            if k + half < filled {
                *low = low.combine::<GUARDED>(high);
            }
        }
    }
    parts[0].value()
}
