//! Independent `f64` references of the sigmoid form's options: Poly-1 (Leng et al. 2022), the
//! reduced focal loss (smp's `reduced_threshold`) and the normalised focal loss (smp's
//! `normalized=True`), each from the peer's formula with `q = 1 − p_t` from `exp(−|x|)`, and
//! `−ln(1 − q) − q` (Poly-1's cancellation at ε = −1) as the Taylor series `Σ_{k>=2} q^k/k`
//! below `q = 1/8`, a different expansion from the kernels' `atanh` one.

use super::reference::Value;
use crate::sigmoid::reference::{alpha_t64, sigmoid, softplus};

/// `−ln(1 − q) − q` for `q = σ(−z)` (`ce = softplus(−z) = −ln(1 − q)`), in `f64` without the
/// cancellation.
fn log_excess(q: f64, ce: f64) -> f64 {
    if q < 0.125 {
        let (mut term, mut sum) = (q * q, 0.0);
        for k in 2..40 {
            sum += term / f64::from(k);
            term *= q;
        }
        sum
    } else {
        ce - q
    }
}

/// `(q, p_t, CE, dq/dx, dCE/dx, CE − q, |terms of dCE/dx|)` at logit `x`, target `t` in
/// [0, 1] (`dCE/dx = (1−t)·σ(x) − t·σ(−x)` crosses zero for a soft target: its error is
/// relative to the sum of its terms' magnitudes, as the sigmoid form's).
fn parts(x: f64, t: f64) -> [f64; 7] {
    let (sx, snx) = (sigmoid(x), sigmoid(-x));
    let q = t * snx + (1.0 - t) * sx;
    let p_t = t * sx + (1.0 - t) * snx;
    let (ce_pos, ce_neg) = (softplus(-x), softplus(x));
    // `t·a + (1 − t)·b`, with the absent term left out (an infinite one would give 0·∞).
    let mix = |a: f64, b: f64| match t {
        1.0 => a,
        0.0 => b,
        _ => t * a + (1.0 - t) * b,
    };
    let ce = mix(ce_pos, ce_neg);
    let dq = (1.0 - 2.0 * t) * sx * snx;
    let dce = (1.0 - t) * sx - t * snx;
    let d = mix(log_excess(snx, ce_pos), log_excess(sx, ce_neg));
    [q, p_t, ce, dq, dce, d, (1.0 - t) * sx + t * snx]
}

/// `q^γ` and its derivative `γ·q^(γ−1)·q'` (0 at γ = 0), from `ln q` where `q` is tiny.
fn power(q: f64, dq: f64, g: f64) -> (f64, f64) {
    if g == 0.0 {
        return (1.0, 0.0);
    }
    let m = q.powf(g);
    let dm = if dq == 0.0 || m == 0.0 {
        0.0
    } else {
        g * m / q * dq
    };
    (m, dm)
}

/// Poly-1 on the sigmoid focal loss: `α_t·q^γ·CE + ε·q^(γ+1)` and its derivative, the loss's
/// scale the magnitude of its terms as `α_t·(CE − q)` and `(α_t + ε)·q` (a real zero crossing
/// where `α_t + ε < 0`), the gradient's the magnitudes of its terms likewise.
pub fn poly1(x: f64, t: f64, g: f64, alpha: Option<f64>, eps: f64) -> Value {
    let at = alpha_t64(alpha, t);
    let [q, _p_t, _ce, dq, dce, d, dce_mag] = parts(x, t);
    let (m, dm) = power(q, dq, g);
    let a_eps = at + eps;
    let p = at * d + a_eps * q;
    let scale_p = at * d + a_eps.abs() * q;
    let loss = m * p;
    // d/dx (q^γ·P) = q^γ·P' + (q^γ)'·P, P' = α_t·CE' + ε·q'.
    let dp = at * dce + eps * dq;
    let grad = m * dp + if dm == 0.0 { 0.0 } else { dm * p };
    let grad_scale = if t == 0.0 || t == 1.0 {
        // α_t·CE' + ε·q' = ∓q·((α_t + ε) − ε·q): the kernels' terms, exact where they agree.
        let first = a_eps.abs() * q + eps.abs() * q * q;
        let first = if eps >= 0.0 { dp.abs() } else { first };
        m * first + (dm * scale_p).abs()
    } else {
        m * (at * dce_mag + eps.abs() * dq.abs()) + (dm * scale_p).abs()
    };
    let grad = if t == 0.0 || t == 1.0 {
        let sign = if t == 1.0 { -1.0 } else { 1.0 };
        sign * m * q * (a_eps - eps * q) + if dm == 0.0 { 0.0 } else { dm * p }
    } else {
        grad
    };
    Value {
        loss,
        grad,
        loss_scale: m * scale_p,
        grad_scale,
    }
}

/// `p_t < th`, decided on `q > 1 − th` from `th = 1/2` on (where `f64`'s `p_t` rounds to 1
/// before `q` underflows; `1 − th` is exact there).
fn full(q: f64, p_t: f64, th: f64) -> bool {
    if th >= 0.5 { q > 1.0 - th } else { p_t < th }
}

/// The reduced focal loss: factor 1 where `p_t < th`, `(q/th)^γ` elsewhere, times α_t·CE.
pub fn reduced(x: f64, t: f64, g: f64, alpha: Option<f64>, th: f64) -> Value {
    let at = alpha_t64(alpha, t);
    let [q, p_t, ce, dq, dce, _, dce_mag] = parts(x, t);
    let (m, dm) = if full(q, p_t, th) {
        (1.0, 0.0)
    } else {
        let (m, dm) = power(q, dq, g);
        let c = th.powf(-g);
        (c * m, c * dm)
    };
    let grad = at * (m * dce + if dm == 0.0 { 0.0 } else { dm * ce });
    let grad_scale = at * (m * dce_mag + (dm * ce).abs());
    Value {
        loss: at * m * ce,
        grad,
        loss_scale: at * m * ce,
        grad_scale,
    }
}

/// The normalised focal loss of one element: `α_t·q^γ·CE / max(q^γ, 10⁻⁶)` and its
/// derivative (the normaliser's included); scale: the magnitudes of `ℓ'/S` and `ℓ·S'/S²`.
pub fn normalized_one(x: f64, t: f64, g: f64, alpha: Option<f64>) -> Value {
    let at = alpha_t64(alpha, t);
    let [q, _, ce, dq, dce, _, dce_mag] = parts(x, t);
    let (m, dm) = power(q, dq, g);
    let l = at * m * ce;
    let dl = at * (m * dce + if dm == 0.0 { 0.0 } else { dm * ce });
    let s = m.max(1e-6);
    let clamped = m < 1e-6;
    let (grad, extra) = if clamped {
        (dl / s, 0.0)
    } else {
        (at * dce, (l * dm / (s * s)).abs())
    };
    Value {
        loss: l / s,
        grad,
        loss_scale: (l / s).abs(),
        grad_scale: at * (m * dce_mag + (dm * ce).abs()) / s + extra,
    }
}

/// The normalised focal loss (optionally with Poly-1's ε or a reduced threshold) over a
/// slice, with weights: `(Σ_i w_i ℓ_i / S, gradient of that sum)`, `S = max(Σ m_j, 10⁻⁶)`.
pub fn normalized_slice(
    xs: &[f64],
    ts: &[f64],
    ws: &[f64],
    g: f64,
    alpha: Option<f64>,
    eps: Option<f64>,
    th: Option<f64>,
) -> (f64, Vec<f64>) {
    let mut terms = Vec::new();
    for (i, (&x, &t)) in xs.iter().zip(ts).enumerate() {
        let at = alpha_t64(alpha, t);
        let [q, p_t, ce, dq, dce, _, _] = parts(x, t);
        let (m0, dm0) = power(q, dq, g);
        let (l, dl, m, dm) = match (eps, th) {
            (Some(e), _) => {
                let v = poly1(x, t, g, alpha, e);
                (v.loss, v.grad, m0, dm0)
            }
            (None, Some(th)) => {
                let v = reduced(x, t, g, alpha, th);
                let (m, dm) = if full(q, p_t, th) {
                    (1.0, 0.0)
                } else {
                    let c = th.powf(-g);
                    (c * m0, c * dm0)
                };
                (v.loss, v.grad, m, dm)
            }
            (None, None) => {
                let dl = at * (m0 * dce + if dm0 == 0.0 { 0.0 } else { dm0 * ce });
                (at * m0 * ce, dl, m0, dm0)
            }
        };
        terms.push((ws[i], l, dl, m, dm));
    }
    let sum_m: f64 = terms.iter().map(|t| t.3).sum();
    let s = sum_m.max(1e-6);
    let a: f64 = terms.iter().map(|t| t.0 * t.1).sum();
    let k = if sum_m < 1e-6 { 0.0 } else { a / (s * s) };
    let grad = terms
        .iter()
        .map(|&(w, _, dl, _, dm)| w * dl / s - k * dm)
        .collect();
    (a / s, grad)
}
