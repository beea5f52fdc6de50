//! Runs the element formulas over slices: [`WIDTH`] at a time, the tail padded into one more
//! chunk (so every element goes through the same lane code), validation folded into
//! the pass, outputs written, losses summed in a fixed order.

use super::math::focal;
use crate::Kernel;
use crate::error::{FocalError, Operand, check_len};
use crate::focusing::Focusing;
use crate::simd::{F32s, SimdF32, WIDTH};
use crate::sink::{Sink, Writes};
use crate::sum::BlockSum;
use crate::target::BinaryTarget;

/// One pass's hyper-parameters.
#[derive(Clone, Copy)]
pub(crate) struct Pass {
    pub kernel: Kernel,
    pub gamma: f32,
    pub focusing: Focusing,
    pub alpha: Option<f32>,
}

/// Validates lengths, runs the pass, and returns the sum of the weighted losses.
///
/// `weights` is ignored unless `WEIGHTED`. On error the contents of the sink's slice are
/// unspecified.
pub(crate) fn run<T: BinaryTarget, S: Sink, const WEIGHTED: bool>(
    pass: Pass,
    logits: &[f32],
    targets: &[T],
    weights: &[f32],
    mut sink: S,
) -> Result<f64, FocalError> {
    let n = logits.len();
    check_len(Operand::Targets, n, targets.len())?;
    if WEIGHTED {
        check_len(Operand::Weights, n, weights.len())?;
    }
    sink.check_len(n)?;
    let (focusing, gamma) = (pass.focusing, pass.gamma);
    let (sum, suspicious) = match pass.kernel {
        Kernel::Simd => {
            sweep::<T, S, WEIGHTED>(pass, logits, targets, weights, &mut sink, |x, t| {
                focal::<F32s>(x, t, focusing, gamma, T::ALWAYS_HARD)
            })
        }
        Kernel::Libm => {
            sweep::<T, S, WEIGHTED>(pass, logits, targets, weights, &mut sink, |x, t| {
                let (x, t) = (x.to_array(), t.to_array());
                let mut loss = [0.0f32; WIDTH];
                let mut grad = [0.0f32; WIDTH];
                for i in 0..WIDTH {
                    (loss[i], grad[i]) = focal::<f32>(x[i], t[i], focusing, gamma, T::ALWAYS_HARD);
                }
                (F32s::from_array(loss), F32s::from_array(grad))
            })
        }
    };
    if suspicious {
        first_bad_input(logits, targets, WEIGHTED.then_some(weights))?;
    }
    Ok(sum)
}

/// The pass proper. Returns the sum and whether any input failed the folded checks.
///
/// One loop body serves the full chunks and the padded tail, so it is inlined once.
#[inline(always)]
fn sweep<T: BinaryTarget, S: Sink, const WEIGHTED: bool>(
    pass: Pass,
    logits: &[f32],
    targets: &[T],
    weights: &[f32],
    sink: &mut S,
    element: impl Fn(F32s, F32s) -> (F32s, F32s),
) -> (f64, bool) {
    let (x_body, x_tail) = logits.as_chunks::<WIDTH>();
    let (t_body, t_tail) = targets.as_chunks::<WIDTH>();
    let (w_body, w_tail) = weights.as_chunks::<WIDTH>();
    let grad_scale = F32s::splat(sink.grad_scale());
    let (out_body, out_tail) = sink.out().as_chunks_mut::<WIDTH>();
    let (zero, one) = (F32s::ZERO, F32s::splat(1.0));
    let alpha = pass.alpha.map(|a| (F32s::splat(a), F32s::splat(1.0 - a)));
    let lane_index = F32s::from_array(core::array::from_fn(|i| i as f32));
    let mut sum = BlockSum::new();
    let mut bad = zero;
    let chunks = x_body.len() + usize::from(!x_tail.is_empty());
    for c in 0..chunks {
        let full = c < x_body.len();
        let (x, t, w) = if full {
            let w = if WEIGHTED {
                F32s::from_array(w_body[c])
            } else {
                one
            };
            (F32s::from_array(x_body[c]), load_targets(&t_body[c]), w)
        } else {
            let w = if WEIGHTED {
                load(w_tail)
            } else {
                lane_index
                    .lt(F32s::splat(x_tail.len() as f32))
                    .select(one, zero)
            };
            (load(x_tail), load_targets(t_tail), w)
        };

        let (fl, dfl) = element(x, t);
        let factor = match alpha {
            Some((a, not_a)) => (a * t + not_a * (one - t)) * w,
            None => w,
        };
        let loss = factor.eq(zero).select(zero, factor * fl);
        sum.add(loss.to_array().as_ref());

        let target_ok = if T::ALWAYS_HARD {
            t.le(one)
        } else {
            t.ge(zero) & t.le(one)
        };
        let mut ok = target_ok & x.eq(x);
        if WEIGHTED {
            ok = ok & w.ge(zero) & w.lt(F32s::splat(f32::INFINITY));
        }
        bad |= !ok;

        if S::WRITES != Writes::Nothing {
            let values = if S::WRITES == Writes::Grad {
                (factor * dfl * grad_scale).to_array()
            } else {
                loss.to_array()
            };
            match out_body.get_mut(c) {
                Some(dst) => *dst = values,
                None => out_tail.copy_from_slice(&values.as_ref()[..out_tail.len()]),
            }
        }
    }
    (sum.finish(), bad.any())
}

/// Up to [`WIDTH`] values, the missing lanes 0.
#[inline(always)]
fn load(values: &[f32]) -> F32s {
    F32s::from_array(core::array::from_fn(|i| {
        values.get(i).copied().unwrap_or(0.0)
    }))
}

/// Up to [`WIDTH`] targets as probabilities, the missing lanes 0.
#[inline(always)]
fn load_targets<T: BinaryTarget>(values: &[T]) -> F32s {
    F32s::from_array(core::array::from_fn(|i| {
        values.get(i).map_or(0.0, |t| t.to_f32())
    }))
}

/// The error for the first bad input, in the documented order: targets, weights, logits.
#[cold]
fn first_bad_input<T: BinaryTarget>(
    logits: &[f32],
    targets: &[T],
    weights: Option<&[f32]>,
) -> Result<(), FocalError> {
    if let Some((index, value)) = targets
        .iter()
        .map(|t| t.to_f32())
        .enumerate()
        .find(|(_, t)| !(0.0..=1.0).contains(t))
    {
        return Err(FocalError::InvalidTarget { index, value });
    }
    if let Some((index, &value)) = weights
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(FocalError::InvalidWeight { index, value });
    }
    if let Some(index) = logits.iter().position(|x| x.is_nan()) {
        return Err(FocalError::NonFiniteLogit { index });
    }
    Ok(())
}
