//! How close sigmoid `loss_and_grad` runs to the memory floor: ns per element for N from 256
//! to 32 M, for a kernel that only streams the same bytes (the floor), `Kernel::Simd` (as the
//! library dispatches it) and `Kernel::Libm`.
//!
//! Workload: RetinaNet's configuration (γ = 2, α = 0.25, `Reduction::Mean`) with `u8` 0 / 1
//! labels, the common case (about 1 % positives), logits drawn as in `benches/sigmoid.rs`
//! (σ = 3 within ±9, 2 % from ±30). Per element a call reads 4 bytes of logit and 1 of label
//! and writes 4 of gradient: 9 bytes. The floor kernel ([`floor`]) moves exactly those bytes
//! with a subtraction, a multiplication and an addition per element, and returns a sum, as the
//! loss does.
//!
//! N runs over 256, 1024, … (powers of 4) up to 16 M, then 32 M. The buffers are allocated,
//! filled and paged in once, for the largest N; each N uses their first N elements. At each N
//! the three kernels are timed by `testkit::timing::interleaved` in rounds, one sample of each
//! per round, so that a disturbance from the rest of the machine falls on all three alike:
//! after a warm-up, a sample is as many calls as fill ~10 ms (at least one), and there are at
//! least 3 and at most 15 rounds, as many as fit in ~0.3 s. It prints the fastest and the
//! median sample, in ns per element.
//!
//! `cargo run --release --example roofline [-- --max-n N]` prints one whitespace-separated line
//! per kernel and N on stdout (the format is in the `#` lines it prints first) and progress on
//! stderr; `cargo xtask roofline` runs it in a default and a native build and turns the lines
//! into the table and plot of `docs/benchmarks.md`. `FOCAL_LOSS_DISPATCH=baseline|avx2` caps
//! the runtime dispatch level (see `testkit::dispatch_env`).

use std::hint::black_box;

use focal_loss::{Kernel, Reduction, SigmoidFocal};
use testkit::timing::{Budget, interleaved};
use testkit::xorshift::Xorshift64;

/// The element counts: 2^8, 2^10, …, 2^24 (powers of 4), then 2^25 (32 M).
const SIZES: [usize; 10] = [
    1 << 8,
    1 << 10,
    1 << 12,
    1 << 14,
    1 << 16,
    1 << 18,
    1 << 20,
    1 << 22,
    1 << 24,
    1 << 25,
];
/// Fraction of positive labels.
const POSITIVE_RATE: f32 = 0.01;

/// RetinaNet's loss on the crate's default kernel.
const SIMD: SigmoidFocal = SigmoidFocal::RETINANET;
/// The same loss on the libm kernel.
const LIBM: SigmoidFocal = SigmoidFocal::RETINANET.with_kernel(Kernel::Libm);

/// One of the timed kernels.
#[derive(Debug, Clone, Copy)]
enum Which {
    Floor,
    Simd,
    Libm,
}

impl Which {
    const ALL: [Which; 3] = [Which::Floor, Which::Simd, Which::Libm];

    /// The name on the output lines.
    fn name(self) -> &'static str {
        match self {
            Which::Floor => "floor",
            Which::Simd => "simd",
            Which::Libm => "libm",
        }
    }

    /// One call on the first `grad.len()` elements; returns the loss (or the floor's sum).
    fn call(self, logits: &[f32], labels: &[u8], grad: &mut [f32]) -> f32 {
        let (x, t, g) = (black_box(logits), black_box(labels), black_box(grad));
        let loss = match self {
            Which::Floor => floor(x, t, g),
            Which::Simd => SIMD.loss_and_grad(x, t, Reduction::Mean, g).unwrap(),
            Which::Libm => LIBM.loss_and_grad(x, t, Reduction::Mean, g).unwrap(),
        };
        black_box(loss)
    }
}

/// The memory floor: reads each logit and label, writes one `f32` per element and returns a
/// sum, like `loss_and_grad` with `Reduction::Mean`, but with a subtraction, a multiplication
/// and an addition where the loss has its formulas. Sixteen independent partial sums let the
/// compiler vectorise it with whatever the build targets.
#[inline(never)]
fn floor(logits: &[f32], labels: &[u8], grad: &mut [f32]) -> f32 {
    const W: usize = 16;
    let scale = 1.0 / grad.len() as f32;
    let mut partial = [0.0f32; W];
    let chunks = logits.chunks_exact(W).zip(labels.chunks_exact(W));
    for ((x, t), g) in chunks.zip(grad.chunks_exact_mut(W)) {
        for j in 0..W {
            let d = x[j] - f32::from(t[j]);
            g[j] = d * scale;
            partial[j] += d;
        }
    }
    let done = grad.len() / W * W;
    let tail = logits[done..].iter().zip(&labels[done..]);
    for ((x, t), g) in tail.zip(&mut grad[done..]) {
        let d = x - f32::from(*t);
        *g = d * scale;
        partial[0] += d;
    }
    partial.iter().sum::<f32>() * scale
}

/// Logits and labels for `n` elements, as `benches/sigmoid.rs` draws them (with `u8` labels).
fn data(n: usize) -> (Vec<f32>, Vec<u8>) {
    let mut rng = Xorshift64(0x9E37_79B9_7F4A_7C15);
    let mut logits = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let x = if rng.unit() < 0.02 {
            30.0 * rng.signed()
        } else {
            3.0 * (rng.signed() + rng.signed() + rng.signed())
        };
        logits.push(x);
        labels.push(u8::from(rng.unit() < POSITIVE_RATE));
    }
    (logits, labels)
}

/// The x86 vector extensions this build was compiled for (the floor's code; the library may
/// dispatch further at run time).
fn compiled_for() -> String {
    let features = [
        ("sse2", cfg!(target_feature = "sse2")),
        ("avx", cfg!(target_feature = "avx")),
        ("avx2", cfg!(target_feature = "avx2")),
        ("fma", cfg!(target_feature = "fma")),
        ("avx512f", cfg!(target_feature = "avx512f")),
        ("neon", cfg!(target_feature = "neon")),
    ];
    let on: Vec<&str> = features.iter().filter(|f| f.1).map(|f| f.0).collect();
    if on.is_empty() {
        "none".into()
    } else {
        on.join(",")
    }
}

/// The largest N from `--max-n N` (default: the largest of [`SIZES`]).
fn max_n() -> Result<usize, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(SIZES[SIZES.len() - 1]),
        [flag, n] if flag == "--max-n" => n.parse().map_err(|e| format!("--max-n {n}: {e}")),
        _ => Err("usage: roofline [--max-n N]".into()),
    }
}

fn main() {
    let level = testkit::dispatch_env::apply();
    let max_n = max_n().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    let sizes: Vec<usize> = SIZES.into_iter().filter(|&n| n <= max_n).collect();
    let Some(&largest) = sizes.last() else {
        eprintln!("--max-n {max_n}: below the smallest N, {}", SIZES[0]);
        std::process::exit(2);
    };
    let (x, t) = data(largest);
    // Written once here, so that no timed call pays for first-touch page faults.
    let mut g = vec![1.0f32; largest];
    // Both kernels agree before anything is timed.
    let simd = SIMD.loss_and_grad(&x, &t, Reduction::Mean, &mut g).unwrap();
    let libm = LIBM.loss_and_grad(&x, &t, Reduction::Mean, &mut g).unwrap();
    assert!((simd - libm).abs() <= 1e-4 * libm.abs(), "{simd} vs {libm}");

    println!("# focal-loss roofline: sigmoid loss_and_grad, gamma 2, alpha 0.25, Mean, u8 labels");
    println!(
        "compiled-for {}, Kernel::Simd dispatched to {level:?}",
        compiled_for()
    );
    println!("# kernel N min_ns_per_element median_ns_per_element samples calls_per_sample");
    for n in sizes {
        let (x, t, g) = (&x[..n], &t[..n], &mut g[..n]);
        let timings: [_; 3] = interleaved(n, &Budget::DEFAULT, |k| {
            Which::ALL[k].call(x, t, g);
        });
        let mut progress = format!("N = {n:>8}:");
        for (which, timing) in Which::ALL.iter().zip(&timings) {
            let (name, min, median) = (which.name(), timing.min(), timing.median());
            let (samples, calls) = (timing.ns_per_element.len(), timing.calls_per_sample);
            println!("{name} {n} {min:.4} {median:.4} {samples} {calls}");
            progress += &format!(" {name} {min:.3}");
        }
        eprintln!("{progress} ns/element (fastest sample)");
    }
}
