//! The reduced focal loss on the softmax form (`SoftmaxFocal::with_reduced_threshold`,
//! Sergievskiy & Ponamarev 2019): the factor is 1 where `p_c < th` and `((1 − p_c)/th)^γ`
//! elsewhere, per class for soft targets. Its errors, the identity `th = 1` (the
//! cross-entropy bit for bit), the `f64` reference against finite differences, both kernels
//! against that reference (within 16 ULP for integer γ), and saturated logits, where a branch
//! decided on a rounded `p_c` would flip.

use focal_loss::{FocalError, Kernel, Layout, Reduction, SoftmaxFocal};
use testkit::softmax::accuracy::{alpha, rows};
use testkit::softmax::{finite_difference, reference};
use testkit::ulp::check;

const KERNELS: [Kernel; 2] = [Kernel::Simd, Kernel::Libm];

/// Soft targets for `n` rows of `c` classes in `layout` (one image for channels-first): 3/4
/// on class `r mod c` of row `r`, 1/4 on the next, each row summing to 1 exactly.
fn soft_targets(c: usize, n: usize, layout: Layout) -> Vec<f32> {
    let mut y = vec![0.0f32; c * n];
    for r in 0..n {
        for (j, share) in [(r % c, 0.75), ((r + 1) % c, 0.25)] {
            let at = match layout {
                Layout::RowMajor => r * c + j,
                _ => j * n + r,
            };
            y[at] = share;
        }
    }
    y
}

#[test]
fn rejects_thresholds_outside_zero_to_one_and_poly1() {
    let fl = SoftmaxFocal::new(3, 2.0).unwrap();
    for th in [0.0f32, -0.0, -0.5, 1.0000001, 2.0, f32::NAN, f32::INFINITY] {
        let err = fl.with_reduced_threshold(th).unwrap_err();
        assert!(
            matches!(err, FocalError::InvalidReducedThreshold { threshold } if threshold.to_bits() == th.to_bits()),
            "{th}: {err:?}"
        );
    }
    for th in [f32::MIN_POSITIVE, 0.25, 0.5, 1.0] {
        assert_eq!(
            fl.with_reduced_threshold(th).unwrap().reduced_threshold(),
            Some(th)
        );
    }
    let poly = fl.with_poly1(0.0).unwrap();
    assert_eq!(
        poly.with_reduced_threshold(0.5),
        Err(FocalError::PolyWithReducedThreshold)
    );
    let reduced = fl.with_reduced_threshold(0.5).unwrap();
    assert_eq!(
        reduced.with_poly1(1.0),
        Err(FocalError::PolyWithReducedThreshold)
    );
    assert_eq!(reduced.epsilon(), None);
}

/// `th = 1` is the cross-entropy (γ = 0) bit for bit, whatever γ: per-element losses,
/// gradient, both kernels, every traversal (C = 2, 10, 80; channels-first), with α and an
/// ignore index, hard and soft targets.
#[test]
fn threshold_one_is_the_cross_entropy_bit_for_bit() {
    for kernel in KERNELS {
        for c in [2usize, 10, 80] {
            let (x, t) = rows(c);
            let n = t.len();
            let mut t: Vec<i64> = t.iter().map(|&v| i64::from(v)).collect();
            t[3] = -100;
            let a = alpha(c);
            for layout in [Layout::RowMajor, Layout::ChannelsFirst { spatial: n }] {
                let soft = soft_targets(c, n, layout);
                let ce = SoftmaxFocal::new(c, 0.0)
                    .unwrap()
                    .with_kernel(kernel)
                    .with_layout(layout)
                    .unwrap()
                    .with_alpha(&a)
                    .unwrap()
                    .with_ignore_index(-100);
                for g in [0.5f32, 2.0, 3.0] {
                    let reduced = ce
                        .with_gamma(g)
                        .unwrap()
                        .with_reduced_threshold(1.0)
                        .unwrap();
                    let (mut a, mut b) = (vec![0.0f32; n], vec![0.0f32; n]);
                    ce.loss_per_element(&x, &t, &mut a).unwrap();
                    reduced.loss_per_element(&x, &t, &mut b).unwrap();
                    assert!(a.iter().zip(&b).all(|(a, b)| a.to_bits() == b.to_bits()));
                    let (mut ga, mut gb) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
                    let la = ce.loss_and_grad(&x, &t, Reduction::Mean, &mut ga).unwrap();
                    let lb = reduced
                        .loss_and_grad(&x, &t, Reduction::Mean, &mut gb)
                        .unwrap();
                    assert_eq!(la.to_bits(), lb.to_bits(), "{kernel:?} C={c} γ={g}");
                    assert!(ga.iter().zip(&gb).all(|(a, b)| a.to_bits() == b.to_bits()));
                    let la = ce
                        .loss_and_grad(&x, &soft, Reduction::Sum, &mut ga)
                        .unwrap();
                    let lb = reduced
                        .loss_and_grad(&x, &soft, Reduction::Sum, &mut gb)
                        .unwrap();
                    assert_eq!(la.to_bits(), lb.to_bits(), "soft {kernel:?} C={c} γ={g}");
                    assert!(ga.iter().zip(&gb).all(|(a, b)| a.to_bits() == b.to_bits()));
                }
            }
        }
    }
}

/// Central differences of the `f64` reference's loss match its gradient, hard and soft
/// targets, on both sides of the threshold (the rows keep `p_c` away from it).
#[test]
fn f64_reference_gradient_matches_finite_differences() {
    let mut both_branches = [false; 2];
    for g in [0.0f32, 0.5, 1.0, 2.0, 3.0] {
        for th in [0.1f32, 0.3, 0.5, 0.8] {
            for row in finite_difference::ROWS {
                let c = row.len();
                for target in [0, c - 1] {
                    let p = (-reference::hard(row, target, 0.0, 1.0).0).exp();
                    if (p - f64::from(th)).abs() < 0.02 {
                        continue;
                    }
                    both_branches[usize::from(p < f64::from(th))] = true;
                    let eval = |z: &[f32]| reference::hard_reduced(z, target, g, 0.5, th).0;
                    let (_, grad) = reference::hard_reduced(row, target, g, 0.5, th);
                    for (k, &grad_k) in grad.iter().enumerate() {
                        let d = finite_difference::central(eval, row, k);
                        assert!(
                            finite_difference::agrees(grad_k, d, grad_k.abs()),
                            "γ={g} th={th} {row:?} target {target} class {k}: {} vs fd {d}",
                            grad_k
                        );
                    }
                }
                let y: Vec<f32> = (0..c).map(|j| (j + 1) as f32 / c as f32).collect();
                let z: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
                let sum: f64 = z.iter().map(|v| v.exp()).sum();
                if z.iter()
                    .any(|v| (v.exp() / sum - f64::from(th)).abs() < 0.02)
                {
                    continue;
                }
                let eval = |z: &[f32]| reference::soft_reduced(z, &y, g, None, th).0;
                let (_, grad) = reference::soft_reduced(row, &y, g, None, th);
                for (k, &grad_k) in grad.iter().enumerate() {
                    let d = finite_difference::central(eval, row, k);
                    assert!(
                        finite_difference::agrees(grad_k, d, grad_k.abs()),
                        "soft γ={g} th={th} {row:?} class {k}: {} vs fd {d}",
                        grad_k
                    );
                }
            }
        }
    }
    assert_eq!(both_branches, [true, true]);
}

/// Both kernels against the `f64` reference on the softmax accuracy rows (random, saturated,
/// tied), hard targets with α, within 16 ULP for integer γ; rows whose `p_c` is within 10⁻⁵
/// of the threshold are left out (the `f32` and `f64` probabilities may fall on either side).
#[test]
fn kernels_match_the_f64_reference_within_16_ulp() {
    let mut reduced_rows = 0;
    let mut worst = [0.0f64; 2];
    for kernel in KERNELS {
        for c in [2usize, 10, 80] {
            let (x, t) = rows(c);
            let n = t.len();
            let t: Vec<i64> = t.iter().map(|&v| i64::from(v)).collect();
            let a = alpha(c);
            for g in [1.0f32, 2.0, 3.0] {
                for th in [0.25f32, 0.5, 0.9] {
                    let fl = SoftmaxFocal::new(c, g)
                        .unwrap()
                        .with_kernel(kernel)
                        .with_alpha(&a)
                        .unwrap()
                        .with_reduced_threshold(th)
                        .unwrap();
                    let mut losses = vec![0.0f32; n];
                    let mut grad = vec![0.0f32; x.len()];
                    fl.loss_per_element(&x, &t, &mut losses).unwrap();
                    fl.loss_and_grad(&x, &t, Reduction::Sum, &mut grad).unwrap();
                    for (r, &target) in t.iter().enumerate() {
                        let row = &x[r * c..(r + 1) * c];
                        let target = target as usize;
                        let p = (-reference::hard(row, target, 0.0, 1.0).0).exp();
                        if (p - f64::from(th)).abs() <= 1e-5 {
                            continue;
                        }
                        reduced_rows += usize::from(p >= f64::from(th));
                        let (loss, want) = reference::hard_reduced(row, target, g, a[target], th);
                        let what = format!("{kernel:?} C={c} γ={g} th={th} row {r}");
                        let e = check(losses[r], loss, loss.abs(), 16.0).unwrap_or_else(|e| {
                            panic!("{what}: loss {} vs {loss} ({e} ULP)", losses[r])
                        });
                        worst[0] = worst[0].max(e);
                        for (j, &w) in want.iter().enumerate() {
                            let got = grad[r * c + j];
                            let e = check(got, w, w.abs(), 16.0).unwrap_or_else(|e| {
                                panic!("{what} class {j}: {got} vs {w} ({e} ULP)")
                            });
                            worst[1] = worst[1].max(e);
                        }
                    }
                }
            }
        }
    }
    assert!(
        reduced_rows > 100,
        "{reduced_rows} rows on the reduced branch"
    );
    // docs/variants.md's figures (`cargo test --release --test suite softmax_reduced:: --
    // --nocapture`).
    println!(
        "reduced softmax, hard targets: worst loss {:.2}, grad {:.2} ULP",
        worst[0], worst[1]
    );
}

/// Soft targets: both kernels against the `f64` reference, the factor per class.
#[test]
fn soft_targets_match_the_f64_reference() {
    for kernel in KERNELS {
        for c in [2usize, 10] {
            let (x, _) = rows(c);
            let y = soft_targets(c, x.len() / c, Layout::RowMajor);
            for g in [1.0f32, 2.0] {
                for th in [0.25f32, 0.5] {
                    let fl = SoftmaxFocal::new(c, g)
                        .unwrap()
                        .with_kernel(kernel)
                        .with_reduced_threshold(th)
                        .unwrap();
                    let mut grad = vec![0.0f32; x.len()];
                    let mut losses = vec![0.0f32; x.len() / c];
                    fl.loss_per_element(&x, &y, &mut losses).unwrap();
                    fl.loss_and_grad(&x, &y, Reduction::Sum, &mut grad).unwrap();
                    for (r, &got) in losses.iter().enumerate() {
                        let (row, yr) = (&x[r * c..(r + 1) * c], &y[r * c..(r + 1) * c]);
                        let z: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
                        let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        let sum: f64 = z.iter().map(|v| (v - m).exp()).sum();
                        let near = z
                            .iter()
                            .any(|v| ((v - m).exp() / sum - f64::from(th)).abs() <= 1e-5);
                        if near {
                            continue;
                        }
                        let (loss, want) = reference::soft_reduced(row, yr, g, None, th);
                        let what = format!("{kernel:?} C={c} γ={g} th={th} row {r}");
                        // The row's terms are all non-negative: 16 ULP of the loss.
                        check(got, loss, loss.abs(), 16.0)
                            .unwrap_or_else(|e| panic!("{what}: loss {got} vs {loss} ({e} ULP)"));
                        // `w_k G_k − p_k Σ w_j G_j` may cancel: at the magnitude of its terms.
                        let scale: f64 = want.iter().map(|v| v.abs()).sum();
                        for (j, &w) in want.iter().enumerate() {
                            let got = grad[r * c + j];
                            check(got, w, scale, 64.0).unwrap_or_else(|e| {
                                panic!("{what} class {j}: {got} vs {w} ({e} ULP)")
                            });
                        }
                    }
                }
            }
        }
    }
}

/// Where `p_c` rounds to 1 in `f32` but `1 − p_c = S'/S` does not vanish, `th = 1` still
/// takes the cross-entropy branch (a branch on the rounded `p_c` would give
/// `(1 − p_c)^γ·CE`, ~10⁻¹⁷ here), and `th = 0.9` the reduced one; infinite logits give
/// finite gradients.
#[test]
fn saturated_logits_keep_the_branch_and_finite_gradients() {
    for kernel in KERNELS {
        let fl = SoftmaxFocal::new(3, 2.0).unwrap().with_kernel(kernel);
        let x = [20.0f32, 0.0, 0.0];
        let ce = SoftmaxFocal::new(3, 0.0).unwrap().with_kernel(kernel);
        let want_ce = ce.loss(&x, &[0u8], Reduction::Sum).unwrap();
        assert!(want_ce > 4e-9, "{want_ce}");
        let one = fl.with_reduced_threshold(1.0).unwrap();
        assert_eq!(one.loss(&x, &[0u8], Reduction::Sum).unwrap(), want_ce);
        let th = 0.9f32;
        let reduced = fl.with_reduced_threshold(th).unwrap();
        let (want, _) = reference::hard_reduced(&x, 0, 2.0, 1.0, th);
        let got = reduced.loss(&x, &[0u8], Reduction::Sum).unwrap();
        check(got, want, want, 16.0).unwrap();
        let inf = f32::INFINITY;
        for row in [[inf, 0.0, 1.0], [-inf, 0.0, 1.0], [0.0, inf, -inf]] {
            for c in [0u8, 1] {
                for th in [0.25f32, 0.5, 1.0] {
                    let fl = fl.with_reduced_threshold(th).unwrap();
                    let mut grad = [0.0f32; 3];
                    let loss = fl.loss_and_grad(&row, &[c], Reduction::Sum, &mut grad);
                    let loss = loss.unwrap();
                    assert!(loss >= 0.0, "{kernel:?} {row:?} {c} th={th}: {loss}");
                    assert!(grad.iter().all(|g| g.is_finite()), "{row:?} {c}: {grad:?}");
                }
            }
        }
    }
}
