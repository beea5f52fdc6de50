//! Throughput of the focal family's variants, fused forward + gradient (`loss_and_grad`,
//! `Reduction::Mean`), at N ∈ {4096, 65536} elements: one criterion group per variant,
//! `variant_<name>`, each comparing
//!
//! * `simd`  — [`Kernel::Simd`] (the crate's own `exp`/`log`, sixteen lanes on x86-64);
//! * `libm`  — [`Kernel::Libm`], the scalar path;
//! * `naive` — a straight scalar `f32` port of the peer's formula (fvcore's
//!   `sigmoid_focal_loss_star`, mmdet's `quality_focal_loss` and `varifocal_loss`, timm's
//!   `AsymmetricLossMultiLabel`; for the sigmoid form's options, PolyLoss's reference code
//!   and segmentation_models_pytorch's `focal_loss_with_logits` with `reduced_threshold` and
//!   `normalized`) with the gradient autograd's chain rule gives.
//!
//! Workload: the sigmoid bench's dense-detection logits (N(0, 3), 2 % from ±30); targets 1 %
//! positives (quality scores uniform in (0, 1) for QFL and VFL, 1 for FL*, ASL and the
//! options), 0 elsewhere; each variant's default hyper-parameters, and for the options
//! RetinaNet's α = 0.25, γ = 2 with ε = 1 (`poly1`), th = 0.5 (`reduced`) and `normalized`.
//! Run:
//!
//! ```text
//! cargo bench --bench variants
//! cargo bench --bench variants -- variant_quality/
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use focal_loss::{Asymmetric, FocalStar, Kernel, QualityFocal, Reduction, SigmoidFocal, Varifocal};
use testkit::xorshift::Xorshift64;

const SIZES: [usize; 2] = [4096, 65536];

struct Data {
    logits: Vec<f32>,
    /// 0 / 1.
    labels: Vec<f32>,
    /// 0, or a score in (0, 1) where the label is 1.
    scores: Vec<f32>,
}

impl Data {
    fn new(n: usize) -> Self {
        let mut rng = Xorshift64(0x9E37_79B9_7F4A_7C15 ^ n as u64);
        let mut d = Data {
            logits: Vec::with_capacity(n),
            labels: Vec::with_capacity(n),
            scores: Vec::with_capacity(n),
        };
        for _ in 0..n {
            let x = if rng.unit() < 0.02 {
                30.0 * rng.signed()
            } else {
                3.0 * (rng.signed() + rng.signed() + rng.signed())
            };
            let positive = rng.unit() < 0.01;
            d.logits.push(x);
            d.labels.push(if positive { 1.0 } else { 0.0 });
            d.scores.push(if positive {
                0.05 + 0.9 * rng.unit()
            } else {
                0.0
            });
        }
        d
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// `F.binary_cross_entropy_with_logits` and its derivative.
fn bce(x: f32, t: f32) -> (f32, f32) {
    (
        x.max(0.0) - x * t + (-x.abs()).exp().ln_1p(),
        sigmoid(x) - t,
    )
}

/// fvcore's `sigmoid_focal_loss_star` (γ = 1) and its gradient.
#[inline(never)]
fn naive_star(x: &[f32], t: &[f32], grad: &mut [f32]) -> f32 {
    let (gamma, scale) = (1.0f32, 1.0 / x.len() as f32);
    let mut sum = 0.0;
    for ((&x, &t), g) in x.iter().zip(t).zip(grad.iter_mut()) {
        let s = 2.0 * t - 1.0;
        let u = gamma * (x * s);
        sum += softplus(-u) / gamma;
        *g = -s * sigmoid(-u) * scale;
    }
    sum * scale
}

/// mmdet's `quality_focal_loss` (β = 2) and autograd's gradient.
#[inline(never)]
fn naive_quality(x: &[f32], q: &[f32], grad: &mut [f32]) -> f32 {
    let (beta, scale) = (2.0f32, 1.0 / x.len() as f32);
    let mut sum = 0.0;
    for ((&x, &q), g) in x.iter().zip(q).zip(grad.iter_mut()) {
        let p = sigmoid(x);
        let (l, dl) = bce(x, q);
        let d = q - p;
        let w = d.abs().powf(beta);
        let dw = beta * d.abs().powf(beta - 1.0) * d.signum() * -(p * (1.0 - p));
        sum += l * w;
        *g = (dl * w + l * dw) * scale;
    }
    sum * scale
}

/// mmdet's `varifocal_loss` (α 0.75, γ 2, IoU-weighted) and autograd's gradient.
#[inline(never)]
fn naive_varifocal(x: &[f32], q: &[f32], grad: &mut [f32]) -> f32 {
    let (alpha, gamma, scale) = (0.75f32, 2.0f32, 1.0 / x.len() as f32);
    let mut sum = 0.0;
    for ((&x, &q), g) in x.iter().zip(q).zip(grad.iter_mut()) {
        let p = sigmoid(x);
        let (l, dl) = bce(x, q);
        let (w, dw) = if q > 0.0 {
            (q, 0.0)
        } else {
            let w = alpha * (p - q).abs().powf(gamma);
            (
                w,
                alpha * gamma * (p - q).abs().powf(gamma - 1.0) * p * (1.0 - p),
            )
        };
        sum += l * w;
        *g = (dl * w + l * dw) * scale;
    }
    sum * scale
}

/// timm's `AsymmetricLossMultiLabel` (γ+ 1, γ− 4, clip 0.05, ε 1e-8) and autograd's
/// gradient.
#[inline(never)]
fn naive_asymmetric(x: &[f32], y: &[f32], grad: &mut [f32]) -> f32 {
    let (gp, gn, clip, eps, scale) = (1.0f32, 4.0f32, 0.05f32, 1e-8f32, 1.0 / x.len() as f32);
    let mut sum = 0.0;
    for ((&x, &y), g) in x.iter().zip(y).zip(grad.iter_mut()) {
        let p = sigmoid(x);
        let dp = p * (1.0 - p);
        let (base, d_base) = if y == 1.0 {
            (p, dp)
        } else {
            let neg = 1.0 - p + clip;
            if neg > 1.0 { (1.0, 0.0) } else { (neg, -dp) }
        };
        let gamma = if y == 1.0 { gp } else { gn };
        let ln = base.max(eps).ln();
        let d_ln = if base > eps { d_base / base } else { 0.0 };
        let w = (1.0 - base).powf(gamma);
        let dw = -gamma * (1.0 - base).powf(gamma - 1.0) * d_base;
        sum += -ln * w;
        *g = -(d_ln * w + ln * dw) * scale;
    }
    sum * scale
}

/// RetinaNet's α = 0.25, γ = 2 for the options' ports.
const ALPHA: f32 = 0.25;
const GAMMA: f32 = 2.0;

/// torchvision's focal terms of one element: `α_t`, the cross-entropy and its derivative,
/// `q = 1 − p_t` (as `1 − p_t`, the peers' subtraction) and `dq/dx`.
fn focal_terms(x: f32, t: f32) -> (f32, f32, f32, f32, f32) {
    let p = sigmoid(x);
    let (ce, dce) = bce(x, t);
    let p_t = p * t + (1.0 - p) * (1.0 - t);
    let alpha_t = ALPHA * t + (1.0 - ALPHA) * (1.0 - t);
    (
        alpha_t,
        ce,
        dce,
        1.0 - p_t,
        -(2.0 * t - 1.0) * (p * (1.0 - p)),
    )
}

/// PolyLoss's Poly-1 focal loss (ε = 1): `α_t·FL + ε·(1 − p_t)^(γ+1)`, and its gradient.
#[inline(never)]
fn naive_poly1(x: &[f32], t: &[f32], grad: &mut [f32]) -> f32 {
    let (epsilon, scale) = (1.0f32, 1.0 / x.len() as f32);
    let mut sum = 0.0;
    for ((&x, &t), g) in x.iter().zip(t).zip(grad.iter_mut()) {
        let (a, ce, dce, q, dq) = focal_terms(x, t);
        let m = q.powf(GAMMA);
        let dm = GAMMA * q.powf(GAMMA - 1.0) * dq;
        sum += a * ce * m + epsilon * q.powf(GAMMA + 1.0);
        *g = (a * (dce * m + ce * dm) + epsilon * (GAMMA + 1.0) * m * dq) * scale;
    }
    sum * scale
}

/// segmentation_models_pytorch's reduced focal loss (th = 0.5): the factor
/// `((1 − p_t)/th)^γ`, 1 where `p_t < th`, and its gradient.
#[inline(never)]
fn naive_reduced(x: &[f32], t: &[f32], grad: &mut [f32]) -> f32 {
    let (th, scale) = (0.5f32, 1.0 / x.len() as f32);
    let mut sum = 0.0;
    for ((&x, &t), g) in x.iter().zip(t).zip(grad.iter_mut()) {
        let (a, ce, dce, q, dq) = focal_terms(x, t);
        let (m, dm) = if 1.0 - q < th {
            (1.0, 0.0)
        } else {
            let base = q / th;
            (base.powf(GAMMA), GAMMA * base.powf(GAMMA - 1.0) * dq / th)
        };
        sum += a * ce * m;
        *g = a * (dce * m + ce * dm) * scale;
    }
    sum * scale
}

/// segmentation_models_pytorch's normalised focal loss: every loss over
/// `max(Σ (1 − p_t)^γ, 1e-6)`, and autograd's gradient, which includes the sum's own
/// derivative (two passes).
#[inline(never)]
fn naive_normalized(x: &[f32], t: &[f32], grad: &mut [f32]) -> f32 {
    let scale = 1.0 / x.len() as f32;
    let (mut total, mut norm) = (0.0f32, 0.0f32);
    for (&x, &t) in x.iter().zip(t) {
        let (a, ce, _, q, _) = focal_terms(x, t);
        let m = q.powf(GAMMA);
        total += a * ce * m;
        norm += m;
    }
    let clamped = norm.max(1e-6);
    let k = if norm > 1e-6 {
        total / (clamped * clamped)
    } else {
        0.0
    };
    for ((&x, &t), g) in x.iter().zip(t).zip(grad.iter_mut()) {
        let (a, ce, dce, q, dq) = focal_terms(x, t);
        let m = q.powf(GAMMA);
        let dm = GAMMA * q.powf(GAMMA - 1.0) * dq;
        *g = (a * (dce * m + ce * dm) / clamped - k * dm) * scale;
    }
    total / clamped * scale
}

/// One variant: its name, the crate's loss at both kernels, the naive port, its targets.
type Crate = fn(Kernel, &[f32], &[f32], &mut [f32]) -> f32;
type Naive = fn(&[f32], &[f32], &mut [f32]) -> f32;

fn variants() -> [(&'static str, Crate, Naive, bool); 7] {
    let star: Crate = |k, x, t, g| {
        let l = FocalStar::new(1.0, 0.0, None).unwrap().with_kernel(k);
        l.loss_and_grad(x, t, Reduction::Mean, g).unwrap()
    };
    let quality: Crate = |k, x, t, g| {
        let l = QualityFocal::new(2.0).unwrap().with_kernel(k);
        l.loss_and_grad(x, t, Reduction::Mean, g).unwrap()
    };
    let vari: Crate = |k, x, t, g| {
        let l = Varifocal::MMDET.with_kernel(k);
        l.loss_and_grad(x, t, Reduction::Mean, g).unwrap()
    };
    let asym: Crate = |k, x, t, g| {
        let l = Asymmetric::TIMM.with_kernel(k);
        l.loss_and_grad(x, t, Reduction::Mean, g).unwrap()
    };
    let poly1: Crate = |k, x, t, g| {
        let l = SigmoidFocal::RETINANET
            .with_poly1(1.0)
            .unwrap()
            .with_kernel(k);
        l.loss_and_grad(x, t, Reduction::Mean, g).unwrap()
    };
    let reduced: Crate = |k, x, t, g| {
        let l = SigmoidFocal::RETINANET.with_reduced_threshold(0.5).unwrap();
        l.with_kernel(k)
            .loss_and_grad(x, t, Reduction::Mean, g)
            .unwrap()
    };
    let normalized: Crate = |k, x, t, g| {
        let l = SigmoidFocal::RETINANET.normalized().with_kernel(k);
        l.loss_and_grad(x, t, Reduction::Mean, g).unwrap()
    };
    [
        ("focal_star", star, naive_star, false),
        ("quality", quality, naive_quality, true),
        ("varifocal", vari, naive_varifocal, true),
        ("asymmetric", asym, naive_asymmetric, false),
        ("poly1", poly1, naive_poly1, false),
        ("reduced", reduced, naive_reduced, false),
        ("normalized", normalized, naive_normalized, false),
    ]
}

fn bench_variants(c: &mut Criterion) {
    testkit::dispatch_env::apply();
    for (name, ours, naive, scores) in variants() {
        let mut group = c.benchmark_group(format!("variant_{name}"));
        group
            .sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for n in SIZES {
            let data = Data::new(n);
            let t = if scores { &data.scores } else { &data.labels };
            let x = &data.logits;
            let mut grad = vec![0.0f32; n];
            // The three agree before any is timed.
            let reference = ours(Kernel::Libm, x, t, &mut grad);
            let mut other = vec![0.0f32; n];
            for value in [
                ours(Kernel::Simd, x, t, &mut other),
                naive(x, t, &mut other),
            ] {
                assert!(
                    (value - reference).abs() <= 1e-3 * reference.abs(),
                    "{name}"
                );
            }
            group.throughput(Throughput::Elements(n as u64));
            for (id, kernel) in [("simd", Kernel::Simd), ("libm", Kernel::Libm)] {
                group.bench_with_input(BenchmarkId::new(id, n), &n, |b, _| {
                    b.iter(|| ours(kernel, black_box(x), black_box(t), black_box(&mut grad)));
                });
            }
            group.bench_with_input(BenchmarkId::new("naive", n), &n, |b, _| {
                b.iter(|| naive(black_box(x), black_box(t), black_box(&mut grad)));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench_variants);
criterion_main!(benches);
