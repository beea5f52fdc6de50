//! Property tests of the variants: random logits, targets and hyper-parameters against the
//! `f64` references (within 16 ULP of their scales for integer exponents, 24 otherwise),
//! finite gradients, and validation that accepts exactly the documented domains.

use focal_loss::{Asymmetric, FocalStar, Kernel, QualityFocal, Varifocal};
use proptest::prelude::*;
use testkit::ulp::{ulp_error, ulps_of};
use testkit::variants::accuracy::reference;
use testkit::vectors::VariantConfig;

fn kernel() -> impl Strategy<Value = Kernel> {
    prop_oneof![Just(Kernel::Simd), Just(Kernel::Libm)]
}

fn exponent() -> impl Strategy<Value = f32> {
    prop_oneof![(0u8..=5).prop_map(f32::from), 0.0f32..5.0]
}

fn config() -> impl Strategy<Value = VariantConfig> {
    let alpha = prop_oneof![Just(None), (0.0f32..=1.0).prop_map(Some)];
    prop_oneof![
        (
            prop_oneof![(1u8..=5).prop_map(f32::from), 0.05f32..5.0],
            -5.0f32..5.0,
            alpha
        )
            .prop_map(|(gamma, beta, alpha)| VariantConfig::FocalStar {
                gamma,
                beta,
                alpha
            }),
        exponent().prop_map(|beta| VariantConfig::Quality { beta }),
        (0.0f32..=1.0, exponent(), any::<bool>()).prop_map(|(alpha, gamma, iou_weighted)| {
            VariantConfig::Varifocal {
                alpha,
                gamma,
                iou_weighted,
            }
        }),
        (
            exponent(),
            exponent(),
            prop_oneof![Just(0.0f32), 0.0f32..0.99]
        )
            .prop_map(|(gamma_pos, gamma_neg, clip)| VariantConfig::Asymmetric {
                gamma_pos,
                gamma_neg,
                clip
            }),
    ]
}

fn target(config: &VariantConfig) -> BoxedStrategy<f32> {
    match config {
        VariantConfig::Asymmetric { .. } => prop_oneof![Just(0.0f32), Just(1.0f32)].boxed(),
        _ => prop_oneof![Just(0.0f32), Just(1.0f32), 0.0f32..=1.0].boxed(),
    }
}

/// `|e·ln b|` for a fractional exponent `e` applied by `exp(e·ln b)` to a computed base `b`.
fn exponent_size(config: &VariantConfig, x: f32, t: f32) -> f64 {
    let (x, t) = (f64::from(x), f64::from(t));
    let sig = testkit::sigmoid::reference::sigmoid;
    let (e, b) = match *config {
        VariantConfig::Quality { beta } if t != 0.0 && t != 1.0 => (beta, (t - sig(x)).abs()),
        VariantConfig::Asymmetric {
            gamma_neg, clip, ..
        } if t == 0.0 && clip > 0.0 => (gamma_neg, sig(x) - f64::from(clip)),
        _ => return 0.0,
    };
    if e.fract() == 0.0 || b <= 0.0 {
        return 0.0;
    }
    (f64::from(e) * b.ln()).abs()
}

/// The error of `got` in ULP of `scale` (of `want` where `scale` is not a normal `f32`).
fn ulps(got: f32, want: f64, scale: f64) -> Option<f64> {
    if scale.is_infinite() {
        return None;
    }
    ulps_of(got, want, scale).or_else(|| ulp_error(got, want))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn matches_f64_reference_and_is_finite(
        kernel in kernel(),
        (config, t) in config().prop_flat_map(|c| (Just(c), target(&c))),
        xs in proptest::collection::vec(-100.0f32..100.0, 1..40),
    ) {
        let ts = vec![t; xs.len()];
        let mut loss = vec![0.0f32; xs.len()];
        let mut grad = vec![0.0f32; xs.len()];
        config.run(kernel, &xs, &ts, &mut loss, &mut grad).unwrap();
        for i in 0..xs.len() {
            let bound = 16.0 + exponent_size(&config, xs[i], t);
            prop_assert!(grad[i].is_finite() && loss[i] >= 0.0);
            let want = reference(&config, xs[i], t);
            if let Some(e) = ulps(loss[i], want.loss, want.loss_scale) {
                prop_assert!(e <= bound, "loss {:?} x={} t={}: {} vs {} ({:.1} ULP)", config, xs[i], t, loss[i], want.loss, e);
            }
            if let Some(e) = ulps(grad[i], want.grad, want.grad_scale) {
                prop_assert!(e <= bound, "grad {:?} x={} t={}: {} vs {} ({:.1} ULP)", config, xs[i], t, grad[i], want.grad, e);
            }
        }
    }

    #[test]
    fn validation_accepts_exactly_the_domains(a in any::<f32>(), b in any::<f32>(), c in any::<f32>()) {
        let unit = (0.0..=1.0).contains(&c);
        let exponent = |v: f32| v.is_finite() && v >= 0.0;
        prop_assert_eq!(
            FocalStar::new(a, b, Some(c)).is_ok(),
            a.is_finite() && a > 0.0 && b.is_finite() && unit
        );
        prop_assert_eq!(QualityFocal::new(a).is_ok(), exponent(a));
        prop_assert_eq!(Varifocal::new(c, a, true).is_ok(), unit && exponent(a));
        prop_assert_eq!(
            Asymmetric::new(a, b, c).is_ok(),
            exponent(a) && exponent(b) && (0.0..1.0).contains(&c)
        );
    }
}
