//! The sigmoid focal loss against outside references: torchvision's `sigmoid_focal_loss`
//! (float64, autograd; exact mpmath values at large |x|) from the committed vectors, central
//! finite differences, the textbook's table, and binary cross-entropy.

use focal_loss::{Kernel, Reduction, SigmoidFocal};
use testkit::sigmoid::reference::{
    sigmoid, sigmoid_focal, sigmoid_focal64, soft_grad_scale64, softplus,
};
use testkit::ulp::{ulp_at, ulp_error};
use testkit::vector_files::{self, SigmoidRow};
use testkit::vectors::{Miss, Quantity, SIGMOID_BOUND, SigmoidVector, Worst, check_sigmoid};

/// Every row of `tests/data/sigmoid_reference.csv`.
fn peer_rows() -> Vec<SigmoidRow> {
    vector_files::sigmoid_rows()
}

/// Relative distance, with equal infinities and exact zeros matching.
fn rel(got: f64, want: f64, scale: f64) -> f64 {
    if got == want {
        return 0.0;
    }
    (got - want).abs() / scale.max(f64::MIN_POSITIVE)
}

#[test]
fn f64_reference_agrees_with_torchvision_vectors() {
    for r in peer_rows() {
        let (loss, grad) = sigmoid_focal64(r.logit, r.target, r.gamma, r.alpha);
        let soft = r.target != 0.0 && r.target != 1.0;
        let grad_scale = if soft && r.logit.is_finite() {
            soft_grad_scale64(r.logit, r.target, r.gamma, r.alpha)
        } else {
            r.grad.abs()
        };
        // torchvision's own float64 error reaches ~2e-11 at |x| = 10 (see the CSV header).
        let tol = 1e-10;
        assert!(
            rel(loss, r.loss, r.loss.abs()) <= tol,
            "loss at x={} t={} γ={} α={:?}: {loss} vs {}",
            r.logit,
            r.target,
            r.gamma,
            r.alpha,
            r.loss
        );
        assert!(
            rel(grad, r.grad, grad_scale) <= tol,
            "grad at x={} t={} γ={} α={:?}: {grad} vs {}",
            r.logit,
            r.target,
            r.gamma,
            r.alpha,
            r.grad
        );
    }
}

/// The crate's `f32` results on the peer rows whose inputs are exact in `f32`, within the
/// accuracy bound (16 ULP), by the rule the on-device firmware applies to the same rows.
#[test]
fn kernels_match_torchvision_vectors() {
    let vectors: Vec<SigmoidVector> = peer_rows()
        .into_iter()
        .filter(SigmoidRow::exact_in_f32)
        .map(|r| r.vector())
        .collect();
    assert!(vectors.len() > 3000);
    for kernel in [Kernel::Simd, Kernel::Libm] {
        let mut worst = Worst::default();
        for v in &vectors {
            if let Err(miss) = check_sigmoid(v, kernel, &mut worst) {
                panic!("{kernel:?} on {v:?}: {miss:?}");
            }
        }
        assert!(worst.loss <= SIGMOID_BOUND && worst.grad <= SIGMOID_BOUND);
    }
}

/// The shared check fails a result one bound past the reference, so the firmware's checks
/// can fail too.
#[test]
fn vector_check_rejects_results_outside_the_bound() {
    let v = SigmoidVector {
        gamma: 2.0,
        alpha: Some(0.25),
        logit: 1.0,
        target: 1.0,
        loss: 0.0,
        grad: 0.0,
        grad_scale: 0.0,
    };
    let (want_loss, want_grad) = sigmoid_focal(v.logit, v.target, v.gamma, v.alpha);
    let good = SigmoidVector {
        loss: want_loss,
        grad: want_grad,
        grad_scale: want_grad.abs(),
        ..v
    };
    let mut worst = Worst::default();
    assert_eq!(check_sigmoid(&good, Kernel::Simd, &mut worst), Ok(()));
    let off = 40.0 * ulp_at(want_loss);
    let bad = SigmoidVector {
        loss: want_loss + off,
        ..good
    };
    assert!(matches!(
        check_sigmoid(&bad, Kernel::Libm, &mut worst),
        Err(Miss::Value {
            quantity: Quantity::Loss,
            ..
        })
    ));
    let bad = SigmoidVector {
        grad: want_grad * (1.0 + 1e-5),
        ..good
    };
    assert!(matches!(
        check_sigmoid(&bad, Kernel::Simd, &mut worst),
        Err(Miss::Value {
            quantity: Quantity::Grad(0),
            ..
        })
    ));
    let inf = SigmoidVector {
        loss: f64::INFINITY,
        ..good
    };
    assert!(matches!(
        check_sigmoid(&inf, Kernel::Simd, &mut worst),
        Err(Miss::Value { ulps, .. }) if ulps == f64::INFINITY
    ));
}

#[test]
fn f64_reference_gradient_matches_finite_differences() {
    let gammas = [0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0];
    let targets = [0.0, 1.0, 0.1, 0.5, 0.9];
    for g in gammas {
        for alpha in [None, Some(0.25)] {
            for t in targets {
                for i in -60..=60 {
                    let x = f64::from(i) * 0.25 + 0.0625;
                    let h = 1e-6 * (1.0 + x.abs());
                    let lp = sigmoid_focal64(x + h, t, g, alpha).0;
                    let lm = sigmoid_focal64(x - h, t, g, alpha).0;
                    let fd = (lp - lm) / (2.0 * h);
                    let (_, grad) = sigmoid_focal64(x, t, g, alpha);
                    let scale = grad
                        .abs()
                        .max(1e-3 * sigmoid_focal64(x, t, g, alpha).0)
                        .max(1e-12);
                    assert!(
                        (fd - grad).abs() <= 1e-6 * scale.max(fd.abs()) + 1e-9,
                        "x={x} t={t} γ={g} α={alpha:?}: analytic {grad} vs fd {fd}"
                    );
                }
            }
        }
    }
}

/// The crate's gradient against central differences of the crate's own `f64`-summed loss is
/// too noisy in `f32`; instead check it against central differences of the `f64` reference,
/// which the test above ties to the reference's loss.
#[test]
fn kernel_gradient_matches_finite_differences_of_reference_loss() {
    for kernel in [Kernel::Simd, Kernel::Libm] {
        for g in [0.0f32, 0.5, 2.0, 3.0] {
            let fl = SigmoidFocal::new(g, Some(0.25))
                .unwrap()
                .with_kernel(kernel);
            for t in [0.0f32, 1.0, 0.3] {
                for i in -40..=40 {
                    let x = i as f32 * 0.3 + 0.05;
                    let mut grad = [0.0f32];
                    fl.loss_and_grad(&[x], &[t], Reduction::Sum, &mut grad)
                        .unwrap();
                    let xd = f64::from(x);
                    let h = 1e-5;
                    let (td, gd, ad) = (f64::from(t), f64::from(g), Some(0.25));
                    let fd = (sigmoid_focal64(xd + h, td, gd, ad).0
                        - sigmoid_focal64(xd - h, td, gd, ad).0)
                        / (2.0 * h);
                    assert!(
                        (f64::from(grad[0]) - fd).abs() <= 1e-5 * fd.abs().max(1e-3),
                        "{kernel:?} x={x} t={t} γ={g}: {} vs fd {fd}",
                        grad[0]
                    );
                }
            }
        }
    }
}

/// The textbook's table at γ = 2 (its 1.867 is a rounding slip: 0.81 × 2.302585 = 1.8651).
#[test]
fn textbook_table() {
    let ce = SigmoidFocal::new(0.0, None).unwrap();
    let fl = SigmoidFocal::new(2.0, None).unwrap();
    for (p_t, want_ce, want_fl) in [
        (0.9f64, 0.105, 0.00105),
        (0.5, 0.693, 0.173),
        (0.1, 2.303, 1.865),
    ] {
        let x = [(p_t / (1.0 - p_t)).ln() as f32];
        for kernel in [Kernel::Simd, Kernel::Libm] {
            let c = ce
                .with_kernel(kernel)
                .loss(&x, &[1u8], Reduction::Sum)
                .unwrap();
            let f = fl
                .with_kernel(kernel)
                .loss(&x, &[1u8], Reduction::Sum)
                .unwrap();
            assert!((f64::from(c) - want_ce).abs() < 5e-4, "CE at {p_t}: {c}");
            let digits = if p_t == 0.9 { 5e-6 } else { 5e-4 };
            assert!((f64::from(f) - want_fl).abs() < digits, "FL at {p_t}: {f}");
        }
    }
    // The same points exactly, from the reference: FL = (1 − p_t)² · CE.
    let (l, _) = sigmoid_focal(0.0, 1.0, 2.0, None);
    assert!((l - 0.25 * 2f64.ln()).abs() < 1e-15);
}

/// γ = 0 without α is exactly binary cross-entropy with logits (PyTorch's formula, in f64).
#[test]
fn gamma_zero_is_bce_with_logits() {
    let fl = SigmoidFocal::new(0.0, None).unwrap();
    let xs: Vec<f32> = (-400..=400).map(|i| i as f32 * 0.25).collect();
    for kernel in [Kernel::Simd, Kernel::Libm] {
        for t in [0.0f32, 1.0, 0.2, 0.5] {
            let ts = vec![t; xs.len()];
            let mut out = vec![0.0; xs.len()];
            let mut grad = vec![0.0; xs.len()];
            fl.with_kernel(kernel)
                .loss_per_element(&xs, &ts, &mut out)
                .unwrap();
            fl.with_kernel(kernel)
                .loss_and_grad(&xs, &ts, Reduction::Sum, &mut grad)
                .unwrap();
            for i in 0..xs.len() {
                let (x, td) = (f64::from(xs[i]), f64::from(t));
                // BCE = t·softplus(−x) + (1−t)·softplus(x);
                // dBCE/dx = σ(x) − t = (1−t)·σ(x) − t·σ(−x), the latter exact in both tails.
                let bce = td * softplus(-x) + (1.0 - td) * softplus(x);
                let dbce = (1.0 - td) * sigmoid(x) - td * sigmoid(-x);
                if let Some(e) = ulp_error(out[i], bce) {
                    assert!(e <= 16.0, "{kernel:?} BCE x={x} t={t}: {} vs {bce}", out[i]);
                }
                let scale = dbce.abs().max(if t == 0.0 || t == 1.0 { 0.0 } else { 1.0 });
                if scale >= 1.2e-38 {
                    let e = (f64::from(grad[i]) - dbce).abs() / ulp_at(scale);
                    assert!(
                        e <= 16.0,
                        "{kernel:?} dBCE x={x} t={t}: {} vs {dbce}",
                        grad[i]
                    );
                }
            }
        }
    }
}
