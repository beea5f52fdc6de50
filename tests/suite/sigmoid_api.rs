//! The public behaviour of `SigmoidFocal`: every error, reductions and their gradients,
//! weights, α, target types, kernels, saturated and infinite logits.

use focal_loss::{FocalError, Kernel, Operand, Reduction, SigmoidFocal};
use testkit::sigmoid::reference::sigmoid_focal;

const KERNELS: [Kernel; 2] = [Kernel::Simd, Kernel::Libm];

/// A reproducible mix of logits and targets, long enough for several chunks and a tail.
fn batch(n: usize) -> (Vec<f32>, Vec<f32>) {
    let mut s = 0x2545_f491_u32;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        s
    };
    let x = (0..n)
        .map(|_| (next() % 20_001) as f32 / 1000.0 - 10.0)
        .collect();
    let t = (0..n)
        .map(|_| if next() % 7 == 0 { 1.0 } else { 0.0 })
        .collect();
    (x, t)
}

#[test]
fn bad_hyper_parameters() {
    for g in [-0.5, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let err = SigmoidFocal::new(g, None).unwrap_err();
        assert!(
            matches!(err, FocalError::InvalidGamma { gamma } if gamma.to_bits() == g.to_bits())
        );
    }
    for a in [-0.1, 1.1, f32::NAN, f32::INFINITY] {
        let err = SigmoidFocal::new(2.0, Some(a)).unwrap_err();
        assert!(
            matches!(err, FocalError::InvalidAlpha { alpha } if alpha.to_bits() == a.to_bits())
        );
    }
    assert!(SigmoidFocal::new(0.0, Some(0.0)).is_ok());
    assert!(SigmoidFocal::new(7.3, Some(1.0)).is_ok());
}

#[test]
fn length_mismatches_name_the_slice() {
    let fl = SigmoidFocal::RETINANET;
    let x = [0.0f32; 5];
    let mismatch = |operand, found| FocalError::LengthMismatch {
        operand,
        expected: 5,
        found,
    };
    assert_eq!(
        fl.loss(&x, &[0u8; 4], Reduction::Sum),
        Err(mismatch(Operand::Targets, 4))
    );
    assert_eq!(
        fl.loss_weighted(&x, &[0u8; 5], &[1.0; 6], Reduction::Sum),
        Err(mismatch(Operand::Weights, 6))
    );
    assert_eq!(
        fl.loss_per_element(&x, &[0u8; 5], &mut [0.0; 3]),
        Err(mismatch(Operand::Output, 3))
    );
    assert_eq!(
        fl.loss_and_grad(&x, &[0u8; 5], Reduction::Sum, &mut [0.0; 9]),
        Err(mismatch(Operand::Grad, 9))
    );
}

#[test]
fn bad_targets_weights_and_logits_report_the_first_index() {
    let n = 21; // two full chunks and a tail
    for kernel in KERNELS {
        let fl = SigmoidFocal::RETINANET.with_kernel(kernel);
        let x = vec![0.5f32; n];
        for (i, v) in [(0, -0.01f32), (9, 1.5), (20, f32::NAN), (17, f32::INFINITY)] {
            let mut t = vec![1.0f32; n];
            t[i] = v;
            t[n - 1] = if i == n - 1 { v } else { 2.0 }; // a later bad one too
            let err = fl.loss(&x, &t, Reduction::Mean).unwrap_err();
            match err {
                FocalError::InvalidTarget { index, value } => {
                    assert_eq!(index, i);
                    assert_eq!(value.to_bits(), v.to_bits());
                }
                e => panic!("{e:?}"),
            }
        }
        let mut t8 = vec![1u8; n];
        t8[12] = 2;
        assert_eq!(
            fl.loss(&x, &t8, Reduction::Sum),
            Err(FocalError::InvalidTarget {
                index: 12,
                value: 2.0
            })
        );
        for (i, w) in [(3, -1.0f32), (16, f32::NAN), (20, f32::INFINITY)] {
            let mut weights = vec![1.0f32; n];
            weights[i] = w;
            let err = fl.loss_weighted(&x, &[1u8; 21], &weights, Reduction::Sum);
            assert!(
                matches!(err, Err(FocalError::InvalidWeight { index, .. }) if index == i),
                "{err:?}"
            );
        }
        for i in [0, 7, 8, 20] {
            let mut x = vec![0.5f32; n];
            x[i] = f32::NAN;
            let t = vec![0u8; n];
            assert_eq!(
                fl.loss(&x, &t, Reduction::Sum),
                Err(FocalError::NonFiniteLogit { index: i })
            );
            let mut g = vec![0.0; n];
            assert_eq!(
                fl.loss_and_grad(&x, &t, Reduction::Sum, &mut g),
                Err(FocalError::NonFiniteLogit { index: i })
            );
            let mut out = vec![0.0; n];
            assert_eq!(
                fl.loss_per_element(&x, &t, &mut out),
                Err(FocalError::NonFiniteLogit { index: i })
            );
        }
        // Targets are reported before weights, weights before logits.
        let mut x = vec![0.5f32; n];
        x[0] = f32::NAN;
        let mut w = vec![1.0f32; n];
        w[1] = -1.0;
        let mut t = vec![0.0f32; n];
        t[2] = 3.0;
        assert!(matches!(
            fl.loss_weighted(&x, &t, &w, Reduction::Sum),
            Err(FocalError::InvalidTarget { index: 2, .. })
        ));
        t[2] = 0.0;
        assert!(matches!(
            fl.loss_weighted(&x, &t, &w, Reduction::Sum),
            Err(FocalError::InvalidWeight { index: 1, .. })
        ));
    }
}

#[test]
fn bad_normaliser() {
    let fl = SigmoidFocal::RETINANET;
    for n in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        let err = fl.loss(&[1.0], &[1u8], Reduction::MeanOver(n)).unwrap_err();
        assert!(
            matches!(err, FocalError::InvalidNormalizer { value } if value.to_bits() == n.to_bits())
        );
        let err = fl.loss_and_grad(&[1.0], &[1u8], Reduction::MeanOver(n), &mut [0.0]);
        assert!(matches!(err, Err(FocalError::InvalidNormalizer { .. })));
    }
}

#[test]
fn errors_display_what_went_wrong() {
    let msg = FocalError::InvalidTarget {
        index: 4,
        value: 1.5,
    }
    .to_string();
    assert_eq!(msg, "target[4] = 1.5 is outside [0, 1]");
    let msg = FocalError::LengthMismatch {
        operand: Operand::Grad,
        expected: 8,
        found: 7,
    }
    .to_string();
    assert_eq!(msg, "grad has length 7 but the logits require 8");
    let e: &dyn core::error::Error = &FocalError::NonFiniteLogit { index: 0 };
    assert_eq!(e.to_string(), "logit[0] is NaN");
}

#[test]
fn reductions_and_their_gradients_are_consistent() {
    let (x, t) = batch(1001);
    for kernel in KERNELS {
        let fl = SigmoidFocal::RETINANET.with_kernel(kernel);
        let mut out = vec![0.0; x.len()];
        fl.loss_per_element(&x, &t, &mut out).unwrap();
        let per_element_sum: f64 = out.iter().map(|&v| f64::from(v)).sum();
        let sum = fl.loss(&x, &t, Reduction::Sum).unwrap();
        assert!((f64::from(sum) - per_element_sum).abs() <= 1e-6 * per_element_sum);
        let mean = fl.loss(&x, &t, Reduction::Mean).unwrap();
        assert!((f64::from(mean) - per_element_sum / 1001.0).abs() <= 1e-6 * f64::from(mean));
        let over = fl.loss(&x, &t, Reduction::MeanOver(7.0)).unwrap();
        assert!((f64::from(over) - per_element_sum / 7.0).abs() <= 1e-6 * f64::from(over));

        let mut g_sum = vec![0.0; x.len()];
        let mut g_mean = vec![0.0; x.len()];
        let mut g_over = vec![0.0; x.len()];
        assert_eq!(
            fl.loss_and_grad(&x, &t, Reduction::Sum, &mut g_sum)
                .unwrap(),
            sum
        );
        assert_eq!(
            fl.loss_and_grad(&x, &t, Reduction::Mean, &mut g_mean)
                .unwrap(),
            mean
        );
        assert_eq!(
            fl.loss_and_grad(&x, &t, Reduction::MeanOver(7.0), &mut g_over)
                .unwrap(),
            over
        );
        for i in 0..x.len() {
            let s = f64::from(g_sum[i]);
            assert!((f64::from(g_mean[i]) - s / 1001.0).abs() <= 2e-7 * (s / 1001.0).abs());
            assert!((f64::from(g_over[i]) - s / 7.0).abs() <= 2e-7 * (s / 7.0).abs());
            let (_, want) = sigmoid_focal(x[i], t[i], 2.0, Some(0.25));
            assert!(
                (s - want).abs() <= 16.0 * f64::from(f32::EPSILON) * want.abs(),
                "{i}"
            );
        }
    }
}

#[test]
fn empty_input_is_zero_never_nan() {
    let fl = SigmoidFocal::RETINANET;
    let none: [f32; 0] = [];
    for r in [Reduction::Sum, Reduction::Mean, Reduction::MeanOver(3.0)] {
        assert_eq!(fl.loss(&none, &none, r), Ok(0.0));
        assert_eq!(fl.loss_and_grad(&none, &none, r, &mut []), Ok(0.0));
    }
}

#[test]
fn alpha_weights_positives_by_alpha_and_negatives_by_one_minus_alpha() {
    let (x, t) = batch(37);
    for kernel in KERNELS {
        let plain = SigmoidFocal::new(2.0, None).unwrap().with_kernel(kernel);
        let mut base = vec![0.0; x.len()];
        plain.loss_per_element(&x, &t, &mut base).unwrap();
        let mut base_grad = vec![0.0; x.len()];
        plain
            .loss_and_grad(&x, &t, Reduction::Sum, &mut base_grad)
            .unwrap();
        for a in [0.0f32, 0.25, 0.75, 1.0] {
            let fl = SigmoidFocal::new(2.0, Some(a)).unwrap().with_kernel(kernel);
            let mut out = vec![0.0; x.len()];
            fl.loss_per_element(&x, &t, &mut out).unwrap();
            let mut grad = vec![0.0; x.len()];
            fl.loss_and_grad(&x, &t, Reduction::Sum, &mut grad).unwrap();
            for i in 0..x.len() {
                let at = if t[i] == 1.0 { a } else { 1.0 - a };
                assert_eq!(out[i].to_bits(), (at * base[i]).to_bits(), "α={a} i={i}");
                assert_eq!(grad[i], at * base_grad[i], "α={a} i={i}");
            }
        }
    }
}

#[test]
fn weights_scale_each_element_and_zero_weight_means_zero() {
    let (x, t) = batch(29);
    let w: Vec<f32> = (0..29).map(|i| (i % 4) as f32 * 0.5).collect();
    for kernel in KERNELS {
        let fl = SigmoidFocal::RETINANET.with_kernel(kernel);
        let mut base = vec![0.0; 29];
        let mut out = vec![0.0; 29];
        fl.loss_per_element(&x, &t, &mut base).unwrap();
        fl.loss_per_element_weighted(&x, &t, &w, &mut out).unwrap();
        let mut g = vec![0.0; 29];
        let mut gw = vec![0.0; 29];
        fl.loss_and_grad(&x, &t, Reduction::Sum, &mut g).unwrap();
        fl.loss_and_grad_weighted(&x, &t, &w, Reduction::Sum, &mut gw)
            .unwrap();
        for i in 0..29 {
            let rel = |a: f32, b: f32| (a - b).abs() <= 2.0 * f32::EPSILON * b.abs();
            assert!(rel(out[i], w[i] * base[i]), "{i}");
            assert!(rel(gw[i], w[i] * g[i]), "{i}");
        }
        let mean_w = fl.loss_weighted(&x, &t, &w, Reduction::Mean).unwrap();
        let sum_w: f64 = out.iter().map(|&v| f64::from(v)).sum();
        assert!((f64::from(mean_w) - sum_w / 29.0).abs() < 1e-6 * f64::from(mean_w));
    }
    // A zero weight (or α_t = 0) silences even an infinite loss.
    let fl = SigmoidFocal::new(2.0, Some(0.0)).unwrap();
    let x = [f32::NEG_INFINITY];
    assert_eq!(fl.loss(&x, &[1u8], Reduction::Sum), Ok(0.0));
    let fl = SigmoidFocal::new(2.0, None).unwrap();
    assert_eq!(
        fl.loss_weighted(&x, &[1u8], &[0.0], Reduction::Sum),
        Ok(0.0)
    );
    assert_eq!(fl.loss(&x, &[1u8], Reduction::Sum), Ok(f32::INFINITY));
}

#[test]
fn u8_and_f32_targets_give_identical_bits() {
    let (x, t) = batch(77);
    let t8: Vec<u8> = t.iter().map(|&v| v as u8).collect();
    for kernel in KERNELS {
        let fl = SigmoidFocal::new(2.5, Some(0.25))
            .unwrap()
            .with_kernel(kernel);
        let mut a = vec![0.0; 77];
        let mut b = vec![0.0; 77];
        let la = fl.loss_and_grad(&x, &t, Reduction::Mean, &mut a).unwrap();
        let lb = fl.loss_and_grad(&x, &t8, Reduction::Mean, &mut b).unwrap();
        assert_eq!(la.to_bits(), lb.to_bits());
        assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
    }
}

#[test]
fn simd_and_libm_agree() {
    let (x, mut t) = batch(500);
    for (i, v) in t.iter_mut().enumerate().filter(|(i, _)| i % 5 == 0) {
        *v = (i % 11) as f32 / 10.0; // soft targets mixed in
    }
    for g in [0.0f32, 0.5, 1.0, 2.0, 3.0, 4.0] {
        let simd = SigmoidFocal::new(g, Some(0.25)).unwrap();
        let libm = simd.with_kernel(Kernel::Libm);
        let mut a = vec![0.0; 500];
        let mut b = vec![0.0; 500];
        simd.loss_per_element(&x, &t, &mut a).unwrap();
        libm.loss_per_element(&x, &t, &mut b).unwrap();
        for i in 0..500 {
            assert!(
                (a[i] - b[i]).abs() <= 32.0 * f32::EPSILON * b[i].abs(),
                "γ={g} i={i}"
            );
        }
    }
}

#[test]
fn saturated_and_infinite_logits_give_limits_and_finite_gradients() {
    let xs = [
        30.0f32,
        -30.0,
        88.0,
        -88.0,
        100.0,
        -100.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ];
    for kernel in KERNELS {
        for g in [
            0.0f32, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0, 2e6, 1e30,
        ] {
            for alpha in [None, Some(0.25)] {
                let fl = SigmoidFocal::new(g, alpha).unwrap().with_kernel(kernel);
                for t in [0.0f32, 1.0, 0.3] {
                    let ts = [t; 8];
                    let mut out = [0.0; 8];
                    let mut grad = [0.0; 8];
                    fl.loss_per_element(&xs, &ts, &mut out).unwrap();
                    fl.loss_and_grad(&xs, &ts, Reduction::Sum, &mut grad)
                        .unwrap();
                    for i in 0..8 {
                        let what = format!("{kernel:?} x={} t={t} γ={g} α={alpha:?}", xs[i]);
                        assert!(grad[i].is_finite(), "{what}: grad {}", grad[i]);
                        assert!(!out[i].is_nan() && out[i] >= 0.0, "{what}: loss {}", out[i]);
                        let right = (t == 1.0 && xs[i] > 0.0) || (t == 0.0 && xs[i] < 0.0);
                        if xs[i].is_infinite() {
                            let at = alpha.map_or(1.0, |a| {
                                if t == 1.0 {
                                    a
                                } else if t == 0.0 {
                                    1.0 - a
                                } else {
                                    a * t + (1.0 - a) * (1.0 - t)
                                }
                            });
                            if right {
                                assert_eq!((out[i], grad[i]), (0.0, 0.0), "{what}");
                            } else if t == 0.0 || t == 1.0 {
                                assert_eq!(out[i], f32::INFINITY, "{what}");
                                let s = if t == 1.0 { 1.0 } else { -1.0 };
                                assert_eq!(grad[i], -s * at, "{what}");
                            } else {
                                assert_eq!(out[i], f32::INFINITY, "{what}");
                            }
                        } else if right {
                            // Saturated but finite: the loss is tiny, never negative, and the
                            // gradient points the right way (or underflows to zero).
                            assert!(grad[i] * (2.0 * t - 1.0) <= 0.0, "{what}");
                        }
                    }
                }
            }
        }
    }
}

/// Hyper-parameters set by name build the same config as `new`'s positional `(gamma, alpha)`,
/// and keep the kernel; `mean_over_count` clamps an empty count to 1.
#[test]
fn named_hyper_parameters_and_counted_means() {
    let named = SigmoidFocal::RETINANET
        .with_kernel(Kernel::Libm)
        .with_gamma(0.5)
        .unwrap()
        .with_alpha(Some(1.0))
        .unwrap();
    let positional = SigmoidFocal::new(0.5, Some(1.0))
        .unwrap()
        .with_kernel(Kernel::Libm);
    assert_eq!(named, positional);
    assert_eq!(
        SigmoidFocal::RETINANET.with_alpha(Some(-0.1)),
        Err(FocalError::InvalidAlpha { alpha: -0.1 })
    );
    let (x, t) = ([0.3f32, -2.0, 4.0], [1u8, 0, 0]);
    let sum = named.loss(&x, &t, Reduction::Sum).unwrap();
    let none = named.loss(&x, &t, Reduction::mean_over_count(0)).unwrap();
    assert_eq!(none.to_bits(), sum.to_bits());
    let two = named.loss(&x, &t, Reduction::mean_over_count(2)).unwrap();
    assert_eq!(two, named.loss(&x, &t, Reduction::MeanOver(2.0)).unwrap());
    assert_eq!(Reduction::default(), Reduction::Mean);
    assert_eq!(Operand::Alpha.to_string(), "alpha");
}

/// Fuzzing found (target `sigmoid`): `Reduction::MeanOver(f32::MAX)` gave a NaN loss (even
/// for no elements) and NaN gradients: the division's refinement split the divisor, and the
/// split overflowed. The loss is now the plain quotient: 0 for no elements, and a gradient
/// scaled by `1 / f32::MAX`.
#[test]
fn huge_normaliser_gives_no_nan() {
    for kernel in KERNELS {
        let fl = SigmoidFocal::RETINANET.with_kernel(kernel);
        let huge = Reduction::MeanOver(f32::MAX);
        assert_eq!(fl.loss(&[], &[0u8; 0], huge), Ok(0.0));
        let mut grad = [0.0f32; 2];
        let loss = fl
            .loss_and_grad(&[0.5, -3.0], &[1u8, 0], huge, &mut grad)
            .unwrap();
        assert!(loss.is_finite() && loss >= 0.0, "{kernel:?}: {loss}");
        assert!(grad.iter().all(|g| g.is_finite()), "{kernel:?}: {grad:?}");
    }
}

/// Fuzzing found (target `sigmoid`, `Kernel::Libm`): an easy example with a huge margin and
/// a γ taken through `exp(−γ·softplus(z))` (γ = 0.80773634, x = −1.088476e19, t = 0) gave a
/// NaN loss. The exponent `−γ·relu` is carried exactly as `hi + lo`, and beyond about 2^31
/// the rounding error `lo` itself overflows `e^lo` while `e^hi` is 0: `0·∞`. `Kernel::Libm`'s
/// `e^(hi + lo)` now takes the limit of the sum out of range, as `Kernel::Simd`'s does. The
/// factor underflows, so loss and gradient are exactly the reference's 0.
#[test]
fn huge_margin_with_real_gamma_gives_zero_not_nan() {
    for kernel in KERNELS {
        for gamma in [0.807_736_34, 0.25, 2.5, 3.0, 5.0, 1000.5] {
            let fl = SigmoidFocal::new(gamma, None).unwrap().with_kernel(kernel);
            for x in [-1.088_476e19_f32, -3.0e9, -1.0e12, -f32::MAX] {
                for (x, t) in [(x, 0.0f32), (-x, 1.0)] {
                    let (want, want_grad) = sigmoid_focal(x, t, gamma, None);
                    let mut grad = [1.0f32];
                    let loss = fl
                        .loss_and_grad(&[x], &[t], Reduction::Sum, &mut grad)
                        .unwrap();
                    let at = format!("{kernel:?} γ {gamma} x {x} t {t}");
                    assert_eq!((want, want_grad), (0.0, 0.0), "reference at {at}");
                    assert_eq!(loss, 0.0, "{at}");
                    assert_eq!(grad[0], 0.0, "{at}");
                }
            }
        }
    }
}
