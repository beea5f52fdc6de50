//! Both kernels of every variant against the independent `f64` references
//! (`testkit/src/variants/reference.rs`) over logits in [−100, 100] and ±∞, on the
//! configurations of `testkit::variants::accuracy::grid`.
//!
//! Integer exponents: within 16 ULP (of the magnitude each value's error is relative to:
//! `|value|`, plus, for a difference that can vanish, its sensitivity to the difference's
//! terms) wherever that magnitude is a normal `f32`, and the exact limit elsewhere. Fractional
//! exponents: pinned at their measured worst (`cargo run --release --example
//! accuracy_report`), so that a regression fails.

use focal_loss::Kernel;
use testkit::variants::accuracy::{grid, measure_targets};
use testkit::vectors::{VARIANT_FRACTIONAL_BOUND, VariantConfig, variant_bound};

fn check(select: impl Fn(&VariantConfig) -> bool) {
    let mut seen = 0;
    for (config, targets) in grid().into_iter().filter(|(c, _)| select(c)) {
        seen += 1;
        let bound = variant_bound(&config);
        for kernel in [Kernel::Simd, Kernel::Libm] {
            let w = measure_targets(kernel, &config, targets);
            assert!(
                w.loss_ulp <= bound && w.grad_ulp <= bound,
                "{kernel:?} {config:?}: loss {:.2} ULP, grad {:.2} ULP > {bound}",
                w.loss_ulp,
                w.grad_ulp
            );
            assert_eq!(
                w.non_normal_misses, 0,
                "{kernel:?} {config:?}: wrong limits"
            );
        }
    }
    assert!(seen > 0);
}

#[test]
fn focal_star_within_bound() {
    check(|c| matches!(c, VariantConfig::FocalStar { .. }));
}

#[test]
fn quality_focal_within_bound() {
    check(|c| matches!(c, VariantConfig::Quality { .. }));
}

#[test]
fn varifocal_within_bound() {
    check(|c| matches!(c, VariantConfig::Varifocal { .. }));
}

#[test]
fn asymmetric_within_bound() {
    check(|c| matches!(c, VariantConfig::Asymmetric { .. }));
}

/// The fractional exponents' pin is the integer bound: the measured worst over the grid is
/// 4.09 ULP (QFL β = 0.5's and ASL γ+ = 0.5's gradients, Libm).
#[test]
fn fractional_pin_is_the_promise() {
    assert_eq!(VARIANT_FRACTIONAL_BOUND, 16.0);
}

#[test]
fn poly1_within_bound() {
    check(|c| matches!(c, VariantConfig::Poly1 { .. }));
}

#[test]
fn reduced_within_bound() {
    check(|c| matches!(c, VariantConfig::Reduced { .. }));
}

#[test]
fn normalized_within_bound() {
    check(|c| matches!(c, VariantConfig::Normalized { .. }));
}
