//! An independent `f64` reference for the softmax focal loss and its gradient.
//!
//! Written from the textbook chain rule with `(1 − p)^(γ−1)` formed directly (safe in `f64`
//! away from `p = 1`, with the limit taken at `1 − p = 0`), `log p` by `log1p` at the row's
//! maximum, and `1 − p` as a sum of the other classes' shares. Its gradient is checked against
//! central finite differences of its loss in tests/suite/softmax_reference.rs.

/// Shares of one row: `e_j = exp(z_j − m)`, the first maximal class and the sum of the others.
struct Shares {
    e: Vec<f64>,
    top: usize,
    rest: f64,
}

fn shares(z: &[f64]) -> Shares {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let top = z.iter().position(|&v| v == m).unwrap();
    let e: Vec<f64> = z
        .iter()
        .map(|&v| if v == m { 1.0 } else { (v - m).exp() })
        .collect();
    let rest = e
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != top)
        .map(|(_, v)| v)
        .sum();
    Shares { e, top, rest }
}

/// `(log p_j, 1 − p_j, p_j)` for every class, `1 − p_j` without a subtraction at the top.
///
/// ```
/// let p = testkit::softmax::reference::probabilities(&[0.0, 0.0]);
/// assert_eq!(p[0], (-std::f64::consts::LN_2, 0.5, 0.5));
/// ```
pub fn probabilities(z: &[f64]) -> Vec<(f64, f64, f64)> {
    let s = shares(z);
    let total = 1.0 + s.rest;
    (0..z.len())
        .map(|j| {
            if j == s.top {
                (-s.rest.ln_1p(), s.rest / total, 1.0 / total)
            } else {
                let others: f64 = total - s.e[j];
                (
                    (z[j] - z[s.top]) - total.ln(),
                    others / total,
                    s.e[j] / total,
                )
            }
        })
        .collect()
}

/// `d/dz_j` of `−(1−p)^γ log p` through `p` only: `p·f'(p) = γ(1−p)^(γ−1)·p·log p − (1−p)^γ`.
fn p_times_derivative(log_p: f64, not_p: f64, p: f64, g: f64) -> f64 {
    if not_p == 0.0 {
        // (1−p)^(γ−1)·log p → −(1−p)^γ → 0 for γ > 0; at γ = 0 the first term is absent.
        return if g == 0.0 { -1.0 } else { 0.0 };
    }
    let first = if g == 0.0 {
        0.0
    } else {
        g * not_p.powf(g - 1.0) * p * log_p
    };
    first - not_p.powf(g)
}

/// The modulating factor and `p·d/dp` of `−factor·log p` at one class's `(log p, 1 − p, p)`.
type Terms<'a> = &'a dyn Fn(f64, f64, f64) -> (f64, f64);

/// The focal loss's terms: `(1 − p)^γ` and [`p_times_derivative`].
fn focal_terms(g: f64) -> impl Fn(f64, f64, f64) -> (f64, f64) {
    move |log_p, not_p, p| {
        let modulating = if g == 0.0 { 1.0 } else { not_p.powf(g) };
        (modulating, p_times_derivative(log_p, not_p, p, g))
    }
}

/// The reduced focal loss's terms (Sergievskiy & Ponamarev 2019): 1 and −1 where `p < th`,
/// else `th^−γ` times the focal loss's; the branch decided on `p` in `f64`.
fn reduced_terms(g: f64, th: f64) -> impl Fn(f64, f64, f64) -> (f64, f64) {
    move |log_p, not_p, p| {
        if p < th {
            (1.0, -1.0)
        } else {
            let (m, d) = focal_terms(g)(log_p, not_p, p);
            let c = th.powf(-g);
            (c * m, c * d)
        }
    }
}

/// Loss and gradient of one row with hard target `c`, weight `alpha_c`.
pub fn hard(z: &[f32], c: usize, gamma: f32, alpha_c: f32) -> (f64, Vec<f64>) {
    hard_with(z, c, alpha_c, &focal_terms(f64::from(gamma)))
}

/// [`hard`] for the reduced focal loss of threshold `th`: the factor is 1 where `p_c < th`
/// and `((1 − p_c)/th)^γ` elsewhere.
pub fn hard_reduced(z: &[f32], c: usize, gamma: f32, alpha_c: f32, th: f32) -> (f64, Vec<f64>) {
    let terms = reduced_terms(f64::from(gamma), f64::from(th));
    hard_with(z, c, alpha_c, &terms)
}

fn hard_with(z: &[f32], c: usize, alpha_c: f32, terms: Terms<'_>) -> (f64, Vec<f64>) {
    let z: Vec<f64> = z.iter().map(|&v| f64::from(v)).collect();
    let a = f64::from(alpha_c);
    let probs = probabilities(&z);
    let (log_p, not_p, p) = probs[c];
    let (modulating, derivative) = terms(log_p, not_p, p);
    let loss = -a * modulating * log_p;
    let scale = a * derivative;
    let grad = (0..z.len())
        .map(|j| {
            if j == c {
                scale * not_p
            } else {
                -scale * probs[j].2
            }
        })
        .collect();
    (loss, grad)
}

/// Loss and gradient of one row with soft targets `y` and per-class weights `alpha`.
pub fn soft(z: &[f32], y: &[f32], gamma: f32, alpha: Option<&[f32]>) -> (f64, Vec<f64>) {
    soft_with(z, y, alpha, &focal_terms(f64::from(gamma)))
}

/// [`soft`] for the reduced focal loss of threshold `th`, its factor taken per class.
pub fn soft_reduced(
    z: &[f32],
    y: &[f32],
    gamma: f32,
    alpha: Option<&[f32]>,
    th: f32,
) -> (f64, Vec<f64>) {
    let terms = reduced_terms(f64::from(gamma), f64::from(th));
    soft_with(z, y, alpha, &terms)
}

fn soft_with(z: &[f32], y: &[f32], alpha: Option<&[f32]>, terms: Terms<'_>) -> (f64, Vec<f64>) {
    let z: Vec<f64> = z.iter().map(|&v| f64::from(v)).collect();
    let probs = probabilities(&z);
    let w: Vec<f64> = (0..z.len())
        .map(|j| f64::from(y[j]) * alpha.map_or(1.0, |a| f64::from(a[j])))
        .collect();
    let mut loss = 0.0;
    let mut wg = vec![0.0; z.len()];
    for j in 0..z.len() {
        let (log_p, not_p, p) = probs[j];
        let (modulating, derivative) = terms(log_p, not_p, p);
        if w[j] != 0.0 {
            loss -= w[j] * modulating * log_p;
        }
        wg[j] = w[j] * derivative;
    }
    let total: f64 = wg.iter().sum();
    let grad = (0..z.len()).map(|k| wg[k] - probs[k].2 * total).collect();
    (loss, grad)
}

/// `−ln(1 − q) − q` (`−ln(1 − q)` given as `minus_log_p`): the Taylor series
/// `Σ_{k>=2} q^k/k` below `q = 1/8` (an expansion other than the kernels' `atanh` one), the
/// subtraction above.
fn log_excess(q: f64, minus_log_p: f64) -> f64 {
    if q < 0.125 {
        let (mut term, mut sum) = (q * q, 0.0);
        for k in 2..40 {
            sum += term / f64::from(k);
            term *= q;
        }
        sum
    } else {
        minus_log_p - q
    }
}

/// Poly-1 (Leng et al. 2022) on the softmax focal loss of one row with hard target `c`:
/// `α_c·(1 − p_c)^γ·(−log p_c) + ε·(1 − p_c)^(γ+1)`.
#[derive(Debug, Clone)]
pub struct Poly1Row {
    /// The loss.
    pub loss: f64,
    /// `dL/dz_j` for every class.
    pub grad: Vec<f64>,
    /// The magnitude of the loss's terms, `q^γ·(α_c·d + |α_c + ε|·q)` (`q = 1 − p_c`,
    /// `d = −log p_c − q`): the loss itself unless `α_c + ε < 0`.
    pub loss_scale: f64,
    /// The magnitude of each gradient component's terms likewise.
    pub grad_scale: Vec<f64>,
}

/// [`Poly1Row`] of row `z`, target `c`, α_c and ε: written with `p·dL/dp =
/// −q^γ·((α_c + ε) − ε·q) − γ·p·q^(γ−1)·P`, `P = α_c·d + (α_c + ε)·q` (the chain rule of
/// `q^γ·P`, `P' = −α_c/p − ε`, rearranged so that no term cancels where `α_c + ε >= 0`),
/// `dL/dz_j = p·dL/dp·(δ_jc − p_j)`. Checked against finite differences of its loss in
/// tests/suite/softmax_poly1.rs.
pub fn hard_poly1(z: &[f32], c: usize, gamma: f32, alpha_c: f32, eps: f32) -> Poly1Row {
    let z: Vec<f64> = z.iter().map(|&v| f64::from(v)).collect();
    let (g, a, e) = (f64::from(gamma), f64::from(alpha_c), f64::from(eps));
    let probs = probabilities(&z);
    let (log_p, q, p) = probs[c];
    let d = log_excess(q, -log_p);
    let m = if g == 0.0 { 1.0 } else { q.powf(g) };
    let a_eps = a + e;
    let big_p = a * d + a_eps * q;
    let big_p_mag = a * d + a_eps.abs() * q;
    let loss = if a == 0.0 && e == 0.0 { 0.0 } else { m * big_p };
    // γ·p·q^(γ−1)·P, → 0 as q → 0 for γ > 0 (P ~ (α_c + ε)·q); absent at γ = 0.
    let second = |pp: f64| {
        if g == 0.0 || q == 0.0 {
            0.0
        } else {
            g * p * q.powf(g - 1.0) * pp
        }
    };
    let scale = -m * (a_eps - e * q) - second(big_p);
    // The kernels' terms: `α_c + ε·p` for ε >= 0, `(α_c + ε) − ε·q` below (mixed only where
    // `α_c + ε < 0`).
    let first_mag = if e >= 0.0 {
        a + e * p
    } else {
        a_eps.abs() + e.abs() * q
    };
    let scale_mag = m * first_mag + second(big_p_mag);
    let grad = (0..z.len())
        .map(|j| {
            if j == c {
                scale * q
            } else {
                -scale * probs[j].2
            }
        })
        .collect();
    let grad_scale = (0..z.len())
        .map(|j| {
            if j == c {
                scale_mag * q
            } else {
                scale_mag * probs[j].2
            }
        })
        .collect();
    Poly1Row {
        loss,
        grad,
        loss_scale: m * big_p_mag,
        grad_scale,
    }
}
