//! Poly-1 on the softmax focal loss (`SoftmaxFocal::with_poly1`, Leng et al. 2022):
//! `α_c·(1 − p_c)^γ·(−log p_c) + ε·(1 − p_c)^(γ+1)`. Its errors, the identity ε = 0 (the
//! focal loss bit for bit), the `f64` reference against finite differences, both kernels
//! against that reference over the softmax accuracy grid (within 16 ULP for integer γ, at
//! the magnitude of the terms where `α_c + ε < 0`), ignored rows, weights, the layouts'
//! equal bits, saturated and infinite logits, and a property test.

use focal_loss::{FocalError, Kernel, Layout, Reduction, SoftmaxFocal};
use proptest::prelude::*;
use testkit::softmax::accuracy::{CLASSES, POLY_EPSILONS, Worst, measure_poly1, rows};
use testkit::softmax::{finite_difference, reference};
use testkit::ulp::ulps_of;

const KERNELS: [Kernel; 2] = [Kernel::Simd, Kernel::Libm];

#[test]
fn rejects_epsilon_below_minus_one_and_non_finite() {
    let fl = SoftmaxFocal::new(3, 2.0).unwrap();
    for e in [
        -1.0000001f32,
        -2.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        let err = fl.with_poly1(e).unwrap_err();
        assert!(
            matches!(err, FocalError::InvalidPolyEpsilon { epsilon } if epsilon.to_bits() == e.to_bits()),
            "{e}: {err:?}"
        );
    }
    for e in [-1.0f32, 0.0, 1.0, 1e30] {
        assert_eq!(fl.with_poly1(e).unwrap().epsilon(), Some(e));
    }
}

#[test]
fn soft_targets_are_an_error_unless_epsilon_is_zero() {
    let (x, y) = ([0.5f32, -1.0, 2.0], [0.2f32, 0.3, 0.5]);
    let (mut out, mut grad) = ([0.0f32; 1], [0.0f32; 3]);
    let fl = SoftmaxFocal::new(3, 2.0).unwrap().with_poly1(1.0).unwrap();
    let want = Err(FocalError::PolyWithSoftTargets);
    assert_eq!(fl.loss(&x, &y, Reduction::Sum), want);
    assert_eq!(fl.loss_per_element(&x, &y, &mut out).map(|_| 0.0), want);
    assert_eq!(fl.loss_and_grad(&x, &y, Reduction::Sum, &mut grad), want);
    assert_eq!(fl.loss_weighted(&x, &y, &[1.0], Reduction::Sum), want);
    assert_eq!(
        FocalError::PolyWithSoftTargets.to_string(),
        "softmax Poly-1 takes class-index targets, not soft targets"
    );
    let zero = SoftmaxFocal::new(3, 2.0).unwrap().with_poly1(0.0).unwrap();
    let plain = SoftmaxFocal::new(3, 2.0).unwrap();
    assert_eq!(
        zero.loss(&x, &y, Reduction::Sum).unwrap().to_bits(),
        plain.loss(&x, &y, Reduction::Sum).unwrap().to_bits()
    );
}

/// ε = 0 is the focal loss bit for bit: loss, per-element losses and gradient, both kernels,
/// every traversal (C = 2, 10, 80; channels-first), with α and an ignore index.
#[test]
fn epsilon_zero_is_the_focal_loss_bit_for_bit() {
    for kernel in KERNELS {
        for c in [2usize, 10, 80] {
            let (x, t) = rows(c);
            let n = t.len();
            let mut t: Vec<i64> = t.iter().map(|&v| i64::from(v)).collect();
            t[3] = -100;
            let alpha = testkit::softmax::accuracy::alpha(c);
            for layout in [Layout::RowMajor, Layout::ChannelsFirst { spatial: n }] {
                for g in [0.0f32, 0.5, 2.0] {
                    let plain = SoftmaxFocal::new(c, g)
                        .unwrap()
                        .with_kernel(kernel)
                        .with_layout(layout)
                        .unwrap()
                        .with_alpha(&alpha)
                        .unwrap()
                        .with_ignore_index(-100);
                    let poly = plain.with_poly1(0.0).unwrap();
                    let (mut a, mut b) = (vec![0.0f32; n], vec![0.0f32; n]);
                    plain.loss_per_element(&x, &t, &mut a).unwrap();
                    poly.loss_per_element(&x, &t, &mut b).unwrap();
                    assert!(a.iter().zip(&b).all(|(a, b)| a.to_bits() == b.to_bits()));
                    let (mut ga, mut gb) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
                    let la = plain
                        .loss_and_grad(&x, &t, Reduction::Mean, &mut ga)
                        .unwrap();
                    let lb = poly
                        .loss_and_grad(&x, &t, Reduction::Mean, &mut gb)
                        .unwrap();
                    assert_eq!(la.to_bits(), lb.to_bits());
                    assert!(ga.iter().zip(&gb).all(|(a, b)| a.to_bits() == b.to_bits()));
                }
            }
        }
    }
}

#[test]
fn f64_reference_gradient_matches_finite_differences() {
    for g in [0.0f32, 0.5, 1.0, 2.0, 3.0] {
        for eps in [-1.0f32, -0.5, 1.0, 2.0] {
            for alpha in [1.0f32, 0.25, 0.0] {
                for row in finite_difference::ROWS {
                    let c = row.len();
                    for target in [0, c - 1] {
                        let eval = |z: &[f32]| reference::hard_poly1(z, target, g, alpha, eps);
                        let want = eval(row);
                        for k in 0..c {
                            let fd = finite_difference::central(|z| eval(z).loss, row, k);
                            let grad = want.grad[k];
                            assert!(
                                finite_difference::agrees(grad, fd, want.grad_scale[k]),
                                "γ={g} ε={eps} α={alpha} row {row:?} target {target} class {k}: {grad} vs fd {fd}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// The reference is the focal reference plus `ε·q^(γ+1)`, `q` from the row directly (rows
/// where nothing cancels).
#[test]
fn f64_reference_is_the_focal_loss_plus_the_poly_term() {
    for (row, c) in [(&[0.5f32, -1.25, 2.0][..], 0), (&[3.0, 3.0, -2.0, 0.0], 2)] {
        let z: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
        let q = 1.0 - z[c].exp() / z.iter().map(|v| v.exp()).sum::<f64>();
        for g in [0.0f32, 1.0, 2.5] {
            let (fl, _) = reference::hard(row, c, g, 0.25);
            let poly = reference::hard_poly1(row, c, g, 0.25, 2.0);
            let want = fl + 2.0 * q.powf(f64::from(g) + 1.0);
            assert!(
                (poly.loss - want).abs() <= 1e-12 * want,
                "{} vs {want}",
                poly.loss
            );
        }
    }
}

fn check(gamma: f32, bound: f64) {
    for kernel in KERNELS {
        for c in CLASSES {
            for with_alpha in [false, true] {
                for eps in POLY_EPSILONS {
                    let Worst {
                        loss_ulp,
                        grad_ulp,
                        non_normal_misses,
                    } = measure_poly1(kernel, c, gamma, with_alpha, eps);
                    // The rows of docs/variants.md (`cargo test --release --test
                    // softmax_poly1 -- --nocapture --test-threads 1`).
                    println!(
                        "| γ {gamma}, ε {eps}, α {} | {kernel:?} | {c} | {loss_ulp:.2} | {grad_ulp:.2} |",
                        if with_alpha { "0.25..0.75" } else { "none" }
                    );
                    assert!(
                        loss_ulp <= bound && grad_ulp <= bound,
                        "{kernel:?} C={c} γ={gamma} α={with_alpha} ε={eps}: loss {loss_ulp:.2}, grad {grad_ulp:.2} ULP > {bound}"
                    );
                    assert_eq!(
                        non_normal_misses, 0,
                        "{kernel:?} C={c} γ={gamma} ε={eps}: wrong limits"
                    );
                }
            }
        }
    }
}

#[test]
fn gamma_0_within_16_ulp() {
    check(0.0, 16.0);
}

#[test]
fn gamma_1_within_16_ulp() {
    check(1.0, 16.0);
}

#[test]
fn gamma_2_within_16_ulp() {
    check(2.0, 16.0);
}

#[test]
fn gamma_3_within_16_ulp() {
    check(3.0, 16.0);
}

/// The paper's case, ε = −1 without α at γ = 0, where the plain formula cancels completely:
/// `−ln p − (1 − p)` with `p = 1/(1 + S')`, within 16 ULP while the loss is a normal `f32`
/// (`S'` down to `e^−40`).
#[test]
fn minus_one_keeps_relative_accuracy_at_saturated_logits() {
    for kernel in KERNELS {
        let fl = SoftmaxFocal::new(3, 0.0)
            .unwrap()
            .with_kernel(kernel)
            .with_poly1(-1.0)
            .unwrap();
        for lead in [1.0f32, 5.0, 15.0, 30.0, 40.0] {
            let x = [lead, 0.0, -1.0];
            let mut grad = [0.0f32; 3];
            let loss = fl
                .loss_and_grad(&x, &[0u8], Reduction::Sum, &mut grad)
                .unwrap();
            let want = reference::hard_poly1(&x, 0, 0.0, 1.0, -1.0);
            let e = ulps_of(loss, want.loss, want.loss).unwrap();
            assert!(
                e <= 16.0,
                "{kernel:?} lead {lead}: loss {loss} vs {} ({e:.2} ULP)",
                want.loss
            );
            assert!(want.loss > 0.0 && loss > 0.0);
            for (j, (&got, &w)) in grad.iter().zip(&want.grad).enumerate() {
                let e = ulps_of(got, w, w.abs()).unwrap();
                assert!(e <= 16.0, "{kernel:?} lead {lead} class {j}: {got} vs {w}");
            }
        }
    }
}

#[test]
fn infinite_logits_give_finite_gradients() {
    let inf = f32::INFINITY;
    let rows: [[f32; 3]; 4] = [
        [inf, 0.0, 1.0],
        [-inf, 0.0, 1.0],
        [0.0, inf, -inf],
        [-inf, -inf, -inf],
    ];
    for kernel in KERNELS {
        for g in [0.0f32, 0.5, 2.0] {
            for eps in [-1.0f32, 1.0] {
                let fl = SoftmaxFocal::new(3, g)
                    .unwrap()
                    .with_kernel(kernel)
                    .with_poly1(eps)
                    .unwrap();
                for row in rows {
                    for c in [0u8, 1] {
                        let mut grad = [0.0f32; 3];
                        let loss = fl
                            .loss_and_grad(&row, &[c], Reduction::Sum, &mut grad)
                            .unwrap();
                        assert!(!loss.is_nan(), "{row:?} {c}: {loss}");
                        assert!(
                            grad.iter().all(|v| v.is_finite()),
                            "{kernel:?} γ={g} ε={eps} {row:?} {c}: {grad:?}"
                        );
                    }
                }
            }
        }
    }
    // The target at −∞: p = 0, the loss is +∞ (α_c·(−log 0)); at +∞ with the rest finite, 0.
    let fl = SoftmaxFocal::new(3, 2.0).unwrap().with_poly1(1.0).unwrap();
    assert_eq!(fl.loss(&[-inf, 0.0, 1.0], &[0u8], Reduction::Sum), Ok(inf));
    assert_eq!(fl.loss(&[inf, 0.0, 1.0], &[0u8], Reduction::Sum), Ok(0.0));
}

/// An ignored row contributes nothing and is not counted; α_c = 0 keeps the Poly-1 term
/// (α multiplies the focal term only); a weight multiplies both.
#[test]
fn ignore_index_alpha_and_weights() {
    let x = [0.5f32, -1.0, 2.0, /* row 2 */ 1.0, 1.5, -0.5];
    for kernel in KERNELS {
        let base = SoftmaxFocal::new(3, 2.0).unwrap().with_kernel(kernel);
        let fl = base.with_ignore_index(-1).with_poly1(2.0).unwrap();
        let mut grad = [1.0f32; 6];
        let both = fl
            .loss_and_grad(&x, &[0i64, -1], Reduction::Mean, &mut grad)
            .unwrap();
        assert!(grad[3..].iter().all(|&g| g == 0.0));
        let first = fl
            .with_ignore_index(-7)
            .loss(&x[..3], &[0i64], Reduction::Sum)
            .unwrap();
        assert_eq!(both, first);
        // α_c = 0: ε·q^(γ+1) alone.
        let alpha = [0.0f32, 1.0, 1.0];
        let zero_alpha = base.with_alpha(&alpha).unwrap().with_poly1(2.0).unwrap();
        let got = zero_alpha.loss(&x[..3], &[0u8], Reduction::Sum).unwrap();
        let want = reference::hard_poly1(&x[..3], 0, 2.0, 0.0, 2.0);
        assert!(
            ulps_of(got, want.loss, want.loss).unwrap() <= 16.0,
            "{got} vs {}",
            want.loss
        );
        let mut g0 = [0.0f32; 3];
        zero_alpha
            .loss_and_grad(&x[..3], &[0u8], Reduction::Sum, &mut g0)
            .unwrap();
        for (&got, &w) in g0.iter().zip(&want.grad) {
            assert!(ulps_of(got, w, w.abs()).unwrap() <= 16.0, "{got} vs {w}");
        }
        // Weights: 0 removes a row, loss and gradient; 2 doubles both terms.
        let poly = base.with_poly1(1.0).unwrap();
        let t = [0u8, 2];
        let mut gw = [0.0f32; 6];
        let lw = poly
            .loss_and_grad_weighted(&x, &t, &[2.0, 0.0], Reduction::Sum, &mut gw)
            .unwrap();
        let mut g1 = [0.0f32; 3];
        let l1 = poly
            .loss_and_grad(&x[..3], &t[..1], Reduction::Sum, &mut g1)
            .unwrap();
        assert_eq!(lw, 2.0 * l1);
        assert!(gw[..3].iter().zip(&g1).all(|(a, b)| *a == 2.0 * b));
        assert!(gw[3..].iter().all(|&g| g == 0.0));
    }
}

/// Every traversal gives the same bits: channels-first against its row-major transpose.
#[test]
fn channels_first_has_the_row_major_bits() {
    for kernel in KERNELS {
        for c in [2usize, 10, 80] {
            let (x, t) = rows(c);
            let n = t.len();
            let mut cf = vec![0.0f32; x.len()];
            for r in 0..n {
                for j in 0..c {
                    cf[j * n + r] = x[r * c + j];
                }
            }
            let fl = SoftmaxFocal::new(c, 2.0)
                .unwrap()
                .with_kernel(kernel)
                .with_poly1(-1.0)
                .unwrap();
            let cfl = fl
                .with_layout(Layout::ChannelsFirst { spatial: n })
                .unwrap();
            let (mut a, mut b) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
            let la = fl.loss_and_grad(&x, &t, Reduction::Sum, &mut a).unwrap();
            let lb = cfl.loss_and_grad(&cf, &t, Reduction::Sum, &mut b).unwrap();
            assert_eq!(la.to_bits(), lb.to_bits(), "{kernel:?} C={c}");
            for r in 0..n {
                for j in 0..c {
                    assert_eq!(a[r * c + j].to_bits(), b[j * n + r].to_bits());
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Random rows, integer γ, ε >= −1 with α_c + ε >= 0: within 16 ULP of the reference.
    #[test]
    fn random_rows_within_16_ulp(
        kernel in prop_oneof![Just(Kernel::Simd), Just(Kernel::Libm)],
        (c, x, t) in (2usize..=24, 1usize..=12).prop_flat_map(|(c, n)| (
            Just(c),
            proptest::collection::vec(-30.0f32..30.0, c * n),
            proptest::collection::vec(0..c as u32, n),
        )),
        g in 0u8..=3,
        eps in -1.0f32..4.0,
    ) {
        let g = f32::from(g);
        let fl = SoftmaxFocal::new(c, g).unwrap().with_kernel(kernel).with_poly1(eps).unwrap();
        let mut out = vec![0.0f32; t.len()];
        let mut grad = vec![0.0f32; x.len()];
        fl.loss_per_element(&x, &t, &mut out).unwrap();
        fl.loss_and_grad(&x, &t, Reduction::Sum, &mut grad).unwrap();
        for (r, &tc) in t.iter().enumerate() {
            let want = reference::hard_poly1(&x[r * c..(r + 1) * c], tc as usize, g, 1.0, eps);
            let check = |got: f32, w: f64, s: f64| testkit::ulp::check(got, w, s, 16.0);
            prop_assert!(check(out[r], want.loss, want.loss_scale).is_ok(), "row {r}: {} vs {}", out[r], want.loss);
            for j in 0..c {
                let got = grad[r * c + j];
                prop_assert!(check(got, want.grad[j], want.grad_scale[j]).is_ok(), "row {r} class {j}: {got} vs {}", want.grad[j]);
            }
        }
    }
}

/// A fractional γ, pinned at its measured worst over both kernels, every C, ε and α: 4.23
/// ULP loss, 5.83 grad (11.66 and 15.04 while `exp(γ·ln q)` took a rounded `ln q` and
/// product; `cargo test --release --test suite softmax_poly1:: -- --nocapture --test-threads 1`
/// prints the rows of docs/variants.md).
#[test]
fn gamma_0_5_pinned() {
    check(0.5, 6.0);
}
