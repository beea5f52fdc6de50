//! Throughput of the softmax focal loss with its gradient (`loss_and_grad`), per logit, for
//! C ∈ {2, 10, 80, 1000} classes in both layouts.
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
/// Gradient: `dL/dz_j = [γ(1−p_t)^(γ−1)·p_t·ce − (1−p_t)^γ]·(δ_jt − p_j) / count`
/// (through `ce = −log p_t` and `p_t`), with `powf`.
#[inline(never)]
fn naive_loss_and_grad(
    logits: &[f32],
    targets: &[u16],
    classes: usize,
    gamma: f32,
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
        let focal_weight = (1.0 - pt).powf(gamma);
        sum += focal_weight * ce;
        let d = (gamma * (1.0 - pt).powf(gamma - 1.0) * pt * ce - focal_weight) / count;
        for (j, gj) in g.iter_mut().enumerate() {
            let delta = if j == t { 1.0 } else { 0.0 };
            *gj = d * (delta - *gj);
        }
    }
    sum / count
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
            group.bench_with_input(BenchmarkId::new("naive", classes), &classes, |b, _| {
                b.iter(|| {
                    naive_loss_and_grad(
                        black_box(logits),
                        black_box(&data.targets),
                        classes,
                        black_box(GAMMA),
                        &mut grad,
                    )
                })
            });
        }
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    testkit::dispatch_env::apply();
    bench_layout(c, "row_major", false);
    bench_layout(c, "channels_first", true);
}

criterion_group!(softmax, benches);
criterion_main!(softmax);
