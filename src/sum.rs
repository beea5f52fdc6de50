//! A summation whose order is fixed by the algorithm, not by the hardware.
//!
//! Values arrive in index order, eight at a time (a wider vector is taken as consecutive groups
//! of eight); lane `k` accumulates the elements `i ≡ k (mod 8)` in `f32` for a block of
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
}

impl BlockSum {
    pub(crate) const fn new() -> Self {
        BlockSum {
            lanes: f32x8::ZERO,
            pending: 0,
            total: 0.0,
        }
    }

    /// Adds `values`, whose length is a multiple of 8, in order.
    #[inline(always)]
    pub(crate) fn add(&mut self, values: &[f32]) {
        for group in values.as_chunks::<8>().0 {
            self.lanes += f32x8::new(*group);
            self.pending += 1;
            if self.pending == BLOCK {
                self.fold();
            }
        }
    }

    fn fold(&mut self) {
        for v in self.lanes.to_array() {
            self.total += f64::from(v);
        }
        self.lanes = f32x8::ZERO;
        self.pending = 0;
    }

    /// The sum of everything added.
    pub(crate) fn finish(mut self) -> f64 {
        self.fold();
        self.total
    }
}
