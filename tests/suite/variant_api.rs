//! The variants' API: validation and every new error, the identities with the focal loss,
//! the target types, limits and finiteness at ±∞, and the `f64` references' gradients against
//! finite differences.

use focal_loss::{
    Asymmetric, FocalError, FocalStar, Kernel, PositiveNormaliser, QualityFocal, Reduction,
    SigmoidFocal, Varifocal,
};
use testkit::variants::reference as r;
use testkit::vectors::VariantConfig;

const KERNELS: [Kernel; 2] = [Kernel::Simd, Kernel::Libm];

/// Logits from −60 to 60 and the infinities.
fn logits() -> Vec<f32> {
    let mut x: Vec<f32> = (-240..=240).map(|i| i as f32 * 0.25).collect();
    x.extend([
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.0,
        -0.0,
        1e-7,
        200.0,
        -200.0,
    ]);
    x
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|v| v.to_bits()).collect()
}

/// Per element losses and gradient (of the sum) of `config` on `x`, `t`.
fn run(config: VariantConfig, kernel: Kernel, x: &[f32], t: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let mut loss = vec![0.0; x.len()];
    let mut grad = vec![0.0; x.len()];
    config.run(kernel, x, t, &mut loss, &mut grad).unwrap();
    (loss, grad)
}

#[test]
fn constructors_validate_every_parameter() {
    use FocalError::*;
    for g in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        assert!(matches!(
            FocalStar::new(g, 0.0, None),
            Err(InvalidStarGamma { .. })
        ));
    }
    for b in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        assert!(matches!(
            FocalStar::new(1.0, b, None),
            Err(InvalidStarBeta { .. })
        ));
    }
    assert_eq!(
        FocalStar::new(1.0, -3.0, Some(-0.1)),
        Err(InvalidAlpha { alpha: -0.1 })
    );
    assert!(FocalStar::new(1e-30, -1e30, Some(1.0)).is_ok());
    for b in [-0.5, f32::NAN, f32::INFINITY] {
        assert!(matches!(QualityFocal::new(b), Err(InvalidBeta { .. })));
    }
    assert!(QualityFocal::new(0.0).is_ok());
    assert!(matches!(
        Varifocal::new(f32::NAN, 2.0, true),
        Err(InvalidAlpha { .. })
    ));
    assert!(matches!(
        Varifocal::new(0.5, f32::INFINITY, false),
        Err(InvalidGamma { .. })
    ));
    assert!(Varifocal::new(0.0, 0.0, false).is_ok());
    assert_eq!(
        Asymmetric::new(-1.0, 4.0, 0.05),
        Err(InvalidGamma { gamma: -1.0 })
    );
    assert!(matches!(
        Asymmetric::new(1.0, f32::NAN, 0.05),
        Err(InvalidGamma { .. })
    ));
    for clip in [1.0, -0.01, f32::NAN, 2.0] {
        assert!(matches!(
            Asymmetric::new(1.0, 4.0, clip),
            Err(InvalidClip { .. })
        ));
    }
    assert!(Asymmetric::new(0.0, 0.0, 0.0).is_ok());
    // Every new variant has a message.
    for e in [
        InvalidStarGamma { gamma: 0.0 },
        InvalidStarBeta { beta: f32::NAN },
        InvalidBeta { beta: -1.0 },
        InvalidClip { clip: 1.0 },
        NonBinaryTarget {
            index: 3,
            value: 0.5,
        },
    ] {
        assert!(!format!("{e}").is_empty());
    }
    assert_eq!(
        format!(
            "{}",
            NonBinaryTarget {
                index: 3,
                value: 0.5
            }
        ),
        "target[3] = 0.5 is neither 0 nor 1"
    );
}

#[test]
fn inputs_are_validated_in_the_documented_order() {
    let asl = Asymmetric::TIMM;
    let x = [0.0f32, 1.0, f32::NAN, 2.0];
    assert_eq!(
        asl.loss(&x, &[0.0f32, 0.5, 1.0, 2.0], Reduction::Sum),
        Err(FocalError::NonBinaryTarget {
            index: 1,
            value: 0.5
        })
    );
    assert_eq!(
        asl.loss(&x, &[0.0f32, 1.0, 1.0, 2.0], Reduction::Sum),
        Err(FocalError::InvalidTarget {
            index: 3,
            value: 2.0
        })
    );
    assert_eq!(
        asl.loss(&x, &[0u8, 1, 1, 2], Reduction::Sum),
        Err(FocalError::InvalidTarget {
            index: 3,
            value: 2.0
        })
    );
    assert_eq!(
        asl.loss(&x, &[0u8, 1, 1, 0], Reduction::Sum),
        Err(FocalError::NonFiniteLogit { index: 2 })
    );
    let mut short = [0.0f32; 3];
    assert!(matches!(
        asl.loss_and_grad(&x, &[0u8; 4], Reduction::Sum, &mut short),
        Err(FocalError::LengthMismatch { .. })
    ));
    assert!(matches!(
        asl.loss_per_element(&x, &[0u8; 4], &mut short),
        Err(FocalError::LengthMismatch { .. })
    ));
    assert!(matches!(
        asl.loss(&x, &[0u8; 4], Reduction::MeanOver(0.0)),
        Err(FocalError::InvalidNormalizer { .. })
    ));
    // Soft targets are fine where the loss defines them; outside [0, 1] they are not.
    let q = [0.3f32, 1.5];
    for result in [
        QualityFocal::new(2.0)
            .unwrap()
            .loss(&[0.0, 0.0], &q, Reduction::Sum),
        Varifocal::MMDET.loss(&[0.0, 0.0], &q, Reduction::Sum),
        FocalStar::new(1.0, 0.0, None)
            .unwrap()
            .loss(&[0.0, 0.0], &q, Reduction::Sum),
    ] {
        assert_eq!(
            result,
            Err(FocalError::InvalidTarget {
                index: 1,
                value: 1.5
            })
        );
    }
    let nan = [0.3f32, f32::NAN];
    assert!(matches!(
        Varifocal::MMDET.loss(&[0.0, 0.0], &nan, Reduction::Sum),
        Err(FocalError::InvalidTarget { index: 1, .. })
    ));
}

/// QFL with q ∈ {0, 1} and β = γ is the α-free focal loss: the same bits.
#[test]
fn quality_focal_with_hard_scores_is_the_focal_loss() {
    let x = logits();
    let t: Vec<f32> = (0..x.len()).map(|i| (i % 2) as f32).collect();
    for beta in [0.0f32, 0.5, 1.0, 2.0, 2.5, 4.0] {
        for kernel in KERNELS {
            let (ql, qg) = run(VariantConfig::Quality { beta }, kernel, &x, &t);
            let fl = SigmoidFocal::new(beta, None).unwrap().with_kernel(kernel);
            let (mut fl_loss, mut fl_grad) = (vec![0.0; x.len()], vec![0.0; x.len()]);
            fl.loss_per_element(&x, &t, &mut fl_loss).unwrap();
            fl.loss_and_grad(&x, &t, Reduction::Sum, &mut fl_grad)
                .unwrap();
            assert_eq!(bits(&ql), bits(&fl_loss), "β={beta} {kernel:?}");
            assert_eq!(bits(&qg), bits(&fl_grad), "β={beta} {kernel:?}");
        }
    }
}

/// Varifocal's negatives are α times the α-free focal loss of a 0 target; ASL's positives and
/// unclipped negatives are the focal loss with γ+ and γ−.
#[test]
fn varifocal_and_asymmetric_reduce_to_the_focal_loss() {
    let x = logits();
    for kernel in KERNELS {
        let fl = |g: f32, t: f32| {
            let fl = SigmoidFocal::new(g, None).unwrap().with_kernel(kernel);
            let mut loss = vec![0.0; x.len()];
            fl.loss_per_element(&x, &vec![t; x.len()], &mut loss)
                .unwrap();
            loss
        };
        let zeros = vec![0.0f32; x.len()];
        let (vl, _) = run(
            VariantConfig::Varifocal {
                alpha: 1.0,
                gamma: 2.0,
                iou_weighted: true,
            },
            kernel,
            &x,
            &zeros,
        );
        assert_eq!(bits(&vl), bits(&fl(2.0, 0.0)));
        let asl = VariantConfig::Asymmetric {
            gamma_pos: 1.0,
            gamma_neg: 3.0,
            clip: 0.0,
        };
        assert_eq!(bits(&run(asl, kernel, &x, &zeros).0), bits(&fl(3.0, 0.0)));
        let ones = vec![1.0f32; x.len()];
        let asl = VariantConfig::Asymmetric {
            gamma_pos: 1.0,
            gamma_neg: 3.0,
            clip: 0.05,
        };
        assert_eq!(bits(&run(asl, kernel, &x, &ones).0), bits(&fl(1.0, 1.0)));
    }
}

/// FL*'s gradient has the sign of 1 − 2t everywhere (0 at t = 1/2), is bounded by
/// α_t·|2t − 1|, and FL* with γ = 1, β = 0 is binary cross-entropy for hard targets.
#[test]
fn focal_star_gradient_sign_and_bce() {
    let x = logits();
    for t in [0.0f32, 0.1, 0.5, 0.75, 1.0] {
        let ts = vec![t; x.len()];
        for (gamma, beta) in [(1.0, 0.0), (2.0, 1.0), (0.5, -2.0), (4.0, 30.0)] {
            for kernel in KERNELS {
                let config = VariantConfig::FocalStar {
                    gamma,
                    beta,
                    alpha: Some(0.25),
                };
                let (loss, grad) = run(config, kernel, &x, &ts);
                let at = 0.25 * t + 0.75 * (1.0 - t);
                for (i, g) in grad.iter().enumerate() {
                    assert!(g.is_finite() && !loss[i].is_nan());
                    assert!(g.abs() <= at * (2.0 * t - 1.0).abs() * (1.0 + 1e-6));
                    match t {
                        0.5 => assert_eq!(*g, 0.0),
                        t if t > 0.5 => assert!(*g <= 0.0, "x={} {g}", x[i]),
                        _ => assert!(*g >= 0.0, "x={} {g}", x[i]),
                    }
                }
            }
        }
    }
    let bce = SigmoidFocal::new(0.0, None).unwrap();
    let star = FocalStar::new(1.0, 0.0, None).unwrap();
    let x: Vec<f32> = (-200..=200).map(|i| i as f32 * 0.37).collect();
    let t: Vec<u8> = (0..x.len()).map(|i| u8::from(i % 3 == 0)).collect();
    for kernel in KERNELS {
        let a = bce
            .with_kernel(kernel)
            .loss(&x, &t, Reduction::Sum)
            .unwrap();
        let b = star
            .with_kernel(kernel)
            .loss(&x, &t, Reduction::Sum)
            .unwrap();
        assert!((a - b).abs() <= 2e-6 * a, "{kernel:?}: {a} vs {b}");
    }
}

/// `u8` targets give the bits of `f32` targets 0 / 1.
#[test]
fn u8_targets_match_f32_targets() {
    let x = logits();
    let t8: Vec<u8> = (0..x.len()).map(|i| u8::from(i % 3 == 0)).collect();
    let t32: Vec<f32> = t8.iter().map(|&t| f32::from(t)).collect();
    for kernel in KERNELS {
        let fs = FocalStar::new(2.5, 0.5, Some(0.3))
            .unwrap()
            .with_kernel(kernel);
        let asl = Asymmetric::new(0.5, 2.5, 0.1).unwrap().with_kernel(kernel);
        let mut g8 = vec![0.0; x.len()];
        let mut g32 = vec![0.0; x.len()];
        let l8 = fs.loss_and_grad(&x, &t8, Reduction::Mean, &mut g8).unwrap();
        let l32 = fs
            .loss_and_grad(&x, &t32, Reduction::Mean, &mut g32)
            .unwrap();
        assert_eq!((l8.to_bits(), bits(&g8)), (l32.to_bits(), bits(&g32)));
        let l8 = asl
            .loss_and_grad(&x, &t8, Reduction::Mean, &mut g8)
            .unwrap();
        let l32 = asl
            .loss_and_grad(&x, &t32, Reduction::Mean, &mut g32)
            .unwrap();
        assert_eq!((l8.to_bits(), bits(&g8)), (l32.to_bits(), bits(&g32)));
        let mut out8 = vec![0.0; x.len()];
        let mut out32 = vec![0.0; x.len()];
        asl.loss_per_element(&x, &t8, &mut out8).unwrap();
        asl.loss_per_element(&x, &t32, &mut out32).unwrap();
        assert_eq!(bits(&out8), bits(&out32));
    }
}

/// Limits at ±∞ and finite gradients everywhere, for exponents from 0 to 5 and fractional
/// ones (where autograd versions return NaN).
#[test]
fn limits_and_finite_gradients() {
    let x = logits();
    let mut configs = Vec::new();
    for e in [0.0f32, 0.25, 0.5, 1.0, 1.5, 2.0, 5.0] {
        configs.push((
            VariantConfig::FocalStar {
                gamma: e.max(0.25),
                beta: e,
                alpha: None,
            },
            0,
        ));
        configs.push((VariantConfig::Quality { beta: e }, 1));
        configs.push((
            VariantConfig::Varifocal {
                alpha: 0.75,
                gamma: e,
                iou_weighted: true,
            },
            1,
        ));
        configs.push((
            VariantConfig::Asymmetric {
                gamma_pos: e,
                gamma_neg: e,
                clip: 0.05,
            },
            0,
        ));
        configs.push((
            VariantConfig::Asymmetric {
                gamma_pos: e,
                gamma_neg: e,
                clip: 0.7,
            },
            0,
        ));
    }
    for (config, soft) in configs {
        let targets: &[f32] = if soft == 1 || matches!(config, VariantConfig::FocalStar { .. }) {
            &[0.0, 1.0, 1e-30, 0.05, 0.5, 0.9, 0.999_999_9]
        } else {
            &[0.0, 1.0]
        };
        for &t in targets {
            let ts = vec![t; x.len()];
            for kernel in KERNELS {
                let (loss, grad) = run(config, kernel, &x, &ts);
                for i in 0..x.len() {
                    assert!(
                        grad[i].is_finite(),
                        "{config:?} {kernel:?} x={} t={t}",
                        x[i]
                    );
                    assert!(
                        loss[i] >= 0.0,
                        "{config:?} {kernel:?} x={} t={t}: {}",
                        x[i],
                        loss[i]
                    );
                }
            }
        }
    }
    // The documented limits.
    let inf = [f32::NEG_INFINITY, f32::INFINITY];
    for kernel in KERNELS {
        let (l, g) = run(
            VariantConfig::Quality { beta: 2.0 },
            kernel,
            &inf,
            &[0.25, 0.25],
        );
        assert_eq!(l, [f32::INFINITY, f32::INFINITY]);
        assert_eq!(g[0], -(0.25f32 * 0.25 * 0.25));
        assert_eq!(g[1], 0.75 * 0.75 * 0.75);
        let asl = VariantConfig::Asymmetric {
            gamma_pos: 1.0,
            gamma_neg: 2.0,
            clip: 0.25,
        };
        let (l, g) = run(asl, kernel, &inf, &[0.0, 0.0]);
        let want = 0.75f64 * 0.75 * -(0.25f64.ln());
        assert_eq!(l[0], 0.0);
        assert!((f64::from(l[1]) - want).abs() <= 4e-7 * want, "{}", l[1]);
        assert_eq!(g, [0.0, 0.0]);
        let (l, g) = run(
            VariantConfig::Varifocal {
                alpha: 0.0,
                gamma: 2.0,
                iou_weighted: true,
            },
            kernel,
            &inf,
            &[0.0, 0.0],
        );
        assert_eq!((l, g), (vec![0.0, 0.0], vec![0.0, 0.0]));
    }
}

/// The `f64` references' gradients are the derivatives of their losses.
#[test]
fn f64_references_match_finite_differences() {
    let check = |name: &str, f: &dyn Fn(f64) -> r::Value| {
        for i in -80..=80 {
            let x = f64::from(i) * 0.2 + 0.0137;
            let v = f(x);
            if v.grad_scale.is_infinite() {
                continue;
            }
            let h = 1e-6 * (1.0 + x.abs());
            let fd = (f(x + h).loss - f(x - h).loss) / (2.0 * h);
            let scale = v.grad_scale.max(1e-3 * v.loss).max(1e-12);
            assert!(
                (fd - v.grad).abs() <= 1e-5 * scale.max(fd.abs()) + 1e-9,
                "{name} x={x}: analytic {} vs fd {fd}",
                v.grad
            );
        }
    };
    for t in [0.0, 1.0, 0.1, 0.5, 0.8] {
        for (g, b) in [(1.0, 0.0), (2.0, 1.0), (0.5, -1.0)] {
            check("FL*", &|x| r::focal_star(x, t, g, b, Some(0.25)));
        }
        for beta in [0.0, 0.5, 1.0, 2.0, 2.5] {
            check("QFL", &|x| r::quality_focal(x, t, beta));
            check("VFL", &|x| r::varifocal(x, t, 0.75, beta, beta != 1.0));
        }
    }
    for t in [0.0, 1.0] {
        for (gp, gn, m) in [
            (1.0, 4.0, 0.05),
            (0.0, 0.5, 0.2),
            (2.0, 1.0, 0.6),
            (1.0, 2.0, 0.0),
        ] {
            check("ASL", &|x| r::asymmetric(x, t, gp, gn, m));
        }
    }
}

/// The kernels' gradients match central differences of the `f64` reference losses.
#[test]
fn kernel_gradients_match_finite_differences_of_reference() {
    use testkit::variants::accuracy::{reference, reference64};
    for (config, targets) in testkit::variants::accuracy::grid() {
        for &t in targets {
            for kernel in KERNELS {
                for i in -40..=40 {
                    let x = i as f32 * 0.3 + 0.05;
                    let (_, grad) = run(config, kernel, &[x], &[t]);
                    let want = reference(&config, x, t);
                    if want.grad_scale.is_infinite() {
                        continue;
                    }
                    let h = 1e-5;
                    let f = |x: f64| reference64(&config, x, f64::from(t)).loss;
                    let xd = f64::from(x);
                    let fd = (f(xd + h) - f(xd - h)) / (2.0 * h);
                    assert!(
                        (f64::from(grad[0]) - fd).abs() <= 1e-4 * want.grad_scale.max(1e-3),
                        "{kernel:?} {config:?} x={x} t={t}: {} vs fd {fd}",
                        grad[0]
                    );
                }
            }
        }
    }
}

/// detectron2's recurrence, from 100.
#[test]
fn positive_normaliser_follows_detectron2() {
    let mut norm = PositiveNormaliser::new();
    let mut exact = 100.0f64;
    for count in [0usize, 1, 5, 300, 0, 0, 17, 1_000_000] {
        exact = 0.9 * exact + 0.1 * count.max(1) as f64;
        let n = norm.update(count);
        assert!(
            (f64::from(n) - exact).abs() <= 1e-6 * exact,
            "{n} vs {exact}"
        );
        assert_eq!(n, norm.value());
        assert!(
            SigmoidFocal::RETINANET
                .loss(&[0.0], &[1u8], Reduction::MeanOver(n))
                .is_ok()
        );
    }
}

/// Beyond |x| = 87.3 the smaller sigmoid is subnormal; a factor such as ASL's `1/(1 − p_m)`
/// lifts it into the normal range, and the gradient keeps the bound measured with that
/// sigmoid's absolute error (proptest found x = 99.12735 with clip 0.0027, γ− = 0).
#[test]
fn gradients_through_subnormal_sigmoids_keep_the_bound() {
    use testkit::ulp::{ulp_error, ulps_of};
    use testkit::variants::accuracy::reference;
    let configs = [
        (
            VariantConfig::Asymmetric {
                gamma_pos: 0.0,
                gamma_neg: 0.0,
                clip: 0.002_673_663_7,
            },
            0.0,
        ),
        (
            VariantConfig::Asymmetric {
                gamma_pos: 0.5,
                gamma_neg: 1.0,
                clip: 1e-6,
            },
            0.0,
        ),
        (VariantConfig::Quality { beta: 2.0 }, 0.9),
        (
            VariantConfig::Varifocal {
                alpha: 0.75,
                gamma: 2.0,
                iou_weighted: true,
            },
            0.0,
        ),
    ];
    let x: Vec<f32> = (8500..=10400).map(|i| i as f32 * 0.01).collect();
    for (config, t) in configs {
        for kernel in KERNELS {
            let (_, grad) = run(config, kernel, &x, &vec![t; x.len()]);
            for (i, &g) in grad.iter().enumerate() {
                let want = reference(&config, x[i], t);
                if let Some(e) =
                    ulps_of(g, want.grad, want.grad_scale).or_else(|| ulp_error(g, want.grad))
                {
                    assert!(
                        e <= 16.0,
                        "{kernel:?} {config:?} x={}: {g} vs {} ({e:.1} ULP)",
                        x[i],
                        want.grad
                    );
                }
            }
        }
    }
}

/// Fuzzing found (target `variants`, `Kernel::Libm`): Quality Focal Loss with β = 4.9187455
/// at `x = −1.904581e17`, `q = 0` gave a NaN loss, through the focal loss's
/// `exp(−β·softplus(z))` carried as `hi + lo`, whose rounding error `lo` overflowed `e^lo`
/// while `e^hi` was 0 (see `tests/suite/sigmoid_api.rs`, `huge_margin_with_real_gamma_gives_zero_not_nan`).
/// The loss and gradient are the reference's 0.
#[test]
fn quality_focal_at_a_huge_margin_gives_zero_not_nan() {
    for kernel in KERNELS {
        for beta in [4.918_745_5, 0.5, 3.0] {
            let qfl = QualityFocal::new(beta).unwrap().with_kernel(kernel);
            for (x, q) in [
                (-1.904_581e17_f32, 0.0f32),
                (1.904_581e17, 1.0),
                (-3.0e9, 0.0),
            ] {
                let want = r::quality_focal(f64::from(x), f64::from(q), f64::from(beta));
                let mut grad = [1.0f32];
                let loss = qfl
                    .loss_and_grad(&[x], &[q], Reduction::Sum, &mut grad)
                    .unwrap();
                let at = format!("{kernel:?} β {beta} x {x} q {q}");
                assert_eq!((want.loss, want.grad), (0.0, 0.0), "reference at {at}");
                assert_eq!(loss, 0.0, "{at}");
                assert_eq!(grad[0], 0.0, "{at}");
            }
        }
    }
}
