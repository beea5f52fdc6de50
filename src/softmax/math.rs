//! The softmax focal loss of a block of rows and its gradient, written once over
//! [`KernelMath`] and evaluated by both kernels, whatever the traversal.
//!
//! With `m` the row maximum, `e_j = exp(z_j − m)`, `S' = Σ_{j≠c} e_j` (the class sum of
//! [`crate::sum::fold_partials`], with `e_c` replaced by 0) and `S = e_c + S'`:
//! `1 − p_c = S'/S` (never `1 − p_c` by subtraction), `log p_c = −log1p(S')` when `z_c` is the
//! maximum (where `(z_c − m) − log S` would round to 0) and `(z_c − m) − log S` otherwise, and
//! `dL/dz_j = g·(δ_jc − p_j)` with `g = α_c·(1−p_c)^γ·[γ·p_c·(log p_c)/(1−p_c) − 1]`, where
//! `(log p_c)/(1−p_c)` is evaluated as a bounded function (→ −1 as `p_c → 1`), so no
//! `(1 − p_c)^(γ−1)` is formed and the gradient is finite for every γ >= 0.
//!
//! The row algorithms ([`hard_rows`], [`soft_rows`]) see the rows through [`Rows`]: a row
//! maximum and passes over the classes whose terms the traversal sums in the canonical order.
//! Values "per row" are lanes of `R` with one row per lane, whatever the traversal's layout.

use crate::focusing::Focusing;
use crate::kernel_math::KernelMath;
use crate::reduced::Reduced;
use crate::sigmoid::math::CE_CAP;

/// What a pass over the classes reads for each class, besides the class index.
#[derive(Clone, Copy)]
pub(crate) struct Reads {
    /// The logits.
    pub logits: bool,
    /// What the previous pass stashed (the gradient slice doubles as scratch).
    pub stash: bool,
    /// The soft targets' weights `w_j = α_j y_j`.
    pub weights: bool,
}

impl Reads {
    const LOGITS: Reads = Reads {
        logits: true,
        stash: false,
        weights: false,
    };
}

/// One class of the rows of a pass, laid out as the traversal lays out classes (one row per
/// lane, or consecutive classes of a row across lanes).
pub(crate) struct Class<'a, R, const K: usize> {
    /// The logits (0 unless [`Reads::logits`]).
    pub z: R,
    /// What the previous pass stashed here (0 unless [`Reads::stash`]).
    pub stashed: R,
    /// `w_j = α_j y_j` of soft targets (0 unless [`Reads::weights`]).
    pub weight: R,
    /// The class index `j` (exact: classes are at most 2^24).
    pub index: R,
    /// The per-row values the pass was given, spread over this layout.
    pub row: &'a [R; K],
}

/// A block of rows as the row algorithms see it.
pub(crate) trait Rows<R: KernelMath> {
    /// Each row's largest logit (NaN logits are left out; the caller catches them).
    fn max(&mut self) -> R;

    /// Each row's first class whose logit equals `m`, or −1.
    fn first_class_at(&mut self, m: R) -> R;

    /// One pass over every class: `term` gives, for each class, the `N` terms to sum and
    /// what to stash (kept only when the block writes a gradient, which the stash then holds
    /// at the end). Returns each row's `N` class sums in the canonical order;
    /// `GUARDED` sums may meet infinite terms.
    fn pass<const K: usize, const N: usize, const GUARDED: bool>(
        &mut self,
        reads: Reads,
        row: [R; K],
        term: impl FnMut(&Class<'_, R, K>) -> ([R; N], Option<R>),
    ) -> [R; N];

    /// Each row's stashed value at class `class` (lanes holding a class index; rows whose
    /// class lies outside `0..C` give any value), or `otherwise()` when the block keeps no
    /// stash.
    fn stashed_at(&mut self, class: R, otherwise: impl FnOnce() -> R) -> R;

    /// One pass over every class that sums nothing: stashes `value` of each class (the
    /// gradient, once the block writes one). The traversal may lay classes out as it likes.
    fn map<const K: usize>(
        &mut self,
        reads: Reads,
        row: [R; K],
        value: impl FnMut(&Class<'_, R, K>) -> R,
    );
}

/// `z − m` exactly, as an unevaluated sum `hi + lo` (Knuth's two-sum): `exp` multiplies the
/// relative rounding error of its argument by the argument's size, so a rounded `z − m` of
/// −60 would cost 30 ULP. `+∞ − +∞` (and `−∞ − −∞`) is taken as 0, so that rows holding
/// infinite logits give the limit (those classes share the probability).
#[inline(always)]
fn shifted<R: KernelMath>(z: R, m: R) -> (R, R) {
    let zero = R::splat(0.0);
    let hi = z - m;
    let back = hi - z;
    let lo = (z - (hi - back)) + (-m - back);
    let finite = hi.abs().lt(R::splat(f32::INFINITY));
    (R::select(z.eq(m), zero, hi), R::select(finite, lo, zero))
}

/// `e^(z − m)` from [`shifted`] (`z <= m`, so the exponent is not positive).
#[inline(always)]
fn share<R: KernelMath>((hi, lo): (R, R)) -> R {
    R::exp_sum_nonpositive(hi, lo)
}

/// `e^(z − m)` for `z <= m`: [`share`] of [`shifted`], in fewer operations. The exponential
/// needs no finite `lo` where `z − m = −∞` (it tests `hi` alone), so only `z = m` (which
/// includes `∞ − ∞`) is singled out.
#[inline(always)]
fn share_of<R: KernelMath>(z: R, m: R) -> R {
    let zero = R::splat(0.0);
    let hi = z - m;
    let back = hi - z;
    let lo = (z - (hi - back)) + (-m - back);
    let top = z.eq(m);
    R::exp_sum_nonpositive(R::select(top, zero, hi), R::select(top, zero, lo))
}

/// `log(p) / (1 − p)` for the bounded ratio of the gradient, given `log p`, `1 − p`, and
/// whether `p` is the row's largest probability (`top`), with `S'` (`rest`), `S` (`total`) and
/// `log1p(S')`: at the top `log p = −log1p(S')`, `1 − p = S'/S`, and the ratio is
/// `−log1p(S')·S/S'` (→ −1 as `S' → 0`). One division serves both cases.
#[inline(always)]
fn log_over_complement<R: KernelMath>(
    log_p: R,
    not_p: R,
    log1p_rest: R,
    rest: R,
    total: R,
    top: R::Mask,
) -> R {
    let zero = R::splat(0.0);
    let numerator = R::select(top, -(log1p_rest * total), log_p);
    let denominator = R::select(top, rest, not_p);
    let ratio = R::select(top & rest.eq(zero), R::splat(-1.0), numerator / denominator);
    // Below the top, 1 − p >= 1/2, so while p > 0 the ratio is above −2·104; the floor only
    // turns p·(−∞) at p = 0 (a −∞ logit's class) into 0.
    R::select(
        ratio.lt(R::splat(RATIO_FLOOR)),
        R::splat(RATIO_FLOOR),
        ratio,
    )
}

/// See [`log_over_complement`].
const RATIO_FLOOR: f32 = -1.0e4;

/// Each row's hard target: the class `c` (any value outside `0..C` for an ignored row), the
/// logit `z_c` (of any class for an ignored row) and the weight (α_c, 0 for ignored rows).
#[derive(Clone, Copy)]
pub(crate) struct HardTargets<R> {
    /// `c` as lanes.
    pub class: R,
    /// `z_c`.
    pub logit: R,
    /// `α_c`, 1 without α, 0 when ignored.
    pub weight: R,
    /// Poly-1's ε, 0 when ignored (and without Poly-1).
    pub poly: R,
}

/// A hard-target row once its class sum is known: the loss, `S`, and what the gradient of
/// every class needs.
struct HardRow<R> {
    loss: R,
    total: R,
    /// `−g`, with `weight · scale · dL/dz_j = −g·p_j` for `j ≠ c`; +0 for ignored rows.
    minus_g: R,
    /// The gradient of the target class, `g·(1 − p_c)`; +0 for ignored rows.
    own: R,
    inv_total: R,
}

/// What changes a pass's focal loss: nothing, Poly-1's ε (not 0; hard targets only) or the
/// reduced focal loss's factor. The options exclude each other, so one field carries them
/// (which keeps the pass, copied into every frame of a call, small on a microcontroller).
#[derive(Clone, Copy)]
pub(crate) enum Modifier {
    /// The focal loss itself.
    Focal,
    /// Poly-1's ε, not 0.
    Poly1(f32),
    /// The reduced focal loss's factor.
    Reduced(Reduced),
}

impl Modifier {
    /// Poly-1's ε, if this is Poly-1.
    pub(crate) fn poly(self) -> Option<f32> {
        match self {
            Modifier::Poly1(epsilon) => Some(epsilon),
            _ => None,
        }
    }

    /// The reduced focal loss's factor, if this is it.
    pub(crate) fn reduced(self) -> Option<Reduced> {
        match self {
            Modifier::Reduced(r) => Some(r),
            _ => None,
        }
    }
}

/// The loss of each row from `S'` (`rest`), `e_c` and `z_c − m` as [`shifted`] gives it, and
/// the factors of its gradient.
#[inline(always)]
fn hard_row<R: KernelMath>(
    rest: R,
    e_c: R,
    (zc_hi, zc_lo): (R, R),
    (weight, target_poly): (R, R),
    focusing: Focusing,
    (gamma, modifier): (f32, Modifier),
    scale: R,
) -> HardRow<R> {
    let zero = R::splat(0.0);
    let one = R::splat(1.0);
    let total = e_c + rest;
    // At the top e_c = 1, so `total` is `1 + S'` and the logarithm of `total` is the one
    // log1p(S') needs.
    let top = zc_hi.eq(zero);
    let inv_total = one / total;
    let (log_total, log1p_rest) = R::ln_and_log1p_unit(total, rest, inv_total);
    let log_p = R::select(top, -log1p_rest, (zc_hi - log_total) + zc_lo);
    let not_p = rest / total;
    let modulating = focusing.power(not_p);
    let p = e_c / total;
    let (loss, g, ignored) = match modifier.poly() {
        None => {
            let loss = R::select(weight.eq(zero), zero, weight * (modulating * -log_p));
            let ratio = log_over_complement(log_p, not_p, log1p_rest, rest, total, top);
            let g = weight * scale * (modulating * (R::splat(gamma) * (p * ratio) - one));
            let (loss, g) = match modifier.reduced() {
                // The factor 1 (cross-entropy's loss and `g = −w·scale`) or `th^−γ` times
                // the focal loss's.
                Some(r) => {
                    let full = r.full(not_p, p);
                    let ce = R::select(weight.eq(zero), zero, weight * -log_p);
                    (
                        R::select(full, ce, r.scaled(loss)),
                        R::select(full, -(weight * scale), r.scaled(g)),
                    )
                }
                None => (loss, g),
            };
            (loss, g, weight.eq(zero))
        }
        Some(epsilon) => {
            let (eps, ignored) = (target_poly, weight.eq(zero) & target_poly.eq(zero));
            // `−log p − (1 − p)`: exact at the top with `S' <= 1` (`p >= 1/2`); elsewhere
            // `p < 1/2`, `−log p > ln 2` and the subtraction loses at most a factor 3.6.
            let series = top & !one.lt(rest);
            let d = R::select(series, crate::poly::log_excess(not_p, rest), -log_p - not_p);
            let a_d = R::select(weight.eq(zero), zero, weight * d);
            let a_eps = weight + eps;
            let loss = R::select(ignored, zero, modulating * (a_d + a_eps * not_p));
            // p·dL/dp = −(1 − p)^γ·(first + γ·p·P/(1 − p)), `first = α_c + ε·p` (as
            // `(α_c + ε) − ε·(1 − p)` for ε < 0, non-negative terms either way) and
            // `P = α_c·d + (α_c + ε)·(1 − p)`, whose ratio → α_c + ε as `1 − p → 0`.
            let first = if epsilon >= 0.0 {
                weight + eps * p
            } else {
                a_eps - eps * not_p
            };
            let a_d_c = R::select(weight.eq(zero), zero, weight * d.cap(CE_CAP));
            let over = R::select(not_p.eq(zero), a_eps, (a_d_c + a_eps * not_p) / not_p);
            let g = scale * -(modulating * (first + R::splat(gamma) * (p * over)));
            (loss, g, ignored)
        }
    };
    HardRow {
        loss,
        total,
        minus_g: R::select(ignored, zero, -g),
        own: R::select(ignored, zero, g * not_p),
        inv_total,
    }
}

/// Loss of each row for hard target classes; when `grad_scale` is given, writes (through the
/// stash) `grad_scale · weight · dL/dz_j` for every class (exactly 0 where `weight` is 0).
///
/// Two passes over the logits: the maximum, then `e_j` (stashed) and `S'`; with a gradient a
/// third over the stash.
/// Returns the loss and `S` (NaN exactly when a logit of the row is NaN).
#[inline(always)]
pub(crate) fn hard_rows<R: KernelMath, B: Rows<R>>(
    rows: &mut B,
    target: HardTargets<R>,
    focusing: Focusing,
    formula: (f32, Modifier),
    grad_scale: Option<R>,
) -> (R, R) {
    let zero = R::splat(0.0);
    let m = rows.max();
    let [rest] = rows.pass::<2, 1, false>(
        Reads::LOGITS,
        [m, target.class],
        #[inline(always)]
        |x| {
            let [m, c] = *x.row;
            let e = share_of(x.z, m);
            ([R::select(x.index.eq(c), zero, e)], Some(e))
        },
    );
    let zc = shifted(target.logit, m);
    let e_c = rows.stashed_at(
        target.class,
        #[inline(always)]
        || share(zc),
    );
    let scale = grad_scale.unwrap_or(zero);
    let weights = (target.weight, target.poly);
    let row = hard_row(rest, e_c, zc, weights, focusing, formula, scale);
    if grad_scale.is_some() {
        let reads = Reads {
            logits: false,
            stash: true,
            weights: false,
        };
        // `(−g)·p_j` is `−(g·p_j)` exactly; an ignored row gets `(+0)·p_j = +0`.
        let per_row = [row.minus_g, row.inv_total, row.own, target.class];
        rows.map(
            reads,
            per_row,
            #[inline(always)]
            |x| {
                let [minus_g, inv_total, own, c] = *x.row;
                R::select(x.index.eq(c), own, minus_g * (x.stashed * inv_total))
            },
        );
    }
    (row.loss, row.total)
}

/// Loss of each row for soft targets (Keras's categorical focal cross-entropy):
/// `L = −Σ_j w_j (1 − p_j)^γ log p_j` with `w_j = α_j y_j`; when `grad_scale` is given,
/// writes `grad_scale · dL/dz_k = grad_scale · (w_k G_k − p_k Σ_j w_j G_j)` with
/// `G_j = (1 − p_j)^γ (γ p_j log p_j / (1 − p_j) − 1)`.
///
/// `1 − p_j` is `S'/S` at the (first) largest logit and `(S − e_j)/S` elsewhere, where
/// `S − e_j >= S/2` loses nothing; `S'` is the class sum without that class. Returns the loss
/// and `S` (NaN exactly when a logit of the row is NaN).
#[inline(always)]
pub(crate) fn soft_rows<R: KernelMath, B: Rows<R>>(
    rows: &mut B,
    focusing: Focusing,
    (gamma, reduced): (f32, Option<Reduced>),
    grad_scale: Option<R>,
) -> (R, R) {
    let zero = R::splat(0.0);
    let one = R::splat(1.0);
    let m = rows.max();
    let top_class = rows.first_class_at(m);
    let [rest] = rows.pass::<2, 1, false>(
        Reads::LOGITS,
        [m, top_class],
        #[inline(always)]
        |x| {
            let [m, top_class] = *x.row;
            let e = share_of(x.z, m);
            ([R::select(x.index.eq(top_class), zero, e)], Some(e))
        },
    );
    let total = one + rest;
    let inv_total = one / total;
    let (log_total, log1p_rest) = R::ln_and_log1p_unit(total, rest, inv_total);
    let with_grad = grad_scale.is_some();
    let reads = Reads {
        logits: true,
        stash: with_grad,
        weights: true,
    };
    let per_row = [m, top_class, rest, log_total, log1p_rest, inv_total];
    let [loss, weighted_g] = rows.pass::<6, 2, true>(
        reads,
        per_row,
        #[inline(always)]
        |x| {
            let [m, top_class, rest, log_total, log1p_rest, inv_total] = *x.row;
            let total = one + rest;
            let (hi, lo) = shifted(x.z, m);
            // With a gradient the previous pass stashed e_j; without, it is recomputed.
            let e = if with_grad {
                x.stashed
            } else {
                share((hi, lo))
            };
            let top = x.index.eq(top_class);
            let log_p = R::select(top, -log1p_rest, (hi - log_total) + lo);
            let not_p = R::select(top, rest, total - e) * inv_total;
            let modulating = focusing.power(not_p);
            let w = x.weight;
            let loss = R::select(w.eq(zero), zero, w * (modulating * -log_p));
            let p = e * inv_total;
            // The reduced factor per class: 1 (the cross-entropy's term, `G_j = −1`) or
            // `th^−γ` times the focal term.
            let full = reduced.map(|r| r.full(not_p, p));
            let loss = match (reduced, full) {
                (Some(r), Some(full)) => R::select(
                    full,
                    R::select(w.eq(zero), zero, w * -log_p),
                    r.scaled(loss),
                ),
                _ => loss,
            };
            if !with_grad {
                return ([loss, zero], None);
            }
            let ratio = log_over_complement(log_p, not_p, log1p_rest, rest, total, top);
            let wg = w * (modulating * (R::splat(gamma) * (p * ratio) - one));
            let wg = match (reduced, full) {
                (Some(r), Some(full)) => R::select(full, -w, r.scaled(wg)),
                _ => wg,
            };
            ([loss, wg], Some(wg))
        },
    );
    if let Some(scale) = grad_scale {
        // Subtract p_k·Σ_j w_j G_j from the stashed w_k G_k.
        let reads = Reads {
            logits: true,
            stash: true,
            weights: false,
        };
        rows.map(
            reads,
            [m, inv_total, weighted_g, scale],
            #[inline(always)]
            |x| {
                let [m, inv_total, weighted_g, scale] = *x.row;
                let p = share_of(x.z, m) * inv_total;
                scale * (x.stashed - p * weighted_g)
            },
        );
    }
    (loss, total)
}
