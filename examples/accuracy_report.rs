//! Prints the accuracy tables of `docs/accuracy.md`: worst error in ULP of each kernel against the
//! `f64` references. Sigmoid: per γ, over logits in [−100, 100] plus ±∞,
//! α ∈ {None, 0.25, 0.75}. Softmax: per C and γ, over the rows of
//! `testkit/src/softmax/accuracy.rs`, with and without per-class α. The variants (the table
//! of `docs/variants.md`): per configuration of `testkit/src/variants/accuracy.rs`, over the
//! sigmoid form's logits and each configuration's targets.
//!
//! Run with `cargo run --release --example accuracy_report`.

use focal_loss::Kernel;
use testkit::sigmoid::accuracy::{GAMMAS, HARD_TARGETS, SOFT_TARGETS, measure_over_alphas};
use testkit::softmax::accuracy as softmax_accuracy;
use testkit::variants::accuracy as variant_accuracy;

fn main() {
    println!(
        "| γ | kernel | hard: loss | hard: grad | soft: loss | soft: grad* | wrong non-normal |"
    );
    println!("|---|---|---|---|---|---|---|");
    for gamma in GAMMAS {
        for kernel in [Kernel::Simd, Kernel::Libm] {
            let hard = measure_over_alphas(kernel, gamma, &HARD_TARGETS);
            let soft = measure_over_alphas(kernel, gamma, &SOFT_TARGETS);
            println!(
                "| {gamma} | {kernel:?} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
                hard.loss_ulp,
                hard.grad_ulp,
                soft.loss_ulp,
                soft.grad_ulp,
                hard.non_normal_misses + soft.non_normal_misses
            );
        }
    }
    println!();
    println!("| C | γ | kernel | loss | grad | wrong non-normal |");
    println!("|---|---|---|---|---|---|");
    for c in softmax_accuracy::CLASSES {
        for gamma in softmax_accuracy::GAMMAS {
            for kernel in [Kernel::Simd, Kernel::Libm] {
                let mut w = softmax_accuracy::measure(kernel, c, gamma, false);
                let a = softmax_accuracy::measure(kernel, c, gamma, true);
                w.loss_ulp = w.loss_ulp.max(a.loss_ulp);
                w.grad_ulp = w.grad_ulp.max(a.grad_ulp);
                w.non_normal_misses += a.non_normal_misses;
                println!(
                    "| {c} | {gamma} | {kernel:?} | {:.2} | {:.2} | {} |",
                    w.loss_ulp, w.grad_ulp, w.non_normal_misses
                );
            }
        }
    }
    println!();
    println!("| variant | kernel | loss | grad | wrong non-normal |");
    println!("|---|---|---|---|---|");
    for (config, targets) in variant_accuracy::grid() {
        for kernel in [Kernel::Simd, Kernel::Libm] {
            let w = variant_accuracy::measure_targets(kernel, &config, targets);
            println!(
                "| {config:?} | {kernel:?} | {:.2} | {:.2} | {} |",
                w.loss_ulp, w.grad_ulp, w.non_normal_misses
            );
        }
    }
}
