//! The crate's side of `tools/compare_torch.py`: times the losses on the data the script
//! writes, so that both sides see the same bytes.
//!
//! `cargo run --release --example compare_torch -- DIR [--write-grad]` reads, from DIR, raw
//! little-endian files:
//!
//! - `sigmoid_logits.f32` and `sigmoid_targets.f32`: N logits and N targets 0.0 / 1.0;
//! - `softmax_c{C}_logits.f32` and `softmax_c{C}_targets.i64`: rows × C row-major logits and
//!   one class index per row, for each C whose files are there.
//!
//! The losses are configured as the script's PyTorch functions: sigmoid as torchvision's
//! `sigmoid_focal_loss` (γ 2, α 0.25, `reduction='mean'`: `Reduction::Mean`); softmax as
//! kornia's `focal_loss` with `alpha=0.25` (class 0 weighted by 1 − α, the others by α, per-class
//! α here) and `reduction='mean'`, which divides by every element of its (N, C) map:
//! `Reduction::MeanOver(rows × C)`.
//!
//! For each case it times `loss` (forward) and `loss_and_grad` (forward and backward) with
//! `testkit::timing::interleaved` and prints one line per case and pass,
//! `case=NAME classes=C elements=E pass=forward|backward ns_per_element=X loss=L` (softmax:
//! per logit; X is the fastest sample). With `--write-grad` it also writes each case's gradient
//! to `DIR/NAME_grad.f32`, for the script to compare with autograd's.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use focal_loss::{FocalError, Reduction, SigmoidFocal, SoftmaxFocal};
use testkit::timing::{Budget, interleaved};

/// The focusing parameter of both losses.
const GAMMA: f32 = 2.0;
/// torchvision's α, and kornia's α of the classes other than 0.
const ALPHA: f32 = 0.25;
/// Samples of ~10 ms, for ~1 s per case.
const BUDGET: Budget = Budget {
    sample: std::time::Duration::from_millis(10),
    point: std::time::Duration::from_secs(1),
    rounds: (5, 50),
};

/// A file's bytes as little-endian values of `N` bytes each.
fn read_le<const N: usize, T>(path: &Path, from: fn([u8; N]) -> T) -> Vec<T> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.len().is_multiple_of(N),
        "{}: not whole values",
        path.display()
    );
    let values = bytes.chunks_exact(N);
    values.map(|b| from(b.try_into().unwrap())).collect()
}

/// One case: a name, its class count (1 for sigmoid), its logits and its two passes.
struct Case<F, B>
where
    F: Fn(&[f32]) -> Result<f32, FocalError>,
    B: Fn(&[f32], &mut [f32]) -> Result<f32, FocalError>,
{
    name: String,
    classes: usize,
    logits: Vec<f32>,
    /// `loss` on the logits.
    forward: F,
    /// `loss_and_grad` on the logits, into the gradient buffer.
    backward: B,
}

impl<F, B> Case<F, B>
where
    F: Fn(&[f32]) -> Result<f32, FocalError>,
    B: Fn(&[f32], &mut [f32]) -> Result<f32, FocalError>,
{
    /// Times both passes, prints their lines and, if asked, writes the gradient.
    fn run(&self, write_grad: Option<&Path>) -> Result<(), FocalError> {
        let x = &self.logits;
        let mut grad = vec![0.0f32; x.len()];
        let loss = (self.forward)(x)?;
        (self.backward)(x, &mut grad)?;
        let timings: [_; 2] = interleaved(x.len(), &BUDGET, |k| {
            let result = if k == 0 {
                (self.forward)(black_box(x))
            } else {
                (self.backward)(black_box(x), black_box(&mut grad))
            };
            black_box(result.unwrap());
        });
        for (pass, timing) in ["forward", "backward"].iter().zip(&timings) {
            println!(
                "case={} classes={} elements={} pass={pass} ns_per_element={:.4} loss={loss:e}",
                self.name,
                self.classes,
                x.len(),
                timing.min()
            );
        }
        if let Some(dir) = write_grad {
            let path = dir.join(format!("{}_grad.f32", self.name));
            let bytes: Vec<u8> = grad.iter().flat_map(|g| g.to_le_bytes()).collect();
            std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        Ok(())
    }
}

/// The C of every `softmax_c{C}_logits.f32` in `dir`, ascending.
fn softmax_classes(dir: &Path) -> Vec<usize> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut classes: Vec<usize> = entries
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let c = name
                .strip_prefix("softmax_c")?
                .strip_suffix("_logits.f32")?;
            c.parse().ok()
        })
        .collect();
    classes.sort_unstable();
    classes
}

fn main() -> Result<(), FocalError> {
    testkit::dispatch_env::apply();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, write_grad) = match args.as_slice() {
        [dir] => (PathBuf::from(dir), false),
        [dir, flag] if flag == "--write-grad" => (PathBuf::from(dir), true),
        _ => {
            eprintln!("usage: compare_torch DIR [--write-grad]");
            std::process::exit(2);
        }
    };
    let grad_dir = write_grad.then_some(dir.as_path());

    let sigmoid = SigmoidFocal::new(GAMMA, Some(ALPHA))?;
    let logits = dir.join("sigmoid_logits.f32");
    if logits.is_file() {
        let targets = read_le(&dir.join("sigmoid_targets.f32"), f32::from_le_bytes);
        let targets = &targets;
        Case {
            name: "sigmoid".into(),
            classes: 1,
            logits: read_le(&logits, f32::from_le_bytes),
            forward: |x| sigmoid.loss(x, targets, Reduction::Mean),
            backward: |x, g| sigmoid.loss_and_grad(x, targets, Reduction::Mean, g),
        }
        .run(grad_dir)?;
    }

    for c in softmax_classes(&dir) {
        let name = format!("softmax_c{c}");
        let logits = dir.join(format!("{name}_logits.f32"));
        let targets = read_le(&dir.join(format!("{name}_targets.i64")), i64::from_le_bytes);
        let logits = read_le(&logits, f32::from_le_bytes);
        assert_eq!(logits.len(), targets.len() * c, "{name}: rows × C logits");
        // kornia: 1 − α for class 0, α for the others; 'mean' over every element of (N, C).
        let alpha: Vec<f32> = (0..c)
            .map(|k| if k == 0 { 1.0 - ALPHA } else { ALPHA })
            .collect();
        let softmax = SoftmaxFocal::new(c, GAMMA)?.with_alpha(&alpha)?;
        let mean = Reduction::MeanOver(logits.len() as f32);
        let targets = &targets;
        Case {
            name,
            classes: c,
            logits,
            forward: |x| softmax.loss(x, targets, mean),
            backward: |x, g| softmax.loss_and_grad(x, targets, mean, g),
        }
        .run(grad_dir)?;
    }
    Ok(())
}
