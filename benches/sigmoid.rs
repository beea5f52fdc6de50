//! Throughput of the sigmoid focal loss, forward only (`loss`) and fused forward + gradient
//! (`loss_and_grad`), at N ∈ {256, 4096, 65536, 1048576} elements.
//!
//! Workload: RetinaNet's configuration (γ = 2, α = 0.25, `Reduction::Mean`) on the dense
//! detection case: logits spread like N(0, 3) (mostly within ±9, 2 % drawn from ±30), `f32`
//! hard targets 0 / 1 with about 1 % positives. The data comes from a fixed xorshift seed, so
//! every run and every machine measures the same inputs.
//!
//! Each group compares three implementations:
//!
//! * `simd`  — [`Kernel::Simd`], the crate's default (the crate's own `exp`/`log`; sixteen
//!   lanes on x86-64 and aarch64);
//! * `libm`  — [`Kernel::Libm`], the scalar reference path;
//! * `naive` — a plain scalar f32 loop written the way the textbook's PyTorch `FocalLoss`
//!   evaluates elementwise (BCE with logits, a separate `sigmoid`, `p_t`, `powf(γ)`, `α_t`,
//!   mean), and for the gradient the product rule autograd applies to those same pieces.
//!   It is the baseline users have today.
//!
//! Throughput is reported in elements per second; divide the time per iteration by N for
//! ns / element.
//!
//! Run:
//!
//! ```text
//! cargo bench --bench sigmoid
//! FOCAL_LOSS_DISPATCH=avx2 CRITERION_HOME=target/avx2/criterion cargo bench --bench sigmoid
//! RUSTFLAGS="-C target-cpu=native" CARGO_TARGET_DIR=target/native cargo bench --bench sigmoid
//! ```
//!
//! A default build dispatches at run time to the widest lanes the CPU has;
//! `FOCAL_LOSS_DISPATCH=baseline|avx2|avx512` caps that level (see `testkit::dispatch_env`),
//! so one build measures what each kind of CPU gets.
//!
//! Filter with criterion's usual syntax, e.g. `cargo bench --bench sigmoid -- loss_and_grad/`
//! (add `--noplot` to skip the plots). Results land in
//! `$CARGO_TARGET_DIR/criterion/<group>/<function>/<N>/new/estimates.json` (default
//! `target/criterion/`); `cargo xtask bench-report` turns them into the tables of `docs/benchmarks.md`. Use the
//! environment variable, not `--target-dir`, for the native build: criterion finds its output
//! folder through `CARGO_TARGET_DIR` (or `CRITERION_HOME`), so with `--target-dir` the native
//! results would overwrite the portable ones in `target/criterion/`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use focal_loss::{Kernel, Reduction, SigmoidFocal};
use testkit::xorshift::Xorshift64;

/// Element counts: from one small head to a large dense-detection batch.
const SIZES: [usize; 4] = [256, 4096, 65536, 1 << 20];

/// RetinaNet's focusing parameter.
const GAMMA: f32 = 2.0;
/// RetinaNet's positive-class weight.
const ALPHA: f32 = 0.25;
/// Fraction of positive anchors.
const POSITIVE_RATE: f32 = 0.01;

/// One benchmark input: logits and f32 hard targets.
struct Data {
    logits: Vec<f32>,
    targets: Vec<f32>,
}

impl Data {
    fn new(n: usize) -> Self {
        let mut rng = Xorshift64(0x9E37_79B9_7F4A_7C15 ^ n as u64);
        let mut logits = Vec::with_capacity(n);
        let mut targets = Vec::with_capacity(n);
        for _ in 0..n {
            // Sum of three uniforms on [-1, 1) has variance 1 and a bell shape; × 3 gives
            // σ = 3 within ±9. A few logits are much larger, as for a confident detector.
            let x = if rng.unit() < 0.02 {
                30.0 * rng.signed()
            } else {
                3.0 * (rng.signed() + rng.signed() + rng.signed())
            };
            logits.push(x);
            targets.push(if rng.unit() < POSITIVE_RATE { 1.0 } else { 0.0 });
        }
        Data { logits, targets }
    }
}

/// The textbook's `FocalLoss.forward`, elementwise in f32 as PyTorch evaluates it:
///
/// ```python
/// bce = F.binary_cross_entropy_with_logits(logits, targets, reduction='none')
/// probs = torch.sigmoid(logits)
/// pt = targets * probs + (1 - targets) * (1 - probs)
/// focal_weight = (1 - pt) ** self.gamma
/// alpha_weight = targets * self.alpha + (1 - targets) * (1 - self.alpha)
/// return (alpha_weight * focal_weight * bce).mean()
/// ```
#[inline(never)]
fn naive_loss(logits: &[f32], targets: &[f32], gamma: f32, alpha: f32) -> f32 {
    let mut sum = 0.0f32;
    for (&x, &t) in logits.iter().zip(targets) {
        let bce = x.max(0.0) - x * t + (-x.abs()).exp().ln_1p();
        let p = 1.0 / (1.0 + (-x).exp());
        let pt = t * p + (1.0 - t) * (1.0 - p);
        let focal_weight = (1.0 - pt).powf(gamma);
        let alpha_weight = t * alpha + (1.0 - t) * (1.0 - alpha);
        sum += alpha_weight * focal_weight * bce;
    }
    sum / logits.len() as f32
}

/// [`naive_loss`] and its gradient by the chain autograd follows through the same pieces:
///
/// `d/dx [α_t (1−p_t)^γ · bce] = α_t [−γ (1−p_t)^(γ−1) · dp_t/dx · bce + (1−p_t)^γ · (p − t)]`
/// with `dp_t/dx = (2t − 1) p (1 − p)`, each `grad[i]` scaled by 1/N for the mean.
#[inline(never)]
fn naive_loss_and_grad(
    logits: &[f32],
    targets: &[f32],
    gamma: f32,
    alpha: f32,
    grad: &mut [f32],
) -> f32 {
    let scale = 1.0 / logits.len() as f32;
    let mut sum = 0.0f32;
    for ((&x, &t), g) in logits.iter().zip(targets).zip(grad.iter_mut()) {
        let bce = x.max(0.0) - x * t + (-x.abs()).exp().ln_1p();
        let p = 1.0 / (1.0 + (-x).exp());
        let pt = t * p + (1.0 - t) * (1.0 - p);
        let focal_weight = (1.0 - pt).powf(gamma);
        let alpha_weight = t * alpha + (1.0 - t) * (1.0 - alpha);
        sum += alpha_weight * focal_weight * bce;

        let d_pt = (2.0 * t - 1.0) * p * (1.0 - p);
        let d_bce = p - t;
        let d_focal_weight = -gamma * (1.0 - pt).powf(gamma - 1.0) * d_pt;
        *g = alpha_weight * (d_focal_weight * bce + focal_weight * d_bce) * scale;
    }
    sum * scale
}

/// Checks that the three implementations agree before any of them is timed, so the
/// comparison is between equal results.
fn cross_check(data: &Data) {
    let n = data.logits.len();
    let simd = SigmoidFocal::new(GAMMA, Some(ALPHA)).unwrap();
    let libm = simd.with_kernel(Kernel::Libm);
    let (x, t) = (&data.logits[..], &data.targets[..]);
    let reference = libm.loss(x, t, Reduction::Mean).unwrap();
    let close = |a: f32, b: f32, tol: f32| (a - b).abs() <= tol * b.abs().max(1e-30);
    for (name, value) in [
        ("simd", simd.loss(x, t, Reduction::Mean).unwrap()),
        ("naive", naive_loss(x, t, GAMMA, ALPHA)),
    ] {
        assert!(
            close(value, reference, 1e-3),
            "N = {n}: {name} loss {value} vs libm {reference}"
        );
    }
    let mut g_libm = vec![0.0f32; n];
    let mut g_simd = vec![0.0f32; n];
    let mut g_naive = vec![0.0f32; n];
    libm.loss_and_grad(x, t, Reduction::Mean, &mut g_libm)
        .unwrap();
    simd.loss_and_grad(x, t, Reduction::Mean, &mut g_simd)
        .unwrap();
    naive_loss_and_grad(x, t, GAMMA, ALPHA, &mut g_naive);
    // Absolute tolerance relative to the largest gradient: where a gradient is tiny the
    // naive formula loses relative accuracy (its 1 − p cancels), which is expected.
    let g_max = g_libm.iter().fold(0.0f32, |m, g| m.max(g.abs()));
    for i in 0..n {
        for (name, g) in [("simd", g_simd[i]), ("naive", g_naive[i])] {
            assert!(
                (g - g_libm[i]).abs() <= 1e-4 * g_max,
                "N = {n}, x = {}: {name} grad {g} vs libm {}",
                x[i],
                g_libm[i]
            );
        }
    }
}

fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
}

fn bench_loss(c: &mut Criterion) {
    testkit::dispatch_env::apply();
    let simd = SigmoidFocal::new(GAMMA, Some(ALPHA)).unwrap();
    let libm = simd.with_kernel(Kernel::Libm);
    let mut group = c.benchmark_group("loss");
    configure(&mut group);
    for n in SIZES {
        let data = Data::new(n);
        cross_check(&data);
        group.throughput(Throughput::Elements(n as u64));
        for (id, fl) in [("simd", simd), ("libm", libm)] {
            group.bench_with_input(BenchmarkId::new(id, n), &data, |b, d| {
                b.iter(|| {
                    fl.loss(black_box(&d.logits), black_box(&d.targets), Reduction::Mean)
                        .unwrap()
                });
            });
        }
        group.bench_with_input(BenchmarkId::new("naive", n), &data, |b, d| {
            b.iter(|| {
                naive_loss(
                    black_box(&d.logits),
                    black_box(&d.targets),
                    black_box(GAMMA),
                    black_box(ALPHA),
                )
            });
        });
    }
    group.finish();
}

fn bench_loss_and_grad(c: &mut Criterion) {
    let simd = SigmoidFocal::new(GAMMA, Some(ALPHA)).unwrap();
    let libm = simd.with_kernel(Kernel::Libm);
    let mut group = c.benchmark_group("loss_and_grad");
    configure(&mut group);
    for n in SIZES {
        let data = Data::new(n);
        let mut grad = vec![0.0f32; n];
        group.throughput(Throughput::Elements(n as u64));
        for (id, fl) in [("simd", simd), ("libm", libm)] {
            group.bench_with_input(BenchmarkId::new(id, n), &data, |b, d| {
                b.iter(|| {
                    let loss = fl
                        .loss_and_grad(
                            black_box(&d.logits),
                            black_box(&d.targets),
                            Reduction::Mean,
                            black_box(&mut grad),
                        )
                        .unwrap();
                    black_box(&mut grad);
                    loss
                });
            });
        }
        group.bench_with_input(BenchmarkId::new("naive", n), &data, |b, d| {
            b.iter(|| {
                let loss = naive_loss_and_grad(
                    black_box(&d.logits),
                    black_box(&d.targets),
                    black_box(GAMMA),
                    black_box(ALPHA),
                    black_box(&mut grad),
                );
                black_box(&mut grad);
                loss
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_loss, bench_loss_and_grad);
criterion_main!(benches);
