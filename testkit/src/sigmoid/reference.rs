//! An independent `f64` reference for the sigmoid focal loss and its gradient.
//!
//! It avoids the traps the crate avoids, in its own way: `softplus` with `ln_1p`, sigmoids
//! from `exp(−|u|)`, and for soft targets the textbook chain rule with `q^(γ−1)` formed
//! directly (safe in `f64` where `q` is bounded away from 0). Its gradient is itself checked
//! against central finite differences of its loss (tests/suite/sigmoid_reference.rs).

/// `ln(1 + e^u)` without overflow or cancellation.
pub fn softplus(u: f64) -> f64 {
    u.max(0.0) + (-u.abs()).exp().ln_1p()
}

/// σ(u) without overflow, accurate in both tails.
pub fn sigmoid(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

/// α_t for a target `t` (1 when alpha is None).
pub fn alpha_t(alpha: Option<f32>, t: f64) -> f64 {
    alpha_t64(alpha.map(f64::from), t)
}

/// [`alpha_t`] with an `f64` alpha.
pub fn alpha_t64(alpha: Option<f64>, t: f64) -> f64 {
    match alpha {
        Some(a) => a * t + (1.0 - a) * (1.0 - t),
        None => 1.0,
    }
}

/// `(loss, dloss/dx)` of torchvision's sigmoid focal loss for one element, in `f64`.
pub fn sigmoid_focal(x: f32, t: f32, gamma: f32, alpha: Option<f32>) -> (f64, f64) {
    sigmoid_focal64(
        f64::from(x),
        f64::from(t),
        f64::from(gamma),
        alpha.map(f64::from),
    )
}

/// [`sigmoid_focal`] with `f64` inputs.
pub fn sigmoid_focal64(x: f64, t: f64, g: f64, alpha: Option<f64>) -> (f64, f64) {
    let at = alpha_t64(alpha, t);
    if t == 0.0 || t == 1.0 {
        // z is the signed margin; p_t = σ(z).
        let s = if t == 1.0 { 1.0 } else { -1.0 };
        let z = s * x;
        let ce = softplus(-z);
        let q = sigmoid(-z);
        let p = sigmoid(z);
        let ln_q = -softplus(z);
        let m = if g == 0.0 { 1.0 } else { (g * ln_q).exp() };
        let loss = if at == 0.0 { 0.0 } else { at * m * ce };
        // p·CE → 0 as p → 0 even where CE = ∞.
        let pce = if p == 0.0 { 0.0 } else { p * ce };
        let dz = -at * m * (q + g * pce);
        (loss, s * dz)
    } else {
        let (sx, snx) = (sigmoid(x), sigmoid(-x));
        let ce = t * softplus(-x) + (1.0 - t) * softplus(x);
        let q = t * snx + (1.0 - t) * sx;
        let dq = (1.0 - 2.0 * t) * sx * snx;
        let dce = sx - t;
        let m = q.powf(g);
        let loss = at * m * ce;
        let mut grad = at * m * dce;
        if g != 0.0 && dq != 0.0 {
            grad += at * g * q.powf(g - 1.0) * dq * ce;
        }
        (loss, grad)
    }
}

/// The magnitude that bounds the rounding error of the soft-target gradient: the sum of the
/// absolute values of its terms. (The gradient itself crosses zero at the loss minimum, where
/// no finite-precision evaluation has relative accuracy.)
pub fn soft_grad_scale(x: f32, t: f32, gamma: f32, alpha: Option<f32>) -> f64 {
    soft_grad_scale64(
        f64::from(x),
        f64::from(t),
        f64::from(gamma),
        alpha.map(f64::from),
    )
}

/// [`soft_grad_scale`] with `f64` inputs.
pub fn soft_grad_scale64(x: f64, t: f64, g: f64, alpha: Option<f64>) -> f64 {
    let at = alpha_t64(alpha, t);
    let (sx, snx) = (sigmoid(x), sigmoid(-x));
    let ce = t * softplus(-x) + (1.0 - t) * softplus(x);
    let q = t * snx + (1.0 - t) * sx;
    let m = q.powf(g);
    let dq_term = (g * q.powf(g - 1.0) * (1.0 - 2.0 * t) * sx * snx * ce).abs();
    at * (m * ((1.0 - t) * sx + t * snx) + dq_term)
}

/// The accuracy bound in ULP of the sigmoid form's loss and gradient at logit `x`, target
/// `t`, γ `g`, per kernel (`tests/suite/sigmoid_proptest.rs`, the `sigmoid` fuzz target).
///
/// 16 ULP for hard targets and for γ ∈ {0, 1, 2, 3}. Soft targets with any other γ take
/// `q^γ` for `q = t·σ(−x) + (1 − t)·σ(x)`: `q` carries the error of its two sigmoids and
/// three roundings (at most about 3 ULP, relative: the terms have one sign, so nothing
/// cancels), which `q^γ` multiplies by γ, hence `16 + 3γ`. The kernels take `ln q` and
/// `γ·ln q` without rounding them (`Focusing::power`), which a rounded exponent would add
/// `2·|γ·ln q|` to; above γ = 2^20 (`Focusing::Huge`) the exponent is rounded, and that term
/// is added.
///
/// ```
/// use testkit::sigmoid::reference::ulp_bound;
/// assert_eq!(ulp_bound(3.0, 1.0, 2.5), 16.0);
/// assert_eq!(ulp_bound(3.0, 0.5, 2.0), 16.0);
/// assert_eq!(ulp_bound(3.0, 0.5, 2.5), 23.5);
/// ```
pub fn ulp_bound(x: f32, t: f32, g: f32) -> f64 {
    let g64 = f64::from(g);
    if (g.fract() == 0.0 && g <= 3.0) || t == 0.0 || t == 1.0 {
        16.0
    } else if g <= 1_048_576.0 {
        16.0 + 3.0 * g64
    } else {
        16.0 + 3.0 * g64 + 2.0 * exponent_size(x, t, g)
    }
}

/// `|γ·ln(1 − p_t)|` at logit `x`, target `t`: the factor by which `exp(γ·ln(1 − p_t))`
/// scales the error of a rounded exponent, the size term of [`ulp_bound`] above γ = 2^20.
///
/// ```
/// use testkit::sigmoid::reference::exponent_size;
/// assert_eq!(exponent_size(0.0, 1.0, 0.0), 0.0);
/// assert!((exponent_size(0.0, 1.0, 2.0) - 2.0 * core::f64::consts::LN_2).abs() < 1e-15);
/// ```
pub fn exponent_size(x: f32, t: f32, g: f32) -> f64 {
    let (x, t) = (f64::from(x), f64::from(t));
    let q = t * sigmoid(-x) + (1.0 - t) * sigmoid(x);
    let ln_q = if t == 1.0 {
        -softplus(x)
    } else if t == 0.0 {
        -softplus(-x)
    } else {
        q.ln()
    };
    (f64::from(g) * ln_q).abs()
}
