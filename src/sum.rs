//! A summation whose order is fixed by the algorithm, not by the hardware.
//!
//! Values arrive in index order, eight at a time (a wider vector is taken as consecutive groups
//! of eight; one lane at a time is gathered into groups of eight, the last padded with
//! zeros); lane `k` accumulates the elements `i ≡ k (mod 8)` in `f32` for a block of
//! [`BLOCK`] groups, then the block's lanes are added in lane order into an `f64` total. The
//! same inputs give the same bits on every target and at every vector width, and the error
//! grows with the block length (16 terms per lane), not with the slice length.

use wide::f32x8;

/// Vectors accumulated in `f32` before a block is folded into the `f64` total.
const BLOCK: u32 = 16;

/// A deterministic, blocked sum of `f32x8` values.
pub(crate) struct BlockSum {
    lanes: f32x8,
    pending: u32,
    total: f64,
    /// A group of eight being gathered from values that arrive fewer than eight at a time.
    group: [f32; 8],
    /// Values in `group`.
    gathered: usize,
}

impl BlockSum {
    pub(crate) const fn new() -> Self {
        BlockSum {
            lanes: f32x8::ZERO,
            pending: 0,
            total: 0.0,
            group: [0.0; 8],
            gathered: 0,
        }
    }

    /// Adds `values` in order. A length that is a multiple of 8 adds whole groups; any other
    /// length (one lane at a time) must be the same for every call of one sum.
    #[inline(always)]
    pub(crate) fn add(&mut self, values: &[f32]) {
        if !values.len().is_multiple_of(8) {
            for &v in values {
                self.group[self.gathered] = v;
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

    /// Adds one group of eight.
    #[inline(always)]
    fn add_group(&mut self, group: [f32; 8]) {
        self.lanes += f32x8::new(group);
        self.pending += 1;
        if self.pending == BLOCK {
            self.fold();
        }
    }

    /// Inlined on vector targets, so that the sum's state stays in registers across the loop
    /// (a call takes its address); one-lane targets keep one copy, for flash.
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), inline(always))]
    fn fold(&mut self) {
        for v in self.lanes.to_array() {
            self.total += f64::from(v);
        }
        self.lanes = f32x8::ZERO;
        self.pending = 0;
    }

    /// The sum of everything added.
    pub(crate) fn finish(mut self) -> f64 {
        if self.gathered != 0 {
            // Pad the last group with zeros, as a wider vector's padded tail is.
            self.group[self.gathered..].fill(0.0);
            self.add_group(self.group);
        }
        self.fold();
        self.total
    }
}
