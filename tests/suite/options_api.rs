//! The sigmoid form's options (Poly-1, reduced, normalised): their errors, the identities
//! they must satisfy, the `f64` references against finite differences, whole slices (the
//! normaliser is the slice's) against the `f64` reference, and finite gradients everywhere.

use focal_loss::{FocalError, Kernel, NORMALIZER_MIN, Reduction, SigmoidFocal};
use proptest::prelude::*;
use testkit::variants::options::{normalized_one, normalized_slice, poly1, reduced};

const KERNELS: [Kernel; 2] = [Kernel::Simd, Kernel::Libm];

#[test]
fn every_new_error_is_reported() {
    let fl = SigmoidFocal::RETINANET;
    for e in [
        -1.000_001f32,
        -2.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        let err = fl.with_poly1(e).unwrap_err();
        assert!(
            matches!(err, FocalError::InvalidPolyEpsilon { epsilon } if epsilon.to_bits() == e.to_bits())
        );
    }
    assert!(fl.with_poly1(-1.0).is_ok() && fl.with_poly1(1e30).is_ok());
    for th in [0.0f32, -0.0, -0.5, 1.000_001, 2.0, f32::NAN, f32::INFINITY] {
        let err = fl.with_reduced_threshold(th).unwrap_err();
        assert!(
            matches!(err, FocalError::InvalidReducedThreshold { threshold } if threshold.to_bits() == th.to_bits())
        );
    }
    assert!(fl.with_reduced_threshold(1.0).is_ok() && fl.with_reduced_threshold(1e-30).is_ok());
    assert_eq!(
        fl.with_poly1(1.0).unwrap().with_reduced_threshold(0.5),
        Err(FocalError::PolyWithReducedThreshold)
    );
    assert_eq!(
        fl.with_reduced_threshold(0.5).unwrap().with_poly1(0.0),
        Err(FocalError::PolyWithReducedThreshold)
    );
    assert_eq!(
        FocalError::InvalidReducedThreshold { threshold: 2.0 }.to_string(),
        "reduced threshold must be in (0, 1], got 2"
    );
    assert_eq!(
        FocalError::PolyWithReducedThreshold.to_string(),
        "Poly-1 and a reduced threshold cannot be combined"
    );
    // The input errors are the focal loss's, normalised too (its extra pass reports them).
    let norm = fl.normalized();
    assert_eq!(
        norm.loss(&[0.0, f32::NAN], &[1u8, 1], Reduction::Sum),
        Err(FocalError::NonFiniteLogit { index: 1 })
    );
    let mut g = [0.0f32; 2];
    assert!(matches!(
        norm.loss_and_grad(&[0.0, 1.0], &[1.0f32, 1.5], Reduction::Sum, &mut g),
        Err(FocalError::InvalidTarget { index: 1, .. })
    ));
    assert!(matches!(
        norm.loss(&[0.0], &[1u8], Reduction::MeanOver(0.0)),
        Err(FocalError::InvalidNormalizer { .. })
    ));
    assert!(matches!(
        norm.loss_and_grad_weighted(&[0.0], &[1u8], &[-1.0], Reduction::Sum, &mut g[..1]),
        Err(FocalError::InvalidWeight { index: 0, .. })
    ));
}

/// Logits and soft and hard targets, every lane pattern of the vector kernel.
fn inputs(n: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let x = (0..n).map(|i| (i as f32 * 0.731).sin() * 12.0).collect();
    let t = (0..n)
        .map(|i| [0.0, 1.0, 0.3, 1.0, 0.0, 0.9][i % 6])
        .collect();
    let w = (0..n).map(|i| [1.0, 0.5, 0.0, 2.0][i % 4]).collect();
    (x, t, w)
}

#[test]
fn poly1_with_zero_epsilon_is_the_focal_loss_bit_for_bit() {
    let (x, t, w) = inputs(37);
    for kernel in KERNELS {
        for (g, a) in [(2.0, Some(0.25)), (0.5, None), (0.0, Some(0.5))] {
            let fl = SigmoidFocal::new(g, a).unwrap().with_kernel(kernel);
            let poly = fl.with_poly1(0.0).unwrap();
            let (mut a1, mut a2) = (vec![0.0f32; 37], vec![0.0f32; 37]);
            for r in [Reduction::Sum, Reduction::Mean] {
                assert_eq!(
                    poly.loss(&x, &t, r).unwrap().to_bits(),
                    fl.loss(&x, &t, r).unwrap().to_bits()
                );
                let l1 = poly.loss_and_grad_weighted(&x, &t, &w, r, &mut a1).unwrap();
                let l2 = fl.loss_and_grad_weighted(&x, &t, &w, r, &mut a2).unwrap();
                assert_eq!(l1.to_bits(), l2.to_bits());
                assert!(a1.iter().zip(&a2).all(|(a, b)| a.to_bits() == b.to_bits()));
            }
            poly.loss_per_element(&x, &t, &mut a1).unwrap();
            fl.loss_per_element(&x, &t, &mut a2).unwrap();
            assert!(a1.iter().zip(&a2).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }
}

#[test]
fn reduced_with_threshold_one_is_bce() {
    // Hard targets, logits up to where 1 − p_t underflows: bit for bit α-weighted BCE.
    let x: Vec<f32> = (-60..=60).map(|i| i as f32 * 1.7).collect();
    let t: Vec<u8> = (0..x.len()).map(|i| (i % 2) as u8).collect();
    for kernel in KERNELS {
        for a in [None, Some(0.25)] {
            let red = SigmoidFocal::new(2.0, a)
                .unwrap()
                .with_reduced_threshold(1.0)
                .unwrap()
                .with_kernel(kernel);
            let bce = SigmoidFocal::new(0.0, a).unwrap().with_kernel(kernel);
            let (mut g1, mut g2) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
            let l1 = red.loss_and_grad(&x, &t, Reduction::Sum, &mut g1).unwrap();
            let l2 = bce.loss_and_grad(&x, &t, Reduction::Sum, &mut g2).unwrap();
            assert_eq!(l1.to_bits(), l2.to_bits());
            assert!(g1.iter().zip(&g2).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }
    // A saturated logit: a rounded p_t = 1 would take (1 − p_t)^γ and give ~0; q decides.
    let red = SigmoidFocal::new(2.0, None)
        .unwrap()
        .with_reduced_threshold(1.0)
        .unwrap();
    let loss = red.loss(&[30.0f32], &[1u8], Reduction::Sum).unwrap();
    let want = (-30.0f64).exp(); // softplus(-30), to 1e-13
    assert!((f64::from(loss) / want - 1.0).abs() < 1e-6, "{loss}");
}

#[test]
fn normalised_with_one_element_is_alpha_bce() {
    for kernel in KERNELS {
        for &(x, t) in &[(0.5f32, 1.0f32), (-3.0, 1.0), (2.0, 0.0), (1.0, 0.3)] {
            let fl = SigmoidFocal::new(2.0, Some(0.25)).unwrap();
            let norm = fl.normalized().with_kernel(kernel);
            let bce = SigmoidFocal::new(0.0, Some(0.25)).unwrap();
            let mut g = [0.0f32];
            let mut gb = [0.0f32];
            let l = norm
                .loss_and_grad(&[x], &[t], Reduction::Sum, &mut g)
                .unwrap();
            let lb = bce
                .loss_and_grad(&[x], &[t], Reduction::Sum, &mut gb)
                .unwrap();
            assert!(
                (l - lb).abs() <= 4.0 * f32::EPSILON * lb,
                "{x} {t}: {l} vs {lb}"
            );
            // The normaliser's derivative cancels the factor's: α_t·BCE' (to the terms' scale).
            let v = normalized_one(f64::from(x), f64::from(t), 2.0, Some(0.25));
            assert!((f64::from(g[0]) - v.grad).abs() <= 16.0 * 1.2e-7 * v.grad_scale);
            assert!((g[0] - gb[0]).abs() <= 1e-5 * gb[0].abs().max(1e-3));
        }
    }
}

/// Central differences of `f` at `x` (step relative to `x`).
fn fd(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn references_match_finite_differences() {
    for &t in &[0.0, 1.0, 0.3, 0.9] {
        for &x in &[-7.0, -1.3, -0.2, 0.4, 2.5, 9.0] {
            for &(g, a) in &[(2.0, Some(0.25)), (0.5, None), (0.0, None)] {
                for &e in &[-1.0, 1.0, 2.5] {
                    let v = poly1(x, t, g, a, e);
                    let d = fd(|x| poly1(x, t, g, a, e).loss, x);
                    assert!(
                        (d - v.grad).abs() <= 1e-6 * v.grad_scale + 1e-12,
                        "poly1 {x} {t}"
                    );
                }
                for &th in &[0.5, 0.25, 1.0] {
                    let v = reduced(x, t, g, a, th);
                    let d = fd(|x| reduced(x, t, g, a, th).loss, x);
                    assert!(
                        (d - v.grad).abs() <= 1e-6 * v.grad_scale + 1e-12,
                        "red {x} {t}"
                    );
                }
            }
        }
    }
    // The slice reference: every element's gradient of the normalised sum.
    let xs = [0.3, -2.0, 4.0, -0.7, 1.1];
    let ts = [1.0, 0.0, 1.0, 0.4, 0.0];
    let ws = [1.0, 2.0, 0.5, 1.0, 0.0];
    for (eps, th) in [
        (None, None),
        (Some(-1.0), None),
        (Some(2.0), None),
        (None, Some(0.5)),
    ] {
        let (_, grad) = normalized_slice(&xs, &ts, &ws, 2.0, Some(0.25), eps, th);
        for k in 0..xs.len() {
            let f = |v: f64| {
                let mut x = xs;
                x[k] = v;
                normalized_slice(&x, &ts, &ws, 2.0, Some(0.25), eps, th).0
            };
            let d = fd(f, xs[k]);
            assert!(
                (d - grad[k]).abs() <= 1e-6,
                "{eps:?} {th:?} {k}: {d} vs {}",
                grad[k]
            );
        }
    }
}

#[test]
fn normalised_slices_match_the_reference() {
    for n in [1usize, 5, 16, 37, 100] {
        let (x, t, w) = inputs(n);
        let (x64, t64, w64): (Vec<f64>, Vec<f64>, Vec<f64>) = (
            x.iter().map(|&v| f64::from(v)).collect(),
            t.iter().map(|&v| f64::from(v)).collect(),
            w.iter().map(|&v| f64::from(v)).collect(),
        );
        for (eps, th) in [
            (None, None),
            (Some(-1.0f32), None),
            (Some(1.0), None),
            (None, Some(0.5f32)),
        ] {
            let mut fl = SigmoidFocal::new(2.0, Some(0.25)).unwrap().normalized();
            if let Some(e) = eps {
                fl = fl.with_poly1(e).unwrap();
            }
            if let Some(th) = th {
                fl = fl.with_reduced_threshold(th).unwrap();
            }
            let (want, want_grad) = normalized_slice(
                &x64,
                &t64,
                &w64,
                2.0,
                Some(0.25),
                eps.map(f64::from),
                th.map(f64::from),
            );
            let scale = want_grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
            for kernel in KERNELS {
                let fl = fl.with_kernel(kernel);
                let mut grad = vec![0.0f32; n];
                let loss = fl
                    .loss_and_grad_weighted(&x, &t, &w, Reduction::Sum, &mut grad)
                    .unwrap();
                assert!(
                    (f64::from(loss) - want).abs() <= 1e-5 * want.abs(),
                    "{n} {loss} {want}"
                );
                let weighted = fl.loss_weighted(&x, &t, &w, Reduction::Sum).unwrap();
                assert_eq!(weighted.to_bits(), loss.to_bits());
                for (g, wg) in grad.iter().zip(&want_grad) {
                    assert!(
                        (f64::from(*g) - wg).abs() <= 1e-5 * scale,
                        "{n}: {g} vs {wg}"
                    );
                }
                // Mean divides by n, per element by S.
                let mean = fl.loss_weighted(&x, &t, &w, Reduction::Mean).unwrap();
                assert!((f64::from(mean) - want / n as f64).abs() <= 1e-5 * want.abs());
                let mut out = vec![0.0f32; n];
                fl.loss_per_element_weighted(&x, &t, &w, &mut out).unwrap();
                let total: f64 = out.iter().map(|&v| f64::from(v)).sum();
                assert!((total - want).abs() <= 1e-5 * want.abs());
            }
        }
    }
}

#[test]
fn normaliser_is_clamped() {
    // Every factor tiny: S = 10^-6 and the loss is Σ ℓ / 10^-6, with no normaliser derivative.
    let fl = SigmoidFocal::new(2.0, None).unwrap().normalized();
    let (x, t) = ([15.0f32, 16.0], [1u8, 1]);
    let plain = SigmoidFocal::new(2.0, None).unwrap();
    let mut g = [0.0f32; 2];
    let mut gp = [0.0f32; 2];
    let l = fl.loss_and_grad(&x, &t, Reduction::Sum, &mut g).unwrap();
    let lp = plain
        .loss_and_grad(&x, &t, Reduction::Sum, &mut gp)
        .unwrap();
    let s = f64::from(NORMALIZER_MIN);
    assert!((f64::from(l) - f64::from(lp) / s).abs() <= 1e-5 * f64::from(l));
    for i in 0..2 {
        assert!((f64::from(g[i]) - f64::from(gp[i]) / s).abs() <= 1e-5 * f64::from(g[i]).abs());
    }
}

#[test]
fn poly1_at_minus_one_keeps_its_accuracy_where_the_plain_formula_cancels() {
    // γ = 0, α None: −ln p − (1 − p) at p = σ(x): e^−2x/2 + … for large x.
    for kernel in KERNELS {
        let fl = SigmoidFocal::new(0.0, None)
            .unwrap()
            .with_poly1(-1.0)
            .unwrap()
            .with_kernel(kernel);
        for x in [5.0f32, 20.0, 30.0, 40.0] {
            let want = poly1(f64::from(x), 1.0, 0.0, None, -1.0);
            let mut g = [0.0f32];
            let l = fl
                .loss_and_grad(&[x], &[1u8], Reduction::Sum, &mut g)
                .unwrap();
            assert!(
                l > 0.0 && (f64::from(l) / want.loss - 1.0).abs() < 16.0 * 1.2e-7,
                "{x}"
            );
            assert!(
                (f64::from(g[0]) / want.grad - 1.0).abs() < 16.0 * 1.2e-7,
                "{x}"
            );
        }
    }
}

proptest! {
    #[test]
    fn gradients_are_finite_and_kernels_agree(
        x in prop_oneof![-120.0f32..120.0, Just(f32::INFINITY), Just(f32::NEG_INFINITY)],
        t in prop_oneof![0.0f32..=1.0, Just(0.0), Just(1.0)],
        g in prop_oneof![0.0f32..6.0, Just(2.0)],
        e in -1.0f32..4.0,
        th in 0.01f32..=1.0,
        which in 0usize..4,
    ) {
        let base = SigmoidFocal::new(g, Some(0.25)).unwrap();
        let fl = match which {
            0 => base.with_poly1(e).unwrap(),
            1 => base.with_reduced_threshold(th).unwrap(),
            2 => base.normalized(),
            _ => base.with_poly1(e).unwrap().normalized(),
        };
        let mut grads = [[0.0f32; 3]; 2];
        let xs = [x, 0.5, -2.0];
        let ts = [t, 1.0, 0.0];
        for (k, kernel) in KERNELS.into_iter().enumerate() {
            let l = fl.with_kernel(kernel).loss_and_grad(&xs, &ts, Reduction::Mean, &mut grads[k]).unwrap();
            prop_assert!(!l.is_nan());
            prop_assert!(grads[k].iter().all(|v| v.is_finite()), "{:?}", grads[k]);
        }
        for (&a, &b) in grads[0].iter().zip(&grads[1]) {
            prop_assert!((a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1e-3), "{a} vs {b}");
        }
    }

    #[test]
    fn elements_match_the_f64_reference(
        x in -30.0f32..30.0,
        t in prop_oneof![Just(0.0f32), Just(1.0), 0.0f32..=1.0],
        g in prop_oneof![Just(0.0f32), Just(1.0), Just(2.0), Just(3.0)],
        e in prop_oneof![Just(-1.0f32), -1.0f32..3.0],
        th in prop_oneof![Just(0.5f32), Just(1.0), 0.05f32..=1.0],
        poly in any::<bool>(),
    ) {
        let base = SigmoidFocal::new(g, None).unwrap();
        let (fl, want) = if poly {
            (base.with_poly1(e).unwrap(), poly1(f64::from(x), f64::from(t), f64::from(g), None, f64::from(e)))
        } else {
            (base.with_reduced_threshold(th).unwrap(), reduced(f64::from(x), f64::from(t), f64::from(g), None, f64::from(th)))
        };
        // Away from the reduced factor's jump (the branch there is a rounding away).
        let p = 1.0 / (1.0 + (-f64::from(x)).exp());
        let pt = f64::from(t) * p + (1.0 - f64::from(t)) * (1.0 - p);
        prop_assume!(poly || (pt - f64::from(th)).abs() > 1e-5);
        for kernel in KERNELS {
            let (mut l, mut gr) = ([0.0f32], [0.0f32]);
            let fl = fl.with_kernel(kernel);
            fl.loss_per_element(&[x], &[t], &mut l).unwrap();
            fl.loss_and_grad(&[x], &[t], Reduction::Sum, &mut gr).unwrap();
            let bound = 16.0 * f64::from(f32::EPSILON) / 2.0;
            prop_assert!((f64::from(l[0]) - want.loss).abs() <= bound * want.loss_scale + 1e-38, "{l:?} {want:?}");
            prop_assert!((f64::from(gr[0]) - want.grad).abs() <= bound * want.grad_scale + 1e-38, "{gr:?} {want:?}");
        }
    }
}
