//! Runs the element formulas over slices: eight at a time, the tail padded into one more
//! chunk of eight (so every element goes through the same lane code), validation folded into
//! the pass, outputs written, losses summed in a fixed order.

use wide::f32x8;

use super::math::focal;
use crate::Kernel;
use crate::error::{FocalError, Operand};
use crate::focusing::Focusing;
use crate::sum::BlockSum;
use crate::target::BinaryTarget;

/// What a pass writes besides the sum of the losses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// Nothing: only the sum.
    None,
    /// `out[i]` = the weighted loss of element `i`.
    Loss,
    /// `out[i]` = `grad_scale` × d(weighted loss of element `i`)/d`logits[i]`.
    Grad,
}

/// One pass's hyper-parameters.
#[derive(Clone, Copy)]
pub(crate) struct Pass {
    pub kernel: Kernel,
    pub gamma: f32,
    pub focusing: Focusing,
    pub alpha: Option<f32>,
    pub output: Output,
    pub grad_scale: f32,
}

/// Lane indices 0..8, to mark the valid lanes of the padded tail.
const LANE: f32x8 = f32x8::new([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);

/// Validates lengths, runs the pass, and returns the sum of the weighted losses.
///
/// On error the contents of `out` are unspecified.
pub(crate) fn run<T: BinaryTarget>(
    pass: Pass,
    logits: &[f32],
    targets: &[T],
    weights: Option<&[f32]>,
    out: &mut [f32],
) -> Result<f64, FocalError> {
    let n = logits.len();
    check_len(Operand::Targets, n, targets.len())?;
    if let Some(w) = weights {
        check_len(Operand::Weights, n, w.len())?;
    }
    match pass.output {
        Output::None => {}
        Output::Loss => check_len(Operand::Output, n, out.len())?,
        Output::Grad => check_len(Operand::Grad, n, out.len())?,
    }
    let (sum, suspicious) = match pass.kernel {
        Kernel::Simd => sweep(pass, logits, targets, weights, out, |x, t| {
            focal::<f32x8>(x, t, pass.focusing, pass.gamma)
        }),
        Kernel::Libm => sweep(pass, logits, targets, weights, out, |x, t| {
            let (x, t) = (x.to_array(), t.to_array());
            let mut loss = [0.0f32; 8];
            let mut grad = [0.0f32; 8];
            for i in 0..8 {
                (loss[i], grad[i]) = focal::<f32>(x[i], t[i], pass.focusing, pass.gamma);
            }
            (f32x8::new(loss), f32x8::new(grad))
        }),
    };
    if suspicious {
        first_bad_input(logits, targets, weights)?;
    }
    Ok(sum)
}

fn check_len(operand: Operand, expected: usize, found: usize) -> Result<(), FocalError> {
    if expected == found {
        Ok(())
    } else {
        Err(FocalError::LengthMismatch {
            operand,
            expected,
            found,
        })
    }
}

/// The pass proper. Returns the sum and whether any input failed the folded checks.
#[inline(always)]
fn sweep<T: BinaryTarget>(
    pass: Pass,
    logits: &[f32],
    targets: &[T],
    weights: Option<&[f32]>,
    out: &mut [f32],
    element: impl Fn(f32x8, f32x8) -> (f32x8, f32x8),
) -> (f64, bool) {
    let mut sum = BlockSum::new();
    let mut bad = f32x8::ZERO;
    let mut chunk = |x: f32x8, t: f32x8, w: f32x8, dst: Option<&mut [f32]>| {
        let (fl, dfl) = element(x, t);
        let factor = match pass.alpha {
            Some(a) => {
                let a = f32x8::splat(a);
                (a * t + (f32x8::splat(1.0) - a) * (f32x8::splat(1.0) - t)) * w
            }
            None => w,
        };
        let loss = factor.simd_eq(f32x8::ZERO).select(f32x8::ZERO, factor * fl);
        sum.add(loss);
        let target_ok = t.simd_ge(f32x8::ZERO) & t.simd_le(f32x8::splat(1.0));
        let weight_ok = w.simd_ge(f32x8::ZERO) & w.simd_lt(f32x8::splat(f32::INFINITY));
        bad |= !(target_ok & weight_ok & x.simd_eq(x));
        if let Some(dst) = dst {
            let values = match pass.output {
                Output::Grad => (factor * dfl * f32x8::splat(pass.grad_scale)).to_array(),
                _ => loss.to_array(),
            };
            dst.copy_from_slice(&values[..dst.len()]);
        }
    };

    let (x_body, x_tail) = logits.as_chunks::<8>();
    let (t_body, t_tail) = targets.as_chunks::<8>();
    let (w_body, w_tail) = match weights {
        Some(w) => {
            let (body, tail) = w.as_chunks::<8>();
            (Some(body.iter()), Some(tail))
        }
        None => (None, None),
    };
    let mut w_body = w_body;
    let writes = pass.output != Output::None;
    let (out_body, out_tail) = out.as_chunks_mut::<8>();
    let mut out_body = out_body.iter_mut();
    for (x, t) in x_body.iter().zip(t_body) {
        let w = match w_body.as_mut().and_then(Iterator::next) {
            Some(w) => f32x8::new(*w),
            None => f32x8::splat(1.0),
        };
        let dst = if writes {
            out_body.next().map(|d| d.as_mut_slice())
        } else {
            None
        };
        chunk(f32x8::new(*x), load_targets(t), w, dst);
    }
    if !x_tail.is_empty() {
        let valid = LANE.simd_lt(f32x8::splat(x_tail.len() as f32));
        let w = match w_tail {
            Some(w) => load(w),
            None => valid.select(f32x8::splat(1.0), f32x8::ZERO),
        };
        let dst = if writes { Some(out_tail) } else { None };
        chunk(load(x_tail), load_targets(t_tail), w, dst);
    }
    (sum.finish(), bad.any())
}

/// Up to eight values, the missing lanes 0.
#[inline(always)]
fn load(values: &[f32]) -> f32x8 {
    f32x8::new(core::array::from_fn(|i| {
        values.get(i).copied().unwrap_or(0.0)
    }))
}

/// Up to eight targets as probabilities, the missing lanes 0.
#[inline(always)]
fn load_targets<T: BinaryTarget>(values: &[T]) -> f32x8 {
    f32x8::new(core::array::from_fn(|i| {
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
