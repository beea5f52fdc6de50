//! The softmax focal loss of one row (or one row per lane) and its gradient, written once
//! over [`KernelMath`] and evaluated by both kernels.
//!
//! With `m` the row maximum, `e_j = exp(z_j − m)`, `S' = Σ_{j≠c} e_j` (summed without `e_c`,
//! in increasing `j`) and `S = e_c + S'`:
//! `1 − p_c = S'/S` (never `1 − p_c` by subtraction), `log p_c = −log1p(S')` when `z_c` is the
//! maximum (where `(z_c − m) − log S` would round to 0) and `(z_c − m) − log S` otherwise, and
//! `dL/dz_j = g·(δ_jc − p_j)` with `g = α_c·(1−p_c)^γ·[γ·p_c·(log p_c)/(1−p_c) − 1]`, where
//! `(log p_c)/(1−p_c)` is evaluated as a bounded function (→ −1 as `p_c → 1`), so no
//! `(1 − p_c)^(γ−1)` is formed and the gradient is finite for every γ >= 0.

use crate::focusing::Focusing;
use crate::kernel_math::KernelMath;

/// Access to the logits of the row(s) being computed, one class at a time.
pub(crate) trait Rows<R> {
    /// The logits of class `j`.
    fn logit(&self, j: usize) -> R;
    /// Writes the gradient of class `j`.
    fn set_grad(&mut self, j: usize, g: R);
    /// Reads back what [`set_grad`](Self::set_grad) wrote for class `j` (the gradient slice
    /// doubles as scratch).
    fn grad(&self, j: usize) -> R;
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

/// `e^(z − m)` from [`shifted`].
#[inline(always)]
fn share<R: KernelMath>((hi, lo): (R, R)) -> R {
    R::exp_sum(hi, lo)
}

/// `max_j z_j` per lane (NaN logits are caught by the caller's checks).
#[inline(always)]
fn row_max<R: KernelMath, B: Rows<R>>(rows: &B, classes: usize) -> R {
    let mut m = R::splat(f32::NEG_INFINITY);
    for j in 0..classes {
        let z = rows.logit(j);
        m = R::select(m.lt(z), z, m);
    }
    m
}

/// A running sum with Kahan's compensation: its error stays a few ULP however many classes
/// are added (a plain `f32` sum of C terms can lose `C/2` ULP), in a fixed order and with
/// basic operations only, so it is the same on every target.
struct Compensated<R> {
    sum: R,
    lost: R,
}

impl<R: KernelMath> Compensated<R> {
    #[inline(always)]
    fn new() -> Self {
        Compensated {
            sum: R::splat(0.0),
            lost: R::splat(0.0),
        }
    }

    /// Adds `v`; once the sum is infinite it stays so (the compensation would be `∞ − ∞`).
    #[inline(always)]
    fn add(&mut self, v: R) {
        let y = v - self.lost;
        let t = self.sum + y;
        let finite = t.abs().lt(R::splat(f32::INFINITY));
        self.lost = R::select(finite, (t - self.sum) - y, R::splat(0.0));
        self.sum = t;
    }
}

/// The class index `j` as lanes (exact: classes are at most 2^24).
#[inline(always)]
fn class<R: KernelMath>(j: usize) -> R {
    R::splat(j as f32)
}

/// `log(x) / (1 − p)` at `x = p` for the bounded ratio of the gradient, given
/// `log p`, `1 − p`, and whether `p` is the row's largest probability with `S'` (then
/// `log p = −log1p(S')`, `1 − p = S'/S`, and the ratio is `−log1p(S')·S/S'`, → −1 as `S' → 0`).
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
    let at_top = R::select(rest.eq(zero), R::splat(-1.0), -(log1p_rest * total) / rest);
    let ratio = R::select(top, at_top, log_p / not_p);
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

/// Loss of the row(s) for hard target classes `c` (as lanes), weighted by `weight`
/// (α_c, 0 for ignored rows); when `grad_scale` is given, writes
/// `grad_scale · weight · dL/dz_j` for every class (exactly 0 where `weight` is 0).
///
/// Returns the loss and `S` (NaN exactly when a logit of the row is NaN).
#[inline(always)]
pub(crate) fn hard_rows<R: KernelMath, B: Rows<R>>(
    rows: &mut B,
    classes: usize,
    c: R,
    weight: R,
    focusing: Focusing,
    gamma: f32,
    grad_scale: Option<R>,
) -> (R, R) {
    let zero = R::splat(0.0);
    let one = R::splat(1.0);
    let m = row_max(rows, classes);
    let mut rest = Compensated::new();
    let (mut zc_hi, mut zc_lo) = (zero, zero);
    for j in 0..classes {
        let d = shifted(rows.logit(j), m);
        let is_c = class::<R>(j).eq(c);
        rest.add(R::select(is_c, zero, share(d)));
        zc_hi = R::select(is_c, d.0, zc_hi);
        zc_lo = R::select(is_c, d.1, zc_lo);
    }
    let rest = rest.sum;
    let e_c = share((zc_hi, zc_lo));
    let total = e_c + rest;
    let top = zc_hi.eq(zero);
    let d = one + rest;
    let log1p_rest = R::log1p_unit(rest, d, one / d);
    let log_p = R::select(top, -log1p_rest, (zc_hi - total.ln()) + zc_lo);
    let not_p = rest / total;
    let modulating = focusing.power(not_p);
    let ce = -log_p;
    let loss = R::select(weight.eq(zero), zero, weight * (modulating * ce));
    if let Some(scale) = grad_scale {
        let p = e_c / total;
        let ratio = log_over_complement(log_p, not_p, log1p_rest, rest, total, top);
        let g = weight * scale * (modulating * (R::splat(gamma) * (p * ratio) - one));
        let own = g * not_p;
        let inv_total = one / total;
        let ignored = weight.eq(zero);
        for j in 0..classes {
            let is_c = class::<R>(j).eq(c);
            let p_j = share(shifted(rows.logit(j), m)) * inv_total;
            let value = R::select(is_c, own, -(g * p_j));
            rows.set_grad(j, R::select(ignored, zero, value));
        }
    }
    (loss, total)
}

/// Loss of the row(s) for soft targets (Keras's categorical focal cross-entropy):
/// `L = −Σ_j w_j (1 − p_j)^γ log p_j` with `w_j = α_j y_j` given by `weight(j)`; when
/// `grad_scale` is given, writes `grad_scale · dL/dz_k = w_k G_k − p_k Σ_j w_j G_j` with
/// `G_j = (1 − p_j)^γ (γ p_j log p_j / (1 − p_j) − 1)`.
///
/// `1 − p_j` is `S'/S` at the (first) largest logit and `(S − e_j)/S` elsewhere, where
/// `S − e_j >= S/2` loses nothing. Returns the loss and `S` (NaN exactly when a logit of the
/// row is NaN).
#[inline(always)]
pub(crate) fn soft_rows<R: KernelMath, B: Rows<R>>(
    rows: &mut B,
    classes: usize,
    weight: impl Fn(usize) -> R,
    focusing: Focusing,
    gamma: f32,
    grad_scale: Option<R>,
) -> (R, R) {
    let zero = R::splat(0.0);
    let one = R::splat(1.0);
    let m = row_max(rows, classes);
    // The first class holding the maximum, and the sum of the others.
    let mut top_class = R::splat(-1.0);
    let mut rest = Compensated::new();
    for j in 0..classes {
        let d = shifted(rows.logit(j), m);
        let first_top = d.0.eq(zero) & top_class.lt(zero);
        top_class = R::select(first_top, class::<R>(j), top_class);
        rest.add(R::select(first_top, zero, share(d)));
    }
    let rest = rest.sum;
    let total = one + rest;
    let log1p_rest = R::log1p_unit(rest, total, one / total);
    let log_total = total.ln();
    let inv_total = one / total;
    let mut loss = Compensated::new();
    let mut weighted_g = Compensated::new();
    for j in 0..classes {
        let (hi, lo) = shifted(rows.logit(j), m);
        let e = share((hi, lo));
        let top = class::<R>(j).eq(top_class);
        let log_p = R::select(top, -log1p_rest, (hi - log_total) + lo);
        let not_p = R::select(top, rest, total - e) * inv_total;
        let modulating = focusing.power(not_p);
        let w = weight(j);
        loss.add(R::select(w.eq(zero), zero, w * (modulating * -log_p)));
        if grad_scale.is_some() {
            let p = e * inv_total;
            let ratio = log_over_complement(log_p, not_p, log1p_rest, rest, total, top);
            let wg = w * (modulating * (R::splat(gamma) * (p * ratio) - one));
            weighted_g.add(wg);
            rows.set_grad(j, wg);
        }
    }
    if let Some(scale) = grad_scale {
        // Second pass: subtract p_k·Σ_j w_j G_j from the stored w_k G_k.
        let weighted_g = weighted_g.sum;
        for k in 0..classes {
            let p = share(shifted(rows.logit(k), m)) * inv_total;
            let wg = rows.grad(k);
            rows.set_grad(k, scale * (wg - p * weighted_g));
        }
    }
    (loss.sum, total)
}
