//! Fuzz target `sigmoid`: [`SigmoidFocal`]'s six entry points (loss, per-element, loss and
//! gradient, each plain and weighted) with `f32` and `u8` targets, any γ, α, reduction and
//! slices.

use crate::decode;
use crate::expect::{self, Entry};
use crate::family::{self, Inputs, Loss, Reference};
use arbitrary::{Result, Unstructured};
use focal_loss::{BinaryTarget, FocalError, Kernel, SigmoidFocal};
use testkit::sigmoid::reference::{sigmoid_focal, soft_grad_scale, ulp_bound};

/// Decodes `data` into a case and checks it (see the crate docs).
pub fn check(data: &[u8]) {
    let _ = run(&mut Unstructured::new(data));
}

/// The per-kernel bound of `tests/suite/sigmoid_proptest.rs` ([`ulp_bound`]).
pub fn bound(x: f32, t: f32, g: f32) -> f64 {
    ulp_bound(x, t, g)
}

/// A case: the config and inputs, with the targets in their own type.
struct Case<'a, T> {
    fl: SigmoidFocal,
    logits: &'a [f32],
    targets: &'a [T],
    targets_f32: &'a [f32],
    weights: Option<&'a [f32]>,
}

impl<T: BinaryTarget> Loss for Case<'_, T> {
    fn call(
        &self,
        kernel: Kernel,
        entry: Entry,
        out: &mut [f32],
    ) -> Result<Option<f32>, FocalError> {
        let fl = self.fl.with_kernel(kernel);
        let (x, t) = (self.logits, self.targets);
        match (entry, self.weights) {
            (Entry::Loss(r), None) => fl.loss(x, t, r).map(Some),
            (Entry::Loss(r), Some(w)) => fl.loss_weighted(x, t, w, r).map(Some),
            (Entry::PerElement(_), None) => fl.loss_per_element(x, t, out).map(|()| None),
            (Entry::PerElement(_), Some(w)) => {
                fl.loss_per_element_weighted(x, t, w, out).map(|()| None)
            }
            (Entry::AndGrad(r, _), None) => fl.loss_and_grad(x, t, r, out).map(Some),
            (Entry::AndGrad(r, _), Some(w)) => fl.loss_and_grad_weighted(x, t, w, r, out).map(Some),
        }
    }

    fn describe(&self) -> String {
        format!("{:?}", self.fl)
    }

    fn reference(&self, i: usize) -> Reference {
        let (x, t, g, a) = (
            self.logits[i],
            self.targets_f32[i],
            self.fl.gamma(),
            self.fl.alpha(),
        );
        let (loss, grad) = sigmoid_focal(x, t, g, a);
        let soft = t != 0.0 && t != 1.0;
        Reference {
            loss,
            loss_scale: loss.abs(),
            grad,
            grad_scale: if soft && x.is_finite() {
                soft_grad_scale(x, t, g, a)
            } else {
                grad.abs()
            },
            bound: bound(x, t, g),
        }
    }
}

/// The entry point, its reduction and output length.
pub fn entry(u: &mut Unstructured, n: usize, wild: bool) -> Result<Entry> {
    Ok(match u.int_in_range(0u8..=2)? {
        0 => Entry::Loss(decode::reduction(u, wild)?),
        1 => Entry::PerElement(decode::length(u, n, wild)?),
        _ => Entry::AndGrad(decode::reduction(u, wild)?, decode::length(u, n, wild)?),
    })
}

/// A `u8` target: 0 or 1, or in a wild case sometimes any byte.
pub fn hard_target(u: &mut Unstructured, wild: bool) -> Result<u8> {
    Ok(if decode::anything(u, wild)? {
        u.arbitrary()?
    } else {
        u.int_in_range(0..=1)?
    })
}

fn run(u: &mut Unstructured) -> Result<()> {
    let (gamma, alpha) = (
        decode::exponent(u)?,
        if u.arbitrary()? {
            Some(decode::unit(u, true)?)
        } else {
            None
        },
    );
    let built = SigmoidFocal::new(gamma, alpha);
    let want = if !(gamma.is_finite() && gamma >= 0.0) {
        Err(FocalError::InvalidGamma { gamma })
    } else if let Some(alpha) = alpha.filter(|a| !(0.0..=1.0).contains(a)) {
        Err(FocalError::InvalidAlpha { alpha })
    } else {
        Ok(())
    };
    assert!(
        expect::same(&built.map(|_| ()), &want),
        "new({gamma}, {alpha:?}): {built:?}"
    );
    let Ok(fl) = built else { return Ok(()) };
    let fl = fl.with_kernel(decode::kernel(u)?);
    let wild = u.ratio(1u8, 4)?;
    let n = u.int_in_range(0..=80)?;
    let logits = decode::values(u, n, |u| decode::logit(u, wild))?;
    let weighted = u.arbitrary::<bool>()?;
    let weights_len = decode::length(u, n, wild)?;
    let weights = decode::values(u, weights_len, |u| decode::weight(u, wild))?;
    let weights = weighted.then_some(&weights[..]);
    let targets_len = decode::length(u, n, wild)?;
    let entry = entry(u, n, wild)?;
    if u.arbitrary()? {
        let targets = decode::values(u, targets_len, |u| hard_target(u, wild))?;
        let targets_f32: Vec<f32> = targets.iter().map(|&t| f32::from(t)).collect();
        let case = Case {
            fl,
            logits: &logits,
            targets: &targets,
            targets_f32: &targets_f32,
            weights,
        };
        family::check(&case, inputs(&case), entry);
    } else {
        let targets = decode::values(u, targets_len, |u| decode::unit(u, wild))?;
        let case = Case {
            fl,
            logits: &logits,
            targets: &targets,
            targets_f32: &targets,
            weights,
        };
        family::check(&case, inputs(&case), entry);
    }
    Ok(())
}

fn inputs<'a, T>(case: &Case<'a, T>) -> Inputs<'a> {
    Inputs {
        logits: case.logits,
        targets: case.targets_f32,
        weights: case.weights,
        binary: false,
    }
}
