//! The variants against the exact values of `tests/data/variant_reference.csv`
//! (`tools/gen_variant_reference.py`: each peer's formula in mpmath at 50 digits), through
//! both kernels by the rule the firmware applies to the same rows, and the `f64` references
//! against the same values.

use focal_loss::Kernel;
use testkit::variants::accuracy::reference;
use testkit::vector_files::variant_vectors;
use testkit::vectors::{Miss, Quantity, VariantConfig, VariantVector, Worst, check_variant};

#[test]
fn kernels_match_the_exact_vectors() {
    let vectors = variant_vectors();
    for name in [
        "focal_star",
        "quality",
        "varifocal",
        "asymmetric",
        "poly1",
        "reduced",
        "normalized",
    ] {
        assert!(vectors.iter().filter(|v| v.config.name() == name).count() > 300);
    }
    for kernel in [Kernel::Simd, Kernel::Libm] {
        let mut worst = Worst::default();
        for v in &vectors {
            if let Err(miss) = check_variant(v, kernel, &mut worst) {
                panic!("{kernel:?} on {v:?}: {miss:?}");
            }
        }
        println!(
            "{kernel:?}: worst loss {:.2} ULP, grad {:.2} ULP",
            worst.loss, worst.grad
        );
    }
}

#[test]
fn f64_references_agree_with_the_exact_vectors() {
    for v in variant_vectors() {
        let want = reference(&v.config, v.logit, v.target);
        for (got, exact, scale, what) in [
            (want.loss, v.loss, v.loss_scale, "loss"),
            (want.grad, v.grad, v.grad_scale, "grad"),
        ] {
            let ok = got == exact || (got - exact).abs() <= 1e-9 * scale.max(1e-300);
            assert!(ok, "{what} of {v:?}: f64 {got} vs exact {exact}");
        }
        let scales_agree = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-6 * b.abs();
        assert!(
            scales_agree(want.loss_scale, v.loss_scale),
            "{v:?}: {want:?}"
        );
        assert!(
            scales_agree(want.grad_scale, v.grad_scale),
            "{v:?}: {want:?}"
        );
    }
}

/// The shared check fails a result outside the bound, so the firmware's can fail too.
#[test]
fn vector_check_rejects_results_outside_the_bound() {
    let config = VariantConfig::FocalStar {
        gamma: 2.0,
        beta: 1.0,
        alpha: Some(0.25),
    };
    let want = reference(&config, 1.0, 0.3);
    let good = VariantVector {
        config,
        logit: 1.0,
        target: 0.3,
        loss: want.loss,
        grad: want.grad,
        loss_scale: want.loss_scale,
        grad_scale: want.grad_scale,
    };
    let mut worst = Worst::default();
    assert_eq!(check_variant(&good, Kernel::Simd, &mut worst), Ok(()));
    let bad = VariantVector {
        loss: want.loss * (1.0 + 1e-5),
        ..good
    };
    assert!(matches!(
        check_variant(&bad, Kernel::Libm, &mut worst),
        Err(Miss::Value {
            quantity: Quantity::Loss,
            ..
        })
    ));
    let bad = VariantVector {
        grad: want.grad * (1.0 + 1e-5),
        ..good
    };
    assert!(matches!(
        check_variant(&bad, Kernel::Simd, &mut worst),
        Err(Miss::Value {
            quantity: Quantity::Grad(0),
            ..
        })
    ));
    let bad = VariantVector {
        config: VariantConfig::Quality { beta: -1.0 },
        ..good
    };
    assert!(matches!(
        check_variant(&bad, Kernel::Simd, &mut worst),
        Err(Miss::Rejected(_))
    ));
}
