//! Independent `f64` references of the variants: each peer's formula, in log space where
//! `f64` would cancel, with the loss, the gradient and the magnitudes their `f32` rounding
//! errors are relative to.
//!
//! A variant with a difference inside (QFL's and VFL's `q − σ(x)`, ASL's `σ(x) − m`) has no
//! relative accuracy near the difference's zero in any finite precision that starts from a
//! rounded sigmoid: its `scale` adds the value's sensitivity to that difference times the
//! magnitude of the difference's terms, as the soft-target gradient of the sigmoid form is
//! measured against the sum of its terms' magnitudes. Where the gradient jumps at that zero
//! (QFL with β <= 1, ASL with γ− = 0) and the difference is within its rounding error of it
//! (`|d| <= c·2^-20`), the side is undetermined: `grad_scale` is `+∞` there, and such a
//! gradient is not measured.

use crate::sigmoid::reference::{sigmoid, sigmoid_focal64, softplus};

/// A reference value: loss, gradient, and the magnitudes each one's rounding error is
/// relative to (`|loss|`, `|grad|` where no difference cancels).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Value {
    /// The loss.
    pub loss: f64,
    /// Its derivative with respect to the logit.
    pub grad: f64,
    /// The magnitude the loss's error is relative to.
    pub loss_scale: f64,
    /// The magnitude the gradient's error is relative to.
    pub grad_scale: f64,
}

impl Value {
    /// A value whose errors are relative to its own magnitudes.
    pub fn plain(loss: f64, grad: f64) -> Self {
        Value {
            loss,
            grad,
            loss_scale: loss.abs(),
            grad_scale: grad.abs(),
        }
    }

    fn of((loss, grad): (f64, f64)) -> Self {
        Value::plain(loss, grad)
    }

    fn scaled(self, k: f64) -> Self {
        if k == 0.0 {
            return Value::plain(0.0, 0.0);
        }
        Value {
            loss: k * self.loss,
            grad: k * self.grad,
            loss_scale: k * self.loss_scale,
            grad_scale: k * self.grad_scale,
        }
    }
}

/// How close to its zero, relative to its terms, a difference is of undetermined sign.
pub const UNDETERMINED: f64 = 1.0 / 1_048_576.0;

/// `t` is 0 or 1.
fn hard(t: f64) -> bool {
    t == 0.0 || t == 1.0
}

/// `(q − σ(x), c)`: the difference as the kernels form it (`σ(−x) − (1 − q)` from q = 1/2 on)
/// and the magnitude `c` of its terms.
fn score_minus_sigmoid(x: f64, q: f64) -> (f64, f64) {
    if q >= 0.5 {
        (sigmoid(-x) - (1.0 - q), (1.0 - q) + sigmoid(-x))
    } else {
        (q - sigmoid(x), q + sigmoid(x))
    }
}

/// FL\* (fvcore's `sigmoid_focal_loss_star`, with Lin et al.'s β):
/// `α_t · softplus(−(γ·x·(2t − 1) + β)) / γ`, gradient `−α_t·(2t − 1)·σ(−u)`.
pub fn focal_star(x: f64, t: f64, gamma: f64, beta: f64, alpha: Option<f64>) -> Value {
    let at = crate::sigmoid::reference::alpha_t64(alpha, t);
    let s = 2.0 * t - 1.0;
    let u = if s == 0.0 { beta } else { gamma * x * s + beta };
    let loss = if at == 0.0 {
        0.0
    } else {
        at * softplus(-u) / gamma
    };
    Value::plain(loss, -at * s * sigmoid(-u))
}

/// Quality Focal Loss (mmdet's `quality_focal_loss`): `BCE(x, q)·|q − σ(x)|^β`.
pub fn quality_focal(x: f64, q: f64, beta: f64) -> Value {
    if hard(q) {
        return Value::of(sigmoid_focal64(x, q, beta, None));
    }
    let (d, c) = score_minus_sigmoid(x, q);
    let a = d.abs();
    let bce = q * softplus(-x) + (1.0 - q) * softplus(x);
    let factor = a.powf(beta);
    let loss = bce * factor;
    if !x.is_finite() {
        return Value::plain(loss, -d * factor);
    }
    if a == 0.0 {
        return Value::plain(loss, 0.0);
    }
    let spread = beta * bce * sigmoid(x) * sigmoid(-x);
    let second = spread * a.powf(beta - 1.0);
    let grad = -d * factor - d.signum() * second;
    let undetermined = beta > 0.0 && beta <= 1.0 && a <= c * UNDETERMINED;
    Value {
        loss,
        grad,
        loss_scale: loss + beta * bce * a.powf(beta - 1.0) * c,
        grad_scale: if undetermined {
            f64::INFINITY
        } else {
            (d * factor).abs()
                + second
                + ((beta + 1.0) * factor + spread * (beta - 1.0).abs() * a.powf(beta - 2.0)) * c
        },
    }
}

/// Varifocal Loss (mmdet's `varifocal_loss`): `BCE(x, q)·w`, `w = q` (or 1) where `q > 0`,
/// `α·σ(x)^γ` where `q = 0`.
pub fn varifocal(x: f64, q: f64, alpha: f64, gamma: f64, iou_weighted: bool) -> Value {
    if q == 0.0 {
        return Value::of(sigmoid_focal64(x, 0.0, gamma, None)).scaled(alpha);
    }
    let w = if iou_weighted { q } else { 1.0 };
    let (d, c) = score_minus_sigmoid(x, q);
    let bce = if q == 1.0 {
        softplus(-x)
    } else {
        q * softplus(-x) + (1.0 - q) * softplus(x)
    };
    Value {
        loss: w * bce,
        grad: -w * d,
        loss_scale: w * bce,
        grad_scale: w * if x.is_finite() { c } else { d.abs() },
    }
}

/// Asymmetric Loss (the authors' `AsymmetricLoss`, timm's `AsymmetricLossMultiLabel`, without
/// its ε clamp): positives `−(1−p)^γ+·log p`, negatives `−p_m^γ−·log(1 − p_m)` with
/// `p_m = max(p − m, 0)`.
pub fn asymmetric(x: f64, t: f64, gamma_pos: f64, gamma_neg: f64, clip: f64) -> Value {
    if t == 1.0 {
        return Value::of(sigmoid_focal64(x, 1.0, gamma_pos, None));
    }
    if clip == 0.0 {
        return Value::of(sigmoid_focal64(x, 0.0, gamma_neg, None));
    }
    let (sx, snx) = (sigmoid(x), sigmoid(-x));
    // p − m as the kernels form it, and the sigmoid its error comes from.
    let (p_m, c) = if x >= 0.0 && clip >= 0.5 {
        ((1.0 - clip) - snx, snx)
    } else {
        (sx - clip, sx)
    };
    let undetermined = gamma_neg == 0.0 && p_m.abs() <= c * UNDETERMINED;
    if p_m <= 0.0 {
        let mut v = Value::plain(0.0, 0.0);
        if undetermined {
            v.grad_scale = f64::INFINITY;
        }
        return v;
    }
    let rest = snx + clip; // 1 − p_m
    let n = if p_m < 0.5 {
        -(-p_m).ln_1p()
    } else {
        -rest.ln()
    };
    let g = gamma_neg;
    let power = p_m.powf(g);
    let loss = power * n;
    let first = if g == 0.0 {
        0.0
    } else {
        g * p_m.powf(g - 1.0) * n
    };
    let d_loss = first + power / rest;
    let spread = sx * snx;
    let second_terms = if g == 0.0 {
        0.0
    } else {
        (g * (g - 1.0) * p_m.powf(g - 2.0) * n).abs() + 2.0 * g * p_m.powf(g - 1.0) / rest
    } + power / (rest * rest);
    Value {
        loss,
        grad: spread * d_loss,
        loss_scale: loss + d_loss * c,
        grad_scale: if undetermined {
            f64::INFINITY
        } else {
            spread * (d_loss + second_terms * c)
        },
    }
}
