//! The row-major traversal for many classes: a row's classes across the lanes, eight at a
//! time, with plain loads and stores.
//!
//! A vector of `V::LANES` lanes (a multiple of 8) holds one group of eight consecutive
//! classes `8g .. 8g + 8` of each of `V::LANES / 8` rows, lane `8h + k` being class `8g + k`
//! of the set's row `h`. So lane `8h + k` holds the terms of partial `k` of row `h`, one group
//! after the other, in increasing class order: the canonical order, added lane-wise. At the
//! end of a row the partials are moved into one-row-per-lane vectors, and the block's
//! `V::LANES` rows are folded and finished together, as by the one-row-per-lane traversals.

use super::math::{Class, Reads, Rows};
use crate::simd::{SimdF32, SimdMask, array_from_fn, map_array};
use crate::sum::{Compensated, PARTIALS, fold_partials};
use crate::target::SoftmaxTarget;

/// Rows per vector: `V::LANES / 8`, one for eight lanes, two for sixteen (the traversal is
/// only run on such lanes, at most [`MAX_LANES`](super::lanes::MAX_LANES)).
#[inline(always)]
fn rows_per_set<V: SimdF32>() -> usize {
    V::LANES / PARTIALS
}

/// The row sets of a block: `V::LANES` rows in sets of [`rows_per_set`].
const SETS: usize = PARTIALS;

/// Up to `V::LANES` consecutive row-major rows of a block, their classes across the lanes.
pub(crate) struct Across<'a, T> {
    /// The block's rows of logits, `valid · classes`.
    logits: &'a [f32],
    /// The block's rows of the gradient, or empty when none is written.
    grad: &'a mut [f32],
    /// The block's rows of soft targets (unused for hard targets).
    targets: &'a [T],
    alpha: Option<&'a [f32]>,
    classes: usize,
    valid: usize,
}

/// Where one set of rows is: the rows (the last valid row repeated past the block's end) and
/// how many of them are valid.
#[derive(Clone, Copy)]
struct Set {
    /// The first row of the set within the block (its lane in one-row-per-lane vectors).
    first: usize,
    rows: [usize; 2],
    valid: usize,
}

impl<'a, T: SoftmaxTarget> Across<'a, T> {
    /// The block of `valid` rows (`logits`: `valid · classes` values; `grad` the same length
    /// or empty; `targets` the same length for soft targets).
    #[inline(always)]
    pub(crate) fn new(
        logits: &'a [f32],
        grad: &'a mut [f32],
        targets: &'a [T],
        alpha: Option<&'a [f32]>,
        classes: usize,
        valid: usize,
    ) -> Self {
        Across {
            logits,
            grad,
            targets,
            alpha,
            classes,
            valid,
        }
    }

    /// Each lane's `f(row within the block, row's logits)` (lanes past the block's rows
    /// repeat the last).
    #[inline(always)]
    pub(crate) fn per_row<V: SimdF32, const M: usize>(
        &self,
        f: impl Fn(usize, &[f32]) -> [f32; M],
    ) -> [V; M] {
        let mut a = [V::Array::default(); M];
        for l in 0..V::LANES {
            let row = l.min(self.valid - 1);
            for (a, v) in a.iter_mut().zip(f(row, self.row(row))) {
                a.as_mut()[l] = v;
            }
        }
        map_array(
            a,
            V::zero(),
            #[inline(always)]
            |a| V::from_array(a),
        )
    }

    /// The logits of row `r` of the block (empty past its end, which no caller reads).
    #[inline(always)]
    fn row(&self, r: usize) -> &[f32] {
        let row = self.logits.get(r * self.classes..(r + 1) * self.classes);
        row.unwrap_or_default()
    }

    /// Set `s` of the block, if it holds a valid row.
    #[inline(always)]
    fn set<V: SimdF32>(&self, s: usize) -> Option<Set> {
        let per_set = rows_per_set::<V>();
        let first = s * per_set;
        (first < self.valid).then(
            #[inline(always)]
            || Set {
                first,
                rows: [first, (first + 1).min(self.valid - 1)],
                valid: (self.valid - first).min(per_set),
            },
        )
    }

    /// The number of groups of eight classes, and the lanes of the last group that hold a
    /// class.
    #[inline(always)]
    fn groups<V: SimdF32>(&self) -> (usize, V::Mask) {
        let groups = self.classes.div_ceil(PARTIALS);
        let last = self.classes - PARTIALS * (groups - 1);
        (groups, lane_in_group::<V>().lt(V::splat(last as f32)))
    }

    /// Group `g` of the set's rows of `values` (shaped like the logits), through `f`, one value
    /// at a time (soft targets); classes past the row's end are 0.
    #[inline(always)]
    fn load<V: SimdF32, U: Copy>(
        &self,
        values: &[U],
        set: Set,
        g: usize,
        f: impl Fn(U) -> f32,
    ) -> V {
        let mut a = V::Array::default();
        let lanes = a.as_mut();
        let start = PARTIALS * g;
        for h in 0..rows_per_set::<V>() {
            let from = set.rows[h] * self.classes + start;
            let dst = &mut lanes[PARTIALS * h..PARTIALS * (h + 1)];
            copy_group(dst, tail(values, from), self.classes - start, &f);
        }
        V::from_array(a)
    }

    /// Group `g` of the set's rows of `values` (the logits or the gradient) by plain loads:
    /// one load per row, starting at row `h`'s group minus `8h` so that the group lands in
    /// lanes `8h .. 8h + 8`, the loads merged by `first_half` (lanes below 8). Lanes past a
    /// row's classes hold whatever follows them.
    #[inline(always)]
    fn load_floats<V: SimdF32>(
        &self,
        values: &[f32],
        set: Set,
        g: usize,
        first_half: V::Mask,
    ) -> V {
        let start = PARTIALS * g;
        let a = set.rows[0] * self.classes + start;
        let low = V::load(tail(values, a));
        if rows_per_set::<V>() == 1 {
            return low;
        }
        let b = set.rows[1] * self.classes + start;
        // A repeated last row (b == a) may start the slice; its lanes are never used.
        match b.checked_sub(PARTIALS) {
            Some(shifted) if b != a => first_half.select(low, V::load(tail(values, shifted))),
            _ => low,
        }
    }

    /// Writes group `g` of the set's valid rows into the gradient.
    #[inline(always)]
    fn store<V: SimdF32>(&mut self, set: Set, g: usize, v: V) {
        let values = v.to_array();
        let start = PARTIALS * g;
        for h in 0..set.valid {
            let to = set.rows[h] * self.classes + start;
            let src = &values.as_ref()[PARTIALS * h..PARTIALS * (h + 1)];
            let dst = self.grad.get_mut(to..).unwrap_or_default();
            copy_group(dst, src, self.classes - start, &|v| v);
        }
    }

    /// Group `g` of a per-class slice (α), the same for every row of the set; classes past
    /// the row's end are 0.
    #[inline(always)]
    fn load_per_class<V: SimdF32>(&self, values: &[f32], g: usize) -> V {
        let mut a = V::Array::default();
        let start = PARTIALS * g;
        let len = PARTIALS.min(self.classes - start);
        let group = tail(values, start).iter().take(len);
        for chunk in a.as_mut().chunks_exact_mut(PARTIALS) {
            chunk
                .iter_mut()
                .zip(group.clone())
                .for_each(|(d, &v)| *d = v);
        }
        V::from_array(a)
    }

    /// `per_row` (one row per lane) spread over the set's layout: lanes `8h .. 8h + 8` hold
    /// row `h`'s value.
    #[inline(always)]
    fn spread<V: SimdF32>(per_row: &V::Array, set: Set) -> V {
        let mut a = V::Array::default();
        for (l, lane) in a.as_mut().iter_mut().enumerate() {
            let row = set.first + (l / PARTIALS).min(set.valid - 1);
            *lane = per_row.as_ref().get(row).copied().unwrap_or(f32::NAN);
        }
        V::from_array(a)
    }
}

/// Copies `f` of the first `min(8, left)` values of `src` into `dst`: eight at once (a fixed
/// copy the compiler turns into vector moves) for a whole group, one by one for the last.
#[inline(always)]
#[allow(
    clippy::redundant_closure,
    reason = "the closure carries #[inline(always)]: a function passed as `impl Fn` is called through a shim that is not inlined"
)]
fn copy_group<U: Copy>(dst: &mut [f32], src: &[U], left: usize, f: &impl Fn(U) -> f32) {
    if left >= PARTIALS
        && let (Some(dst), Some(src)) = (
            dst.first_chunk_mut::<PARTIALS>(),
            src.first_chunk::<PARTIALS>(),
        )
    {
        *dst = map_array(
            *src,
            0.0,
            #[inline(always)]
            |v| f(v),
        );
        return;
    }
    for (d, &v) in dst.iter_mut().zip(src).take(left) {
        *d = f(v);
    }
}

/// `values` from `at` on, empty past its end: the traversal's slices are total, so no bounds
/// check can fail (the block's offsets lie within the validated slices).
#[inline(always)]
fn tail<U>(values: &[U], at: usize) -> &[U] {
    values.get(at..).unwrap_or_default()
}

/// The class index of each lane within its group, `l mod 8`.
#[inline(always)]
fn lane_in_group<V: SimdF32>() -> V {
    let mut a = V::Array::default();
    for (l, lane) in a.as_mut().iter_mut().enumerate() {
        *lane = (l % PARTIALS) as f32;
    }
    V::from_array(a)
}

impl<V: SimdF32, T: SoftmaxTarget> Rows<V> for Across<'_, T> {
    #[inline(always)]
    fn max(&mut self) -> V {
        let (groups, tail) = self.groups::<V>();
        let first_half = V::lane_indices().lt(V::splat(PARTIALS as f32));
        let lowest = V::splat(f32::NEG_INFINITY);
        let mut m = V::Array::default();
        for s in 0..SETS {
            let Some(set) = self.set::<V>(s) else { break };
            let mut top = lowest;
            for g in 0..groups {
                let z = self.load_floats(self.logits, set, g, first_half);
                let z = if g + 1 == groups {
                    tail.select(z, lowest)
                } else {
                    z
                };
                top = top.lt(z).select(z, top);
            }
            let top = top.to_array();
            for (h, lanes) in top.as_ref().chunks_exact(PARTIALS).enumerate() {
                let mut best = f32::NEG_INFINITY;
                for &v in lanes {
                    best = if best < v { v } else { best };
                }
                if let Some(lane) = m.as_mut().get_mut(set.first + h) {
                    *lane = best;
                }
            }
        }
        // Lanes past the block's rows repeat the last row, as every per-row value does.
        let m_lanes = m.as_mut();
        let last = m_lanes.get(self.valid - 1).copied().unwrap_or(f32::NAN);
        m_lanes
            .iter_mut()
            .skip(self.valid)
            .for_each(|lane| *lane = last);
        V::from_array(m)
    }

    #[inline(always)]
    fn first_class_at(&mut self, m: V) -> V {
        let m = m.to_array();
        let mut first = V::Array::default();
        for (r, lane) in first.as_mut().iter_mut().enumerate() {
            let (row, top) = (self.row(r.min(self.valid - 1)), m.as_ref()[r]);
            *lane = row
                .iter()
                .position(
                    #[inline(always)]
                    |&z| z == top,
                )
                .map_or(
                    -1.0,
                    #[inline(always)]
                    |j| j as f32,
                );
        }
        V::from_array(first)
    }

    /// A gather costs more than the exponential it saves.
    #[inline(always)]
    fn stashed_at(&mut self, _class: V, otherwise: impl FnOnce() -> V) -> V {
        otherwise()
    }

    #[inline(always)]
    fn pass<const K: usize, const N: usize, const GUARDED: bool>(
        &mut self,
        reads: Reads,
        row: [V; K],
        mut term: impl FnMut(&Class<'_, V, K>) -> ([V; N], Option<V>),
    ) -> [V; N] {
        let zero = V::zero();
        let stashes = !self.grad.is_empty();
        let (groups, tail) = self.groups::<V>();
        let in_group = lane_in_group::<V>();
        let first_half = V::lane_indices().lt(V::splat(PARTIALS as f32));
        let per_row = map_array(
            row,
            V::Array::default(),
            #[inline(always)]
            |v| V::to_array(v),
        );
        let alpha = self.alpha;
        // The partials, moved to one row per lane: sums[n][k] lane r is partial k of row r.
        let mut sums = [[V::Array::default(); PARTIALS]; N];
        let mut lost = [[V::Array::default(); PARTIALS]; N];
        for s in 0..SETS {
            let Some(set) = self.set::<V>(s) else { break };
            let row = array_from_fn(
                V::zero(),
                #[inline(always)]
                |i| Self::spread::<V>(&per_row[i], set),
            );
            let mut parts = [Compensated::<V>::zero(); N];
            for g in 0..groups {
                let weight = if reads.weights {
                    let y: V = self.load(
                        self.targets,
                        set,
                        g,
                        #[inline(always)]
                        |t| t.probability(),
                    );
                    match alpha {
                        Some(alpha) => y * self.load_per_class::<V>(alpha, g),
                        None => y,
                    }
                } else {
                    zero
                };
                let class = Class {
                    z: if reads.logits {
                        self.load_floats(self.logits, set, g, first_half)
                    } else {
                        zero
                    },
                    stashed: if reads.stash {
                        self.load_floats(self.grad, set, g, first_half)
                    } else {
                        zero
                    },
                    weight,
                    index: in_group + V::splat((PARTIALS * g) as f32),
                    row: &row,
                };
                let (terms, stash) = term(&class);
                for (p, t) in parts.iter_mut().zip(terms) {
                    let next = if g == 0 {
                        Compensated::first(t)
                    } else {
                        let mut next = *p;
                        next.add::<GUARDED>(t);
                        next
                    };
                    *p = if g + 1 == groups {
                        Compensated::select(tail, next, *p)
                    } else {
                        next
                    };
                }
                if let Some(v) = stash
                    && stashes
                {
                    self.store(set, g, v);
                }
            }
            for (n, p) in parts.into_iter().enumerate() {
                let (sum, compensation) = p.parts();
                let (sum, compensation) = (sum.to_array(), compensation.to_array());
                for h in 0..rows_per_set::<V>() {
                    for k in 0..PARTIALS {
                        let lane = PARTIALS * h + k;
                        let at = set.first + h;
                        if let (Some(s), Some(c)) = (
                            sums[n][k].as_mut().get_mut(at),
                            lost[n][k].as_mut().get_mut(at),
                        ) {
                            *s = sum.as_ref()[lane];
                            *c = compensation.as_ref()[lane];
                        }
                    }
                }
            }
        }
        array_from_fn(
            V::zero(),
            #[inline(always)]
            |n| {
                let mut parts = array_from_fn(
                    Compensated::zero(),
                    #[inline(always)]
                    |k| {
                        Compensated::from_parts(
                            V::from_array(sums[n][k]),
                            V::from_array(lost[n][k]),
                        )
                    },
                );
                fold_partials::<V, GUARDED, PARTIALS>(&mut parts, self.classes.min(PARTIALS))
            },
        )
    }

    /// One row at a time, `V::LANES` classes per vector (nothing is summed, so the classes
    /// need not be in groups of eight), each vector one plain load and store.
    #[inline(always)]
    fn map<const K: usize>(
        &mut self,
        reads: Reads,
        row: [V; K],
        mut value: impl FnMut(&Class<'_, V, K>) -> V,
    ) {
        if self.grad.is_empty() {
            return;
        }
        debug_assert!(!reads.weights);
        let zero = V::zero();
        let lanes = V::LANES;
        let per_row = map_array(
            row,
            V::Array::default(),
            #[inline(always)]
            |v| V::to_array(v),
        );
        let indices = V::lane_indices();
        for r in 0..self.valid {
            let row = array_from_fn(
                V::zero(),
                #[inline(always)]
                |k| V::splat(per_row[k].as_ref()[r]),
            );
            let base = r * self.classes;
            for first in (0..self.classes).step_by(lanes) {
                let at = base + first;
                let class = Class {
                    z: if reads.logits {
                        V::load(tail(self.logits, at))
                    } else {
                        zero
                    },
                    stashed: if reads.stash {
                        V::load(tail(self.grad, at))
                    } else {
                        zero
                    },
                    weight: zero,
                    index: indices + V::splat(first as f32),
                    row: &row,
                };
                let v = value(&class);
                let end = base + self.classes;
                v.store(
                    self.grad
                        .get_mut(at..end.min(at + lanes))
                        .unwrap_or_default(),
                );
            }
        }
    }
}
