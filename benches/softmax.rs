//! Throughput of the softmax focal loss with its gradient (`loss_and_grad`), per logit, for
//! C ∈ {2, 10, 80, 1000} classes in both layouts, and of the options (Poly-1 with ε = 1, the
//! reduced focal loss with th = 0.5) at C = 10, row-major, `softmax_option_<name>`.
//!
//! Workload: 2^16 logits per call (N = 65536 / C samples, or one image of N pixels for
//! channels-first), γ = 2, no α, `Reduction::Mean`, `u8`/`u16` class targets, logits spread
//! like N(0, 3) from a fixed xorshift seed. Functions:
//!
//! * `simd`  — [`Kernel::Simd`] (one sample or pixel per lane);
//! * `libm`  — [`Kernel::Libm`], the scalar path;
//! * `naive` — a straight scalar port of the textbook's PyTorch `MultiClassFocalLoss`
//!   (`cross_entropy`, a separate `softmax`, `gather`, `powf(γ)`), with the gradient autograd
//!   would compute through those pieces. It is row-major only, as PyTorch would make the
//!   tensor contiguous first; the channels-first groups compare `simd` and `libm`.
//!
//! Run: `cargo bench --bench softmax` (add `RUSTFLAGS="-C target-cpu=native"
//! CARGO_TARGET_DIR=target/native` for a native build; `FOCAL_LOSS_DISPATCH=baseline|avx2`
//! caps the runtime dispatch level of a default build); `cargo xtask bench-report` makes the
//! tables of `docs/benchmarks.md` from the results.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use focal_loss::{Kernel, Layout, Reduction, SoftmaxFocal};
use testkit::xorshift::Xorshift64;

/// Logits per call.
const LOGITS: usize = 1 << 16;
/// Class counts.
const CLASSES: [usize; 4] = [2, 10, 80, 1000];
const GAMMA: f32 = 2.0;

/// Logits (row-major and channels-first copies of the same samples) and targets.
struct Data {
    row_major: Vec<f32>,
    channels_first: Vec<f32>,
    targets: Vec<u16>,
}

impl Data {
    fn new(classes: usize) -> Self {
        let rows = LOGITS / classes;
        let mut rng = Xorshift64(0x2545_F491_4F6C_DD1D ^ classes as u64);
        let row_major: Vec<f32> = (0..rows * classes)
            .map(|_| 3.0 * (rng.signed() + rng.signed() + rng.signed()))
            .collect();
        let mut channels_first = vec![0.0f32; row_major.len()];
        for r in 0..rows {
            for j in 0..classes {
                channels_first[j * rows + r] = row_major[r * classes + j];
            }
        }
        let targets = (0..rows)
            .map(|_| (rng.next_u64() % classes as u64) as u16)
            .collect();
        Data {
            row_major,
            channels_first,
            targets,
        }
    }
}

/// The textbook's `MultiClassFocalLoss.forward` and its autograd gradient, one row at a time
/// in f32 as PyTorch evaluates it:
///
/// ```python
/// ce = F.cross_entropy(logits, targets, reduction='none', ignore_index=self.ignore_index)
/// probs = F.softmax(logits, dim=1)
/// pt = probs.gather(1, targets.unsqueeze(1).clamp(0, logits.size(1) - 1)).squeeze(1)
/// focal_weight = (1 - pt) ** self.gamma
/// valid_mask = (targets != self.ignore_index).float()
/// focal_loss = focal_weight * ce * valid_mask
/// return focal_loss.sum() / (valid_mask.sum() + 1e-6)
/// ```
///
/// Gradient: `dL/dz_j = −[γ(1−p_t)^(γ−1)·p_t·ce + (1−p_t)^γ]·(δ_jt − p_j) / count`
/// (through `ce = −log p_t` and `p_t`), with `powf`; [`Modifier`] adds the options' terms.
#[inline(never)]
fn naive_loss_and_grad(
    logits: &[f32],
    targets: &[u16],
    classes: usize,
    (gamma, modifier): (f32, Modifier),
    grad: &mut [f32],
) -> f32 {
    let count = targets.len() as f32 + 1e-6;
    let mut sum = 0.0f32;
    for (r, &t) in targets.iter().enumerate() {
        let z = &logits[r * classes..(r + 1) * classes];
        let g = &mut grad[r * classes..(r + 1) * classes];
        let t = t as usize;
        // cross_entropy: log-softmax through the max.
        let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let s: f32 = z.iter().map(|&v| (v - m).exp()).sum();
        let ce = -(z[t] - m - s.ln());
        // softmax, separately.
        for (gj, &v) in g.iter_mut().zip(z) {
            *gj = (v - m).exp() / s;
        }
        let pt = g[t];
        // The factor, its derivative in p_t, and Poly-1's term with its derivative.
        let (focal_weight, d_weight, extra, d_extra) = modifier.terms(pt, gamma);
        sum += focal_weight * ce + extra;
        let d = (pt * (d_weight * ce + d_extra) - focal_weight) / count;
        for (j, gj) in g.iter_mut().enumerate() {
            let delta = if j == t { 1.0 } else { 0.0 };
            *gj = d * (delta - *gj);
        }
    }
    sum / count
}

/// The naive port's option, as its peer writes it.
#[derive(Clone, Copy)]
enum Modifier {
    /// The textbook's focal loss.
    Focal,
    /// PolyLoss's Poly-1 (ε): `+ ε·(1 − p_t)^(γ+1)`.
    Poly1(f32),
    /// segmentation_models_pytorch's `reduced_threshold` (th): the factor
    /// `((1 − p_t)/th)^γ`, 1 where `p_t < th`.
    Reduced(f32),
}

impl Modifier {
    /// `(factor, d factor/dp_t, extra term, d extra/dp_t)` at `p_t`.
    fn terms(self, pt: f32, gamma: f32) -> (f32, f32, f32, f32) {
        let q = 1.0 - pt;
        let focal = (q.powf(gamma), -gamma * q.powf(gamma - 1.0));
        match self {
            Modifier::Focal => (focal.0, focal.1, 0.0, 0.0),
            Modifier::Poly1(epsilon) => (
                focal.0,
                focal.1,
                epsilon * q.powf(gamma + 1.0),
                -epsilon * (gamma + 1.0) * focal.0,
            ),
            Modifier::Reduced(th) if pt < th => (1.0, 0.0, 0.0, 0.0),
            Modifier::Reduced(th) => (
                (q / th).powf(gamma),
                -gamma * (q / th).powf(gamma - 1.0) / th,
                0.0,
                0.0,
            ),
        }
    }
}

/// Fails unless the naive port's loss and gradient agree with the crate's (to 1e-3 of the
/// loss, and of the gradient's largest element), so a wrong port cannot be timed.
fn assert_agrees(name: &str, ours: (f32, &[f32]), naive: (f32, &[f32])) {
    assert!(
        (ours.0 - naive.0).abs() <= 1e-3 * ours.0.abs(),
        "{name}: loss {} vs naive {}",
        ours.0,
        naive.0
    );
    let largest = ours.1.iter().fold(0.0f32, |a, g| a.max(g.abs()));
    for (i, (a, b)) in ours.1.iter().zip(naive.1).enumerate() {
        assert!(
            (a - b).abs() <= 1e-3 * largest,
            "{name}: grad[{i}] {a} vs naive {b}"
        );
    }
}

fn bench_layout(c: &mut Criterion, layout_name: &str, channels_first: bool) {
    let mut group = c.benchmark_group(format!("softmax_{layout_name}"));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(1));
    for classes in CLASSES {
        let data = Data::new(classes);
        let rows = data.targets.len();
        let (logits, layout) = if channels_first {
            (
                &data.channels_first,
                Layout::ChannelsFirst { spatial: rows },
            )
        } else {
            (&data.row_major, Layout::RowMajor)
        };
        let mut grad = vec![0.0f32; logits.len()];
        group.throughput(Throughput::Elements(logits.len() as u64));
        for (name, kernel) in [("simd", Kernel::Simd), ("libm", Kernel::Libm)] {
            let fl = SoftmaxFocal::new(classes, GAMMA)
                .unwrap()
                .with_layout(layout)
                .unwrap()
                .with_kernel(kernel);
            group.bench_with_input(BenchmarkId::new(name, classes), &classes, |b, _| {
                b.iter(|| {
                    black_box(fl)
                        .loss_and_grad(
                            black_box(logits),
                            black_box(&data.targets),
                            Reduction::Mean,
                            &mut grad,
                        )
                        .unwrap()
                })
            });
        }
        if !channels_first {
            let mut naive = vec![0.0f32; logits.len()];
            let fl = SoftmaxFocal::new(classes, GAMMA).unwrap();
            let formula = (GAMMA, Modifier::Focal);
            assert_agrees(
                "focal",
                (
                    fl.loss_and_grad(logits, &data.targets, Reduction::Mean, &mut grad)
                        .unwrap(),
                    &grad,
                ),
                (
                    naive_loss_and_grad(logits, &data.targets, classes, formula, &mut naive),
                    &naive,
                ),
            );
            group.bench_with_input(BenchmarkId::new("naive", classes), &classes, |b, _| {
                b.iter(|| {
                    naive_loss_and_grad(
                        black_box(logits),
                        black_box(&data.targets),
                        classes,
                        black_box((GAMMA, Modifier::Focal)),
                        &mut grad,
                    )
                })
            });
        }
    }
    group.finish();
}

/// The options at C = 10, row-major: one group each, `softmax_option_<name>`.
fn bench_options(c: &mut Criterion) {
    const OPTION_CLASSES: usize = 10;
    let data = Data::new(OPTION_CLASSES);
    let logits = &data.row_major;
    let base = SoftmaxFocal::new(OPTION_CLASSES, GAMMA).unwrap();
    let options = [
        ("poly1", base.with_poly1(1.0).unwrap(), Modifier::Poly1(1.0)),
        (
            "reduced",
            base.with_reduced_threshold(0.5).unwrap(),
            Modifier::Reduced(0.5),
        ),
    ];
    for (name, fl, modifier) in options {
        let mut group = c.benchmark_group(format!("softmax_option_{name}"));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(300));
        group.measurement_time(Duration::from_secs(1));
        group.throughput(Throughput::Elements(logits.len() as u64));
        let (mut grad, mut naive) = (vec![0.0f32; logits.len()], vec![0.0f32; logits.len()]);
        let formula = (GAMMA, modifier);
        let targets = &data.targets;
        assert_agrees(
            name,
            (
                fl.loss_and_grad(logits, targets, Reduction::Mean, &mut grad)
                    .unwrap(),
                &grad,
            ),
            (
                naive_loss_and_grad(logits, targets, OPTION_CLASSES, formula, &mut naive),
                &naive,
            ),
        );
        for (id, kernel) in [("simd", Kernel::Simd), ("libm", Kernel::Libm)] {
            let fl = fl.with_kernel(kernel);
            group.bench_function(BenchmarkId::new(id, OPTION_CLASSES), |b| {
                b.iter(|| {
                    black_box(fl)
                        .loss_and_grad(
                            black_box(logits),
                            black_box(targets),
                            Reduction::Mean,
                            &mut grad,
                        )
                        .unwrap()
                })
            });
        }
        group.bench_function(BenchmarkId::new("naive", OPTION_CLASSES), |b| {
            b.iter(|| {
                naive_loss_and_grad(
                    black_box(logits),
                    black_box(targets),
                    OPTION_CLASSES,
                    black_box(formula),
                    &mut grad,
                )
            })
        });
        group.finish();
    }
}

fn benches(c: &mut Criterion) {
    testkit::dispatch_env::apply();
    bench_layout(c, "row_major", false);
    bench_layout(c, "channels_first", true);
    bench_options(c);
}

criterion_group!(softmax, benches);
criterion_main!(softmax);
