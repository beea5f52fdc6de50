//! Property tests against the `f64` reference, over random logits, targets, γ and α.
//!
//! Error model checked here: within 16 ULP for hard targets and for γ ∈ {0, 1, 2, 3}; for soft
//! targets with other γ, within `16 + |γ·ln(1 − p_t)|` ULP (there `exp(γ·ln(1 − p_t))` takes
//! a rounded `ln`, whose error `exp` scales by the exponent's size; `|ln(1 − p_t)|` is at most
//! `ln(2 / min(t, 1 − t))`).

use focal_loss::{Kernel, Reduction, SigmoidFocal};
use proptest::prelude::*;
use testkit::sigmoid::reference::{exponent_size, sigmoid_focal, soft_grad_scale};
use testkit::ulp::{ulp_at, ulp_error};

fn kernel() -> impl Strategy<Value = Kernel> {
    prop_oneof![Just(Kernel::Simd), Just(Kernel::Libm)]
}

fn gamma() -> impl Strategy<Value = f32> {
    prop_oneof![(0u8..=5).prop_map(f32::from), 0.0f32..5.0,]
}

fn target() -> impl Strategy<Value = f32> {
    prop_oneof![Just(0.0f32), Just(1.0f32), 0.0f32..=1.0]
}

fn alpha() -> impl Strategy<Value = Option<f32>> {
    prop_oneof![Just(None), (0.0f32..=1.0).prop_map(Some)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn matches_f64_reference(
        kernel in kernel(),
        g in gamma(),
        a in alpha(),
        xs in proptest::collection::vec(-100.0f32..100.0, 1..40),
        t in target(),
    ) {
        let fl = SigmoidFocal::new(g, a).unwrap().with_kernel(kernel);
        let ts = vec![t; xs.len()];
        let mut out = vec![0.0f32; xs.len()];
        let mut grad = vec![0.0f32; xs.len()];
        fl.loss_per_element(&xs, &ts, &mut out).unwrap();
        fl.loss_and_grad(&xs, &ts, Reduction::Sum, &mut grad).unwrap();
        let exact = (g.fract() == 0.0 && g <= 3.0) || t == 0.0 || t == 1.0;
        for i in 0..xs.len() {
            let x = xs[i];
            let bound = if exact { 16.0 } else { 16.0 + exponent_size(x, t, g) };
            let (want_loss, want_grad) = sigmoid_focal(x, t, g, a);
            if let Some(e) = ulp_error(out[i], want_loss) {
                prop_assert!(e <= bound, "loss x={} t={} γ={} α={:?}: {} vs {} ({:.1} ULP)", x, t, g, a, out[i], want_loss, e);
            }
            let soft = t != 0.0 && t != 1.0;
            let e = if soft {
                let scale = soft_grad_scale(x, t, g, a);
                (scale >= 1.2e-38).then(|| (f64::from(grad[i]) - want_grad).abs() / ulp_at(scale))
            } else {
                ulp_error(grad[i], want_grad)
            };
            if let Some(e) = e {
                prop_assert!(e <= bound, "grad x={} t={} γ={} α={:?}: {} vs {} ({:.1} ULP)", x, t, g, a, grad[i], want_grad, e);
            }
        }
    }

    #[test]
    fn mean_is_sum_over_count(
        xs in proptest::collection::vec(-20.0f32..20.0, 1..300),
        g in gamma(),
    ) {
        let fl = SigmoidFocal::new(g, Some(0.25)).unwrap();
        let ts: Vec<u8> = (0..xs.len()).map(|i| u8::from(i % 3 == 0)).collect();
        let sum = f64::from(fl.loss(&xs, &ts, Reduction::Sum).unwrap());
        let mean = f64::from(fl.loss(&xs, &ts, Reduction::Mean).unwrap());
        prop_assert!((mean - sum / xs.len() as f64).abs() <= 1e-6 * mean.abs() + 1e-30);
    }
}
