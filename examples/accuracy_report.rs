//! Prints the accuracy table of the README: worst error in ULP of each kernel against the
//! `f64` reference, per γ, over logits in [−100, 100] plus ±∞, α ∈ {None, 0.25, 0.75}.
//!
//! Run with `cargo run --release --example accuracy_report`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::accuracy::{GAMMAS, HARD_TARGETS, SOFT_TARGETS, measure_over_alphas};
use focal_loss::Kernel;

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
}
