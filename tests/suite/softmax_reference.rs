//! The softmax focal loss against outside references: exact values (mpmath, checked against
//! PyTorch float64 autograd where PyTorch is accurate) from the committed vectors, and central
//! finite differences of the `f64` reference.

use focal_loss::Kernel;
use testkit::softmax::{finite_difference, reference};
use testkit::ulp::ulp_at;
use testkit::vector_files::{self, SoftmaxCase};
use testkit::vectors::{Miss, Quantity, SoftmaxVector, Worst, check_softmax, softmax_bound};

/// Every sample of `tests/data/softmax_reference.csv`.
fn cases() -> Vec<SoftmaxCase> {
    vector_files::softmax_cases()
}

#[test]
fn f64_reference_agrees_with_committed_vectors() {
    for case in cases() {
        let (loss, grad) = match case.target {
            Some(c) => {
                let a = case.alpha.as_ref().map_or(1.0, |a| a[c]);
                reference::hard(&case.logits, c, case.gamma, a)
            }
            None => reference::soft(&case.logits, &case.soft, case.gamma, case.alpha.as_deref()),
        };
        assert!(
            (loss - case.loss).abs() <= 1e-12 * case.loss.abs(),
            "{loss} vs {}",
            case.loss
        );
        let scale: f64 = case.grad.iter().map(|g| g.abs()).sum();
        for (g, want) in grad.iter().zip(&case.grad) {
            assert!((g - want).abs() <= 1e-12 * scale, "{g} vs {want}");
        }
    }
}

/// Both kernels on every sample, within the bound, by the rule the on-device firmware
/// applies to the same samples.
#[test]
fn kernels_match_committed_vectors() {
    let cases = cases();
    let mut scratch = vec![0.0f32; 1000];
    for kernel in [Kernel::Simd, Kernel::Libm] {
        for case in &cases {
            let v = case.vector();
            let mut worst = Worst::default();
            if let Err(miss) = check_softmax(&v, kernel, &mut scratch, &mut worst) {
                panic!("{kernel:?} on {v:?}: {miss:?}");
            }
            let b = softmax_bound(case.gamma);
            assert!(worst.loss <= b && worst.grad <= b);
        }
    }
}

/// The shared check fails a gradient one bound past the reference.
#[test]
fn vector_check_rejects_results_outside_the_bound() {
    let case = &cases()[40];
    let mut grad = case.grad.clone();
    let mut scratch = vec![0.0f32; grad.len()];
    let mut worst = Worst::default();
    let v = case.vector();
    assert_eq!(
        check_softmax(&v, Kernel::Simd, &mut scratch, &mut worst),
        Ok(())
    );
    let last = grad.len() - 1;
    grad[last] += 40.0 * ulp_at(grad[last].abs());
    let bad = SoftmaxVector { grad: &grad, ..v };
    assert!(matches!(
        check_softmax(&bad, Kernel::Libm, &mut scratch, &mut worst),
        Err(Miss::Value { quantity: Quantity::Grad(j), .. }) if j == last
    ));
    let bad = SoftmaxVector {
        loss: case.loss * (1.0 + 1e-5),
        ..v
    };
    assert!(matches!(
        check_softmax(&bad, Kernel::Simd, &mut scratch, &mut worst),
        Err(Miss::Value {
            quantity: Quantity::Loss,
            ..
        })
    ));
}

#[test]
fn f64_reference_gradient_matches_finite_differences() {
    for g in [0.0f32, 0.5, 1.0, 2.0, 2.5, 3.0] {
        for row in finite_difference::ROWS {
            let c = row.len();
            let y: Vec<f32> = (0..c)
                .map(|j| if j == 0 { 0.7 } else { 0.3 / (c - 1) as f32 })
                .collect();
            for target in [None, Some(0), Some(c - 1)] {
                let eval = |z: &[f32]| match target {
                    Some(t) => reference::hard(z, t, g, 0.5),
                    None => reference::soft(z, &y, g, None),
                };
                let (_, grad) = eval(row);
                for (k, &grad_k) in grad.iter().enumerate() {
                    let fd = finite_difference::central(|z| eval(z).0, row, k);
                    assert!(
                        finite_difference::agrees(grad_k, fd, grad_k.abs()),
                        "γ={g} row {row:?} target {target:?} class {k}: {} vs fd {fd}",
                        grad_k
                    );
                }
            }
        }
    }
}
