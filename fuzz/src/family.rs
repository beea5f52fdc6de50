//! The checks shared by the sigmoid form and the variants (one logit, one target per
//! element): the expected error, then both kernels' values against each other.

use crate::expect::{self, Entry};
use crate::tolerance::{EPS, SUM_ULPS, allowance, ulp, within};
use focal_loss::{FocalError, Kernel};

/// A reference value of one element and the bound (ULP at its scales) each kernel is held to.
#[derive(Debug, Clone, Copy)]
pub struct Reference {
    /// The loss, `f64`.
    pub loss: f64,
    /// The magnitude its rounding error is relative to.
    pub loss_scale: f64,
    /// The derivative with respect to the logit.
    pub grad: f64,
    /// The magnitude its rounding error is relative to.
    pub grad_scale: f64,
    /// The per-kernel bound, in ULP of the scales.
    pub bound: f64,
}

/// One configured loss of the family, called through either kernel.
pub trait Loss {
    /// Calls `entry` with `kernel`: the reduced value (`None` for per-element), the output
    /// written to `out` (which has the entry's output length).
    fn call(
        &self,
        kernel: Kernel,
        entry: Entry,
        out: &mut [f32],
    ) -> Result<Option<f32>, FocalError>;
    /// The reference of element `i`.
    fn reference(&self, i: usize) -> Reference;
    /// The configuration, for failure messages.
    fn describe(&self) -> String;
}

/// The inputs of one call.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The logits.
    pub logits: &'a [f32],
    /// The targets, as `f32` (a `u8` target converted).
    pub targets: &'a [f32],
    /// The weights, for the weighted entry points.
    pub weights: Option<&'a [f32]>,
    /// Targets must be 0 or 1 (`Asymmetric`).
    pub binary: bool,
}

/// Runs `entry` with both kernels and checks the outcome.
pub fn check(loss: &impl Loss, inputs: Inputs, entry: Entry) {
    let want = expect::sigmoid_family(
        entry,
        inputs.logits,
        inputs.targets,
        inputs.weights,
        inputs.binary,
    );
    let out_len = entry.output().map_or(0, |(_, n)| n);
    let mut outs = [vec![0.0f32; out_len], vec![0.0f32; out_len]];
    let mut values = [None; 2];
    for (k, kernel) in [Kernel::Simd, Kernel::Libm].into_iter().enumerate() {
        let got = loss.call(kernel, entry, &mut outs[k]);
        assert!(
            expect::same(&got.map(|_| ()), &want),
            "{} {kernel:?} {entry:?}: got {got:?}, want {want:?}",
            loss.describe()
        );
        values[k] = got.ok().flatten();
    }
    if want.is_err() {
        return;
    }
    let n = inputs.logits.len();
    let what = |i: usize| {
        format!(
            "{} element {i} of {n}: x {:e}, t {:e}",
            loss.describe(),
            inputs.logits[i],
            inputs.targets[i]
        )
    };
    let weight = |i: usize| inputs.weights.map_or(1.0, |w| f64::from(w[i]));
    let extra = if inputs.weights.is_some() { 2.0 } else { 0.0 };
    // Both kernels' per-element losses (weighted), checked one by one.
    let mut elements = [vec![0.0f32; n], vec![0.0f32; n]];
    for (k, kernel) in [Kernel::Simd, Kernel::Libm].into_iter().enumerate() {
        let r = loss.call(kernel, Entry::PerElement(n), &mut elements[k]);
        assert!(r.is_ok(), "{kernel:?}: per-element of a valid input: {r:?}");
    }
    let refs: Vec<Reference> = (0..n).map(|i| loss.reference(i)).collect();
    let mut allowed_sum = 0.0;
    let mut magnitude_sum = 0.0;
    let mut exact_sum = 0.0;
    for i in 0..n {
        let (s, l, r) = (elements[0][i], elements[1][i], refs[i]);
        let w = weight(i);
        for v in [s, l] {
            assert!(
                !v.is_nan() && v >= 0.0,
                "{}: loss {v} ({r:?}, w {w})",
                what(i)
            );
            if r.loss * w <= f64::from(f32::MAX) / 2.0 {
                assert!(
                    v.is_finite(),
                    "{}: loss {v}, reference {r:?}, w {w}",
                    what(i)
                );
            }
        }
        let allowed = allowance(s, l, r.loss_scale * w, r.bound, extra);
        assert!(
            within(s, l, allowed),
            "{} (w {w}): Simd loss {s} vs Libm {l} ({r:?})",
            what(i)
        );
        allowed_sum += allowed;
        magnitude_sum += f64::from(l);
        exact_sum += r.loss * w;
    }
    let Some(reduction) = entry.reduction() else {
        for (k, out) in outs.iter().enumerate() {
            assert!(
                out.iter()
                    .zip(&elements[k])
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "per-element entry and its re-run differ"
            );
        }
        return;
    };
    let divisor = match reduction {
        focal_loss::Reduction::Sum => 1.0,
        focal_loss::Reduction::Mean => n.max(1) as f64,
        focal_loss::Reduction::MeanOver(d) => f64::from(d),
    };
    let (Some(s), Some(l)) = (values[0], values[1]) else {
        panic!("a reducing entry returned no value: {values:?}");
    };
    for v in [s, l] {
        assert!(
            !v.is_nan(),
            "{entry:?}: reduced loss NaN ({}, {inputs:?})",
            loss.describe()
        );
        if exact_sum / divisor <= f64::from(f32::MAX) / 4.0 {
            assert!(
                v.is_finite(),
                "{entry:?}: reduced loss {v}, exact {}",
                exact_sum / divisor
            );
        }
    }
    let allowed = (allowed_sum + SUM_ULPS * EPS * magnitude_sum) / divisor
        + 2.0 * ulp(f64::from(s.abs().max(l.abs())))
        + f64::from(f32::MIN_POSITIVE);
    assert!(
        within(s, l, allowed),
        "{} {entry:?}: Simd {s} vs Libm {l} (allowed {allowed}; {inputs:?})",
        loss.describe()
    );
    if let Entry::AndGrad(..) = entry {
        for i in 0..n {
            let (s, l, r) = (outs[0][i], outs[1][i], refs[i]);
            let w = weight(i) / divisor;
            for v in [s, l] {
                assert!(!v.is_nan(), "{}: grad NaN ({r:?}, w/n {w})", what(i));
                if !r.grad.is_nan() && (r.grad * w).abs() <= f64::from(f32::MAX) / 4.0 {
                    assert!(v.is_finite(), "{}: grad {v} ({r:?}, w/n {w})", what(i));
                }
            }
            assert!(
                within(s, l, allowance(s, l, r.grad_scale * w, r.bound, 4.0)),
                "{} (w/n {w}): Simd grad {s} vs Libm {l} ({r:?})",
                what(i)
            );
        }
    }
}
