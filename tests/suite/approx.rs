//! The fast `exp` / `ln` / `ln_1p` of the SIMD kernel against `f64`, over dense samples of
//! their whole domains: every 61st `f32` bit pattern in range, plus the edges.

use focal_loss::approx::{self, EXP_MAX_ULP, LN_1P_MAX_ULP, LN_MAX_ULP};
use testkit::ulp::ulp_error;

/// Every `step`-th f32 in [lo, hi] (both finite, same sign or spanning 0), plus both ends.
fn samples(lo: f32, hi: f32, step: usize) -> impl Iterator<Item = f32> {
    let neg = (lo < 0.0).then(|| {
        let (a, b) = (lo.to_bits(), (-0.0f32).to_bits());
        (b..=a).step_by(step).map(f32::from_bits)
    });
    let pos_lo = if lo > 0.0 { lo } else { 0.0 };
    let pos = (hi >= 0.0).then(|| {
        (pos_lo.to_bits()..=hi.to_bits())
            .step_by(step)
            .map(f32::from_bits)
    });
    neg.into_iter()
        .flatten()
        .chain(pos.into_iter().flatten())
        .chain([lo, hi])
}

fn worst(
    f: impl Fn(f32) -> f32,
    g: impl Fn(f64) -> f64,
    xs: impl Iterator<Item = f32>,
) -> (f64, f32) {
    let mut worst = (0.0, 0.0);
    for x in xs {
        if let Some(e) = ulp_error(f(x), g(f64::from(x))).filter(|&e| e > worst.0) {
            worst = (e, x);
        }
    }
    worst
}

#[test]
fn exp_within_budget_where_result_is_normal() {
    let (e, at) = worst(approx::exp, f64::exp, samples(-87.33, 88.72, 61));
    assert!(e <= f64::from(EXP_MAX_ULP), "exp: {e} ULP at x = {at}");
}

#[test]
fn exp_edges() {
    assert_eq!(approx::exp(0.0), 1.0);
    assert_eq!(approx::exp(f32::NEG_INFINITY), 0.0);
    assert_eq!(approx::exp(-104.0), 0.0);
    assert_eq!(approx::exp(f32::INFINITY), f32::INFINITY);
    assert_eq!(approx::exp(88.73), f32::INFINITY);
    assert!(approx::exp(f32::NAN).is_nan());
    // Gradual underflow: a subnormal result close to the true value.
    let sub = approx::exp(-100.0);
    assert!(sub > 0.0 && (f64::from(sub) - (-100f64).exp()).abs() < 2e-45);
}

#[test]
fn ln_within_budget_over_all_positive_floats() {
    let (e, at) = worst(
        approx::ln,
        f64::ln,
        samples(f32::from_bits(1), f32::MAX, 61),
    );
    assert!(e <= f64::from(LN_MAX_ULP), "ln: {e} ULP at x = {at}");
}

#[test]
fn ln_edges() {
    assert_eq!(approx::ln(1.0), 0.0);
    assert_eq!(approx::ln(0.0), f32::NEG_INFINITY);
    assert_eq!(approx::ln(f32::INFINITY), f32::INFINITY);
    assert!(approx::ln(-1.0).is_nan());
    assert!(approx::ln(f32::NAN).is_nan());
}

#[test]
fn ln_1p_within_budget_on_unit_interval() {
    let (e, at) = worst(approx::ln_1p, f64::ln_1p, samples(0.0, 1.0, 17));
    assert!(e <= f64::from(LN_1P_MAX_ULP), "ln_1p: {e} ULP at x = {at}");
    assert_eq!(approx::ln_1p(0.0), 0.0);
}
