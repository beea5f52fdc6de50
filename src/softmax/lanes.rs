//! Traversals with one row per lane: class `j` of every row of the block is one vector, so
//! the class sums run lane by lane in the canonical order directly (partial `j mod 8` of
//! each lane). [`LaneRows`] reads the logits in place (a plain load per class when the rows
//! are consecutive pixels of one channels-first image, else a gather); [`Transposed`] copies
//! a small row-major block into class vectors first.

use core::num::NonZeroUsize;

use super::math::{Class, Reads, Rows};
use crate::kernel_math::KernelMath;
use crate::simd::map_array;
use crate::simd::{WIDTH, scalar_index};
use crate::sum::{Compensated, PARTIALS, fold_partials};
use crate::target::SoftmaxTarget;

/// The most lanes a lane type of this build has: [`WIDTH`] (sixteen on x86-64, whose AVX2 and
/// AVX-512 lanes are sixteen too, and on aarch64; one on Cortex-M, where `Kernel::Libm`'s
/// `f32` has one as well). The per-lane arrays of the traversals are this long, so a one-lane
/// build carries no fifteen unused slots on its stack.
pub(crate) const MAX_LANES: usize = WIDTH;

/// The rows of one step, `first .. first + valid`, with `C` classes `stride` apart; lanes past
/// `valid` repeat the last row (and write nothing).
#[derive(Clone, Copy)]
pub(crate) struct Block {
    pub first: usize,
    pub valid: usize,
}

impl Block {
    /// The row of lane `l`.
    #[inline(always)]
    pub(crate) fn row(self, l: usize) -> usize {
        self.first + l.min(self.valid - 1)
    }
}

/// A running set of `P` partial sums per lane for each of `N` class sums, filled class by
/// class: [`PARTIALS`] in general, fewer for rows of fewer classes (which fill no more).
struct LanePartials<R, const N: usize, const P: usize>([[Compensated<R>; P]; N]);

impl<R: KernelMath, const N: usize, const P: usize> LanePartials<R, N, P> {
    #[inline(always)]
    fn new() -> Self {
        LanePartials([[Compensated::zero(); P]; N])
    }

    /// Adds class `j`'s terms to partial `j mod 8`.
    #[inline(always)]
    fn add<const GUARDED: bool>(&mut self, j: usize, terms: [R; N]) {
        let k = j % PARTIALS;
        for (parts, t) in self.0.iter_mut().zip(terms) {
            if j < PARTIALS {
                parts[k % P] = Compensated::first(t);
            } else {
                parts[k % P].add::<GUARDED>(t);
            }
        }
    }

    /// The `N` class sums of `classes` classes.
    #[inline(always)]
    fn fold<const GUARDED: bool>(&mut self, classes: usize) -> [R; N] {
        let mut sums = [R::splat(0.0); N];
        for (sum, parts) in sums.iter_mut().zip(&mut self.0) {
            *sum = fold_partials::<R, GUARDED, P>(parts, classes.min(PARTIALS));
        }
        sums
    }
}

/// `R::LANES` rows in place: class `j` of lane `l` at `bases[l] + j·stride`.
///
/// Every such offset is in bounds for the lengths `checked_rows` accepts, which the compiler
/// cannot prove; the reads and writes are therefore total, so that no panic is reachable
/// (the C API's link-time proof): a read past the end would give NaN (0 for a contiguous
/// load, as [`SimdF32::load`](crate::simd::SimdF32::load) pads) and a write past it nothing.
///
/// `CONTIGUOUS` when the block is full and its rows are consecutive pixels of one
/// channels-first image (or, on one lane, any row): each class is then one plain load or
/// store instead of a gather or scatter.
pub(crate) struct LaneRows<'a, T, const CONTIGUOUS: bool> {
    logits: &'a [f32],
    /// The whole gradient slice, or empty when none is written.
    grad: &'a mut [f32],
    /// Soft targets shaped like the logits (unused for hard targets).
    targets: &'a [T],
    alpha: Option<&'a [f32]>,
    classes: usize,
    stride: usize,
    bases: [usize; MAX_LANES],
    block: Block,
}

/// Whether `block` on `lanes` lanes can be read as a `CONTIGUOUS` [`LaneRows`], for
/// `spatial` pixels per image (1 for row-major).
#[inline(always)]
pub(crate) fn contiguous(block: Block, spatial: NonZeroUsize, lanes: usize) -> bool {
    let one_image = block.first % spatial + lanes <= spatial.get();
    lanes == 1 || (block.valid == lanes && spatial.get() > 1 && one_image)
}

impl<'a, T: SoftmaxTarget, const CONTIGUOUS: bool> LaneRows<'a, T, CONTIGUOUS> {
    /// The rows of `block` for a pass with `classes` classes and `spatial` pixels per image
    /// (1 for row-major), on `lanes` lanes.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        logits: &'a [f32],
        grad: &'a mut [f32],
        targets: &'a [T],
        alpha: Option<&'a [f32]>,
        classes: usize,
        spatial: NonZeroUsize,
        block: Block,
        lanes: usize,
    ) -> Self {
        let image_size = classes * spatial.get();
        let (image, pixel) = (block.first / spatial, block.first % spatial);
        let one_image = pixel + block.valid <= spatial.get();
        debug_assert!(!CONTIGUOUS || contiguous(block, spatial, lanes));
        let mut bases = [0; MAX_LANES];
        for (l, b) in bases.iter_mut().enumerate().take(lanes) {
            let p = block.row(l);
            *b = if spatial == NonZeroUsize::MIN {
                p * classes
            } else if one_image {
                image * image_size + pixel + (p - block.first)
            } else {
                (p / spatial) * image_size + p % spatial
            };
        }
        LaneRows {
            logits,
            grad,
            targets,
            alpha,
            classes,
            stride: spatial.get(),
            bases,
            block,
        }
    }

    /// Each lane's `f(row, offset of class 0 of the row)`.
    #[inline(always)]
    pub(crate) fn per_row<R: KernelMath, const M: usize>(
        &self,
        f: impl Fn(usize, usize) -> [f32; M],
    ) -> [R; M] {
        let mut a = [R::Array::default(); M];
        for l in 0..R::LANES {
            let values = f(self.block.row(l), self.bases[l]);
            for (a, v) in a.iter_mut().zip(values) {
                a.as_mut()[l] = v;
            }
        }
        map_array(
            a,
            R::splat(0.0),
            #[inline(always)]
            |a| R::from_array(a),
        )
    }

    /// The distance between consecutive classes of a row.
    #[inline(always)]
    pub(crate) fn stride(&self) -> usize {
        self.stride
    }

    /// Class `j` of each row from a slice shaped like the logits, through `f`.
    #[inline(always)]
    fn gather<R: KernelMath, V: Copy>(&self, values: &[V], j: usize, f: impl Fn(V) -> f32) -> R {
        let offset = j * self.stride;
        let mut a = R::Array::default();
        for (lane, &base) in a.as_mut().iter_mut().zip(&self.bases) {
            *lane = values.get(base + offset).map_or(f32::NAN, |&v| f(v));
        }
        R::from_array(a)
    }

    /// Class `j` of each row of `values` (the logits or the gradient).
    #[inline(always)]
    fn load<R: KernelMath>(&self, values: &[f32], j: usize) -> R {
        if CONTIGUOUS {
            let start = self.bases[0] + j * self.stride;
            return R::load(values.get(start..).unwrap_or_default());
        }
        self.gather(
            values,
            j,
            #[inline(always)]
            |v| v,
        )
    }

    /// Writes class `j` of each valid row into the gradient slice.
    #[inline(always)]
    fn store<R: KernelMath>(&mut self, j: usize, v: R) {
        let offset = j * self.stride;
        if CONTIGUOUS {
            let start = self.bases[0] + offset;
            v.store(self.grad.get_mut(start..).unwrap_or_default());
            return;
        }
        let values = v.to_array();
        for (&value, &base) in values
            .as_ref()
            .iter()
            .zip(&self.bases)
            .take(self.block.valid)
        {
            if let Some(g) = self.grad.get_mut(base + offset) {
                *g = value;
            }
        }
    }
}

impl<R: KernelMath, T: SoftmaxTarget, const CONTIGUOUS: bool> Rows<R>
    for LaneRows<'_, T, CONTIGUOUS>
{
    #[inline(always)]
    fn max(&mut self) -> R {
        let mut m = R::splat(f32::NEG_INFINITY);
        for j in 0..self.classes {
            let j = scalar_index(j);
            let z: R = self.load(self.logits, j);
            m = R::select(m.lt(z), z, m);
        }
        m
    }

    #[inline(always)]
    fn first_class_at(&mut self, m: R) -> R {
        let mut first = R::splat(-1.0);
        for j in 0..self.classes {
            let j = scalar_index(j);
            let z: R = self.load(self.logits, j);
            let found = z.eq(m) & first.lt(R::splat(0.0));
            first = R::select(found, R::splat(j as f32), first);
        }
        first
    }

    /// For rows of up to eight classes a select per class costs less than the exponential it
    /// saves; beyond, and without a stash, `otherwise()`.
    #[inline(always)]
    fn stashed_at(&mut self, class: R, otherwise: impl FnOnce() -> R) -> R {
        if self.grad.is_empty() || self.classes > PARTIALS {
            return otherwise();
        }
        let mut value = R::splat(0.0);
        for j in 0..self.classes {
            let j = scalar_index(j);
            let stashed: R = self.load(self.grad, j);
            value = R::select(class.eq(R::splat(j as f32)), stashed, value);
        }
        value
    }

    #[inline(always)]
    fn pass<const K: usize, const N: usize, const GUARDED: bool>(
        &mut self,
        reads: Reads,
        row: [R; K],
        mut term: impl FnMut(&Class<'_, R, K>) -> ([R; N], Option<R>),
    ) -> [R; N] {
        let zero = R::splat(0.0);
        let stashes = !self.grad.is_empty();
        let mut sums = LanePartials::<R, N, PARTIALS>::new();
        for j in 0..self.classes {
            let j = scalar_index(j);
            let weight = if reads.weights {
                let y: R = self.gather(
                    self.targets,
                    j,
                    #[inline(always)]
                    |t| t.probability(),
                );
                match self.alpha {
                    // α has C entries (`with_alpha`).
                    Some(alpha) => y * R::splat(alpha.get(j).copied().unwrap_or(f32::NAN)),
                    None => y,
                }
            } else {
                zero
            };
            let class = Class {
                z: if reads.logits {
                    self.load(self.logits, j)
                } else {
                    zero
                },
                stashed: if reads.stash {
                    self.load(self.grad, j)
                } else {
                    zero
                },
                weight,
                index: R::splat(j as f32),
                row: &row,
            };
            let (terms, stash) = term(&class);
            sums.add::<GUARDED>(j, terms);
            if let Some(v) = stash
                && stashes
            {
                self.store(j, v);
            }
        }
        sums.fold::<GUARDED>(self.classes)
    }

    #[inline(always)]
    fn map<const K: usize>(
        &mut self,
        reads: Reads,
        row: [R; K],
        mut value: impl FnMut(&Class<'_, R, K>) -> R,
    ) {
        self.pass::<K, 0, false>(
            reads,
            row,
            #[inline(always)]
            |x| ([], Some(value(x))),
        );
    }
}

/// The most classes a [`Transposed`] block holds.
pub(crate) const TRANSPOSED_MAX_CLASSES: usize = 16;

/// `R::LANES` consecutive row-major rows of at most `W` classes (`W` one of 4, 8, 12 and
/// [`TRANSPOSED_MAX_CLASSES`], so that small rows move small arrays; `P = min(W, 8)` partial
/// sums), copied into one vector per class (lane `l` = row `l`; a full block by the lane
/// type's [`load_columns`](crate::simd::SimdF32::load_columns)), with the stash beside them;
/// the stash is copied back into the rows' gradient by [`Transposed::write_back`]. Hard
/// targets only.
pub(crate) struct Transposed<'a, R, const W: usize, const P: usize> {
    /// The block's rows of logits.
    rows: &'a [f32],
    z: [R; W],
    stash: [R; W],
    /// The block's rows of the gradient, or empty when none is written.
    grad: &'a mut [f32],
    classes: usize,
    valid: usize,
}

impl<'a, R: KernelMath, const W: usize, const P: usize> Transposed<'a, R, W, P> {
    /// The block of `valid` rows in `rows` (`valid · classes` logits, `classes <= W`) and
    /// their gradient (same length, or empty); lanes past `valid` repeat the last row.
    #[inline(always)]
    pub(crate) fn new(rows: &'a [f32], grad: &'a mut [f32], classes: usize, valid: usize) -> Self {
        debug_assert!(classes <= W && P == W.min(PARTIALS));
        let mut z = [R::splat(0.0); W];
        if valid == R::LANES {
            R::load_columns(rows, &mut z[..classes]);
        } else {
            let last = valid - 1;
            for (j, z) in z.iter_mut().enumerate().take(classes) {
                let mut column = R::Array::default();
                for (l, lane) in column.as_mut().iter_mut().enumerate() {
                    // (Total: a block shorter than `valid` rows, which the callers never
                    // pass, reads NaN.)
                    let at = l.min(last) * classes + j;
                    *lane = rows.get(at).copied().unwrap_or(f32::NAN);
                }
                *z = R::from_array(column);
            }
        }
        Transposed {
            rows,
            z,
            stash: [R::splat(0.0); W],
            grad,
            classes,
            valid,
        }
    }

    /// Each lane's `f(row within the block, row's logits)`.
    #[inline(always)]
    pub(crate) fn per_row<const M: usize>(&self, f: impl Fn(usize, &[f32]) -> [f32; M]) -> [R; M] {
        let mut a = [R::Array::default(); M];
        for l in 0..R::LANES {
            let row = l.min(self.valid - 1);
            let logits = self.rows.get(row * self.classes..(row + 1) * self.classes);
            let values = f(row, logits.unwrap_or(&[]));
            for (a, v) in a.iter_mut().zip(values) {
                a.as_mut()[l] = v;
            }
        }
        map_array(
            a,
            R::splat(0.0),
            #[inline(always)]
            |a| R::from_array(a),
        )
    }

    /// The block's logits, one vector per class.
    #[inline(always)]
    fn live_z(&self) -> &[R] {
        live(&self.z, self.classes)
    }

    /// Each row's logit of class `class` (lanes holding a class index; others give 0).
    #[inline(always)]
    pub(crate) fn logit_at(&self, class: R) -> R {
        select_class(self.live_z(), class)
    }

    /// Copies the stash (the gradient the last pass wrote) into the rows' gradient.
    #[inline(always)]
    pub(crate) fn write_back(self) {
        if self.grad.is_empty() {
            return;
        }
        let stash = live(&self.stash, self.classes);
        if self.valid == R::LANES {
            R::store_columns(stash, self.grad);
            return;
        }
        for (j, column) in stash.iter().enumerate() {
            let column = column.to_array();
            for (l, &g) in column.as_ref().iter().enumerate().take(self.valid) {
                if let Some(out) = self.grad.get_mut(l * self.classes + j) {
                    *out = g;
                }
            }
        }
    }
}

/// The first `classes` of a block's `W` columns (all of them if `classes > W`, which
/// [`Transposed::new`]'s callers never pass): a total slice, so no bounds check can fail.
#[inline(always)]
fn live<R>(columns: &[R], classes: usize) -> &[R] {
    columns.get(..classes).unwrap_or(columns)
}

/// Lane by lane, `columns[class]` (0 where `class` is no index of `columns`).
#[inline(always)]
fn select_class<R: KernelMath>(columns: &[R], class: R) -> R {
    let mut value = R::splat(0.0);
    for (j, &column) in columns.iter().enumerate() {
        value = R::select(class.eq(R::splat(j as f32)), column, value);
    }
    value
}

impl<R: KernelMath, const W: usize, const P: usize> Rows<R> for Transposed<'_, R, W, P> {
    #[inline(always)]
    fn max(&mut self) -> R {
        let mut m = R::splat(f32::NEG_INFINITY);
        for &z in self.live_z() {
            m = R::select(m.lt(z), z, m);
        }
        m
    }

    #[inline(always)]
    fn first_class_at(&mut self, m: R) -> R {
        let mut first = R::splat(-1.0);
        for (j, &z) in self.live_z().iter().enumerate() {
            let found = z.eq(m) & first.lt(R::splat(0.0));
            first = R::select(found, R::splat(j as f32), first);
        }
        first
    }

    #[inline(always)]
    fn stashed_at(&mut self, class: R, _otherwise: impl FnOnce() -> R) -> R {
        select_class(live(&self.stash, self.classes), class)
    }

    #[inline(always)]
    fn pass<const K: usize, const N: usize, const GUARDED: bool>(
        &mut self,
        reads: Reads,
        row: [R; K],
        mut term: impl FnMut(&Class<'_, R, K>) -> ([R; N], Option<R>),
    ) -> [R; N] {
        let zero = R::splat(0.0);
        let mut sums = LanePartials::<R, N, P>::new();
        let columns = self.z.iter().zip(self.stash.iter_mut());
        for (j, (&z, stashed)) in columns.enumerate().take(self.classes) {
            let class = Class {
                z: if reads.logits { z } else { zero },
                stashed: if reads.stash { *stashed } else { zero },
                weight: zero,
                index: R::splat(j as f32),
                row: &row,
            };
            let (terms, stash) = term(&class);
            sums.add::<GUARDED>(j, terms);
            if let Some(v) = stash {
                *stashed = v;
            }
        }
        sums.fold::<GUARDED>(self.classes)
    }

    #[inline(always)]
    fn map<const K: usize>(
        &mut self,
        reads: Reads,
        row: [R; K],
        mut value: impl FnMut(&Class<'_, R, K>) -> R,
    ) {
        self.pass::<K, 0, false>(
            reads,
            row,
            #[inline(always)]
            |x| ([], Some(value(x))),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::simd::{F32s, SimdF32, Single};
    use wide::{f32x8, f32x16};

    /// `load_columns` and `store_columns` of `V` transpose a block of `V::LANES` rows of
    /// every width up to 24, and back.
    #[inline(always)]
    fn columns_round_trip<V: SimdF32>() {
        for n in 1..=24usize {
            let rows: [f32; 16 * 24] = core::array::from_fn(|i| i as f32 * 0.5 - 7.0);
            let rows = &rows[..V::LANES * n];
            let mut columns = [V::zero(); 24];
            V::load_columns(rows, &mut columns[..n]);
            for (j, column) in columns[..n].iter().enumerate() {
                for (l, &v) in column.to_array().as_ref().iter().enumerate() {
                    assert_eq!(v.to_bits(), rows[l * n + j].to_bits(), "n={n} l={l} j={j}");
                }
            }
            let mut back = [f32::NAN; 16 * 24];
            V::store_columns(&columns[..n], &mut back[..V::LANES * n]);
            assert_eq!(&back[..V::LANES * n], rows, "n={n}");
        }
    }

    #[test]
    fn columns_transpose_rows_on_every_lane_type() {
        columns_round_trip::<F32s>();
        columns_round_trip::<Single>();
        columns_round_trip::<f32x8>();
        columns_round_trip::<f32x16>();
    }

    /// The round trip on the AVX2 and AVX-512 lane types too, on every dispatch
    /// level this CPU has.
    #[cfg(all(target_arch = "x86_64", not(focal_loss_lanes8), not(focal_loss_lanes1)))]
    #[test]
    fn columns_transpose_rows_on_every_dispatch_level() {
        use crate::dispatch::{Job, Level};
        struct RoundTrip;
        impl Job for RoundTrip {
            type Output = usize;
            #[inline(always)]
            fn run<V: SimdF32>(self) -> usize {
                columns_round_trip::<V>();
                V::LANES
            }
        }
        let detected = crate::dispatch::detected();
        for level in [Level::Baseline, Level::Avx2, Level::Avx512] {
            if level <= detected {
                assert_eq!(crate::simd::x86::run(RoundTrip, level), 16, "{level:?}");
            }
        }
    }
}
