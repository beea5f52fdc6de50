//! Measures both kernels of the softmax focal loss against the `f64` reference. Shared by
//! tests/suite/softmax_accuracy.rs and `examples/accuracy_report.rs`.

use super::reference;
use crate::ulp::ulp_error;
use focal_loss::train::Rng;
use focal_loss::{Kernel, Reduction, SoftmaxFocal};

/// The class counts of the grid.
pub const CLASSES: [usize; 4] = [2, 10, 80, 1000];
/// The γ values of the grid.
pub const GAMMAS: [f32; 6] = [0.0, 0.5, 1.0, 2.0, 2.5, 3.0];

/// Rows of logits for `c` classes and their targets: random rows in [−10, 10], rows with one
/// logit 60 ahead (the target's, and another's), the target far behind, ties, equal logits.
pub fn rows(c: usize) -> (Vec<f32>, Vec<u32>) {
    let mut rng = Rng::new(0x9e37_79b9_u32 ^ c as u32);
    let mut next = move || rng.next_u32();
    let mut logits = Vec::new();
    let mut targets = Vec::new();
    let n_random: usize = if c >= 1000 { 24 } else { 64 };
    for r in 0..n_random + 6 {
        let mut row: Vec<f32> = (0..c)
            .map(|_| (next() % 20_001) as f32 / 1000.0 - 10.0)
            .collect();
        let t = (next() as usize) % c;
        let other = (t + 1 + (next() as usize) % (c - 1).max(1)) % c;
        match r.checked_sub(n_random) {
            Some(0) => row[t] += 60.0,
            Some(1) => row[other] += 60.0,
            Some(2) => row[t] -= 30.0,
            Some(3) => {
                let m = row.iter().copied().fold(f32::MIN, f32::max) + 1.0;
                row[t] = m;
                row[other] = m;
            }
            Some(4) => row.iter_mut().for_each(|v| *v = 0.25),
            Some(5) => row
                .iter_mut()
                .enumerate()
                .for_each(|(j, v)| *v = if j == t { 8.0 } else { -8.0 }),
            _ => {}
        }
        logits.extend_from_slice(&row);
        targets.push(t as u32);
    }
    (logits, targets)
}

/// Worst ULP error of loss and gradient, and misses on values that are not normal `f32`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Worst {
    /// Worst loss error, in ULP.
    pub loss_ulp: f64,
    /// Worst gradient error, in ULP.
    pub grad_ulp: f64,
    /// Wrong values where the reference is not a normal `f32`.
    pub non_normal_misses: usize,
}

fn tiny_ok(got: f32, want: f64) -> bool {
    (f64::from(got) - want).abs() <= f64::from(f32::MIN_POSITIVE) / 4.0 + want.abs() * 1e-3
}

/// Per-class α used for the "α" configurations: 0.25 … 0.75 across the classes.
pub fn alpha(c: usize) -> Vec<f32> {
    (0..c)
        .map(|j| 0.25 + 0.5 * j as f32 / (c.max(2) - 1) as f32)
        .collect()
}

/// Measures one kernel for `c` classes, γ, with or without per-class α.
pub fn measure(kernel: Kernel, c: usize, gamma: f32, with_alpha: bool) -> Worst {
    let a = alpha(c);
    let mut fl = SoftmaxFocal::new(c, gamma).unwrap().with_kernel(kernel);
    if with_alpha {
        fl = fl.with_alpha(&a).unwrap();
    }
    let (x, t) = rows(c);
    let n = t.len();
    let mut loss = vec![0.0f32; n];
    let mut grad = vec![0.0f32; x.len()];
    fl.loss_per_element(&x, &t, &mut loss).unwrap();
    fl.loss_and_grad(&x, &t, Reduction::Sum, &mut grad).unwrap();
    let mut worst = Worst::default();
    for r in 0..n {
        let row = &x[r * c..(r + 1) * c];
        let tc = t[r] as usize;
        let (want_loss, want_grad) =
            reference::hard(row, tc, gamma, if with_alpha { a[tc] } else { 1.0 });
        match ulp_error(loss[r], want_loss) {
            Some(e) => worst.loss_ulp = worst.loss_ulp.max(e),
            None => worst.non_normal_misses += usize::from(!tiny_ok(loss[r], want_loss)),
        }
        for j in 0..c {
            let got = grad[r * c + j];
            match ulp_error(got, want_grad[j]) {
                Some(e) => worst.grad_ulp = worst.grad_ulp.max(e),
                None => worst.non_normal_misses += usize::from(!tiny_ok(got, want_grad[j])),
            }
        }
    }
    worst
}

/// The ε of the Poly-1 grid: the paper's −1 (with α the loss crosses zero: measured at its
/// terms' magnitude), 1 and 2.
pub const POLY_EPSILONS: [f32; 3] = [-1.0, 1.0, 2.0];

/// Measures one kernel of the softmax Poly-1 (`SoftmaxFocal::with_poly1`) for `c` classes,
/// γ and ε, with or without per-class α, on [`rows`]: each error in ULP at the magnitude of
/// the value's terms ([`reference::Poly1Row`]), which is the value itself wherever
/// `α_c + ε >= 0`.
pub fn measure_poly1(kernel: Kernel, c: usize, gamma: f32, with_alpha: bool, eps: f32) -> Worst {
    use crate::ulp::ulps_of;
    let a = alpha(c);
    let mut fl = SoftmaxFocal::new(c, gamma)
        .unwrap()
        .with_kernel(kernel)
        .with_poly1(eps)
        .unwrap();
    if with_alpha {
        fl = fl.with_alpha(&a).unwrap();
    }
    let (x, t) = rows(c);
    let n = t.len();
    let mut loss = vec![0.0f32; n];
    let mut grad = vec![0.0f32; x.len()];
    fl.loss_per_element(&x, &t, &mut loss).unwrap();
    fl.loss_and_grad(&x, &t, Reduction::Sum, &mut grad).unwrap();
    let mut worst = Worst::default();
    let mut note = |got: f32, want: f64, scale: f64, ulp: &mut f64| match ulps_of(got, want, scale)
        .or_else(|| ulp_error(got, want))
    {
        Some(e) => *ulp = ulp.max(e),
        None => worst.non_normal_misses += usize::from(!tiny_ok(got, want)),
    };
    let (mut loss_ulp, mut grad_ulp) = (0.0f64, 0.0f64);
    for r in 0..n {
        let row = &x[r * c..(r + 1) * c];
        let tc = t[r] as usize;
        let want = reference::hard_poly1(row, tc, gamma, if with_alpha { a[tc] } else { 1.0 }, eps);
        note(loss[r], want.loss, want.loss_scale, &mut loss_ulp);
        for j in 0..c {
            note(
                grad[r * c + j],
                want.grad[j],
                want.grad_scale[j],
                &mut grad_ulp,
            );
        }
    }
    worst.loss_ulp = loss_ulp;
    worst.grad_ulp = grad_ulp;
    worst
}
