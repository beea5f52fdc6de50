//! Runs the element formulas over slices: a vector of lanes at a time, the tail padded into one more
//! chunk (so every element goes through the same lane code), validation folded into
//! the pass, outputs written, losses summed in a fixed order.
//!
//! The pass is generic over its [`Formula`]: the sigmoid focal loss
//! (`math::Focal`) and the variants of `src/variants/` share it.

use crate::dispatch;
use crate::error::{FocalError, Operand, check_len};
use crate::simd::{F32s, SimdF32, SimdMask, WIDTH};
use crate::sink::{Sink, Writes};
use crate::sum::BlockSum;
use crate::target::BinaryTarget;
use crate::total::Pair;
use crate::{Kernel, Reduction};

/// The element formula of a loss of the sigmoid family: its loss and derivative at one logit
/// per lane, before α_t and weights, written once over [`KernelMath`](crate::kernel_math::KernelMath) for both kernels.
pub(crate) trait Formula: Copy {
    /// Targets must be exactly 0 or 1 (not only in [0, 1]); others are reported as
    /// [`FocalError::NonBinaryTarget`].
    const BINARY_TARGETS: bool = false;

    /// `(loss, dloss/dx)` at logits `x` for targets `t` (in [0, 1]; lanes with invalid
    /// targets or NaN logits are reported by the pass and their results unused). With
    /// `always_hard` (a constant of the target type) every valid target is 0 or 1.
    fn eval<R: crate::kernel_math::KernelMath>(&self, x: R, t: R, always_hard: bool) -> (R, R);

    /// The gradient has a term that α_t and the weights do not multiply (the normalised focal
    /// loss's normaliser): [`eval_extra`](Self::eval_extra) gives it.
    const EXTRA_GRAD: bool = false;

    /// [`eval`](Self::eval) and the gradient's term that α_t and the weight do not multiply
    /// (before the reduction's scale); only called with [`EXTRA_GRAD`](Self::EXTRA_GRAD).
    #[inline(always)]
    fn eval_extra<R: crate::kernel_math::KernelMath>(
        &self,
        x: R,
        t: R,
        always_hard: bool,
    ) -> (R, R, R) {
        let (loss, grad) = self.eval(x, t, always_hard);
        (loss, grad, R::splat(0.0))
    }

    /// Runs `sweep` with this formula, or with a copy whose hyper-parameters the compiler
    /// sees as constants (a loop of its own for a common case), on `lanes` lanes.
    #[inline(always)]
    fn specialised<O>(self, lanes: usize, sweep: impl FnOnce(Self) -> O) -> O {
        let _ = lanes;
        sweep(self)
    }
}

/// One pass's hyper-parameters.
#[derive(Clone, Copy)]
pub(crate) struct Pass<F> {
    pub kernel: Kernel,
    /// α of α_t = α·t + (1 − α)(1 − t), if any.
    pub alpha: Option<f32>,
    pub formula: F,
}

/// Runs a reducing pass into the sink `sink(1 / divisor)` ([`SumOnly`](crate::sink::SumOnly)
/// or a [`Gradient`](crate::sink::Gradient) with that scale) and applies the reduction.
pub(crate) fn reduce<F: Formula, T: BinaryTarget, S: Sink, const WEIGHTED: bool>(
    pass: Pass<F>,
    logits: &[f32],
    targets: &[T],
    weights: &[f32],
    reduction: Reduction,
    sink: impl FnOnce(f32) -> S,
) -> Result<f32, FocalError> {
    let divisor = reduction.exact_divisor(logits.len())?;
    let sink = sink(divisor.reciprocal());
    let sum = run::<F, T, S, WEIGHTED>(pass, logits, targets, weights, sink)?;
    Ok(sum.divided_by(divisor))
}

/// Validates lengths, runs the pass, and returns the sum of the weighted losses.
///
/// `weights` is ignored unless `WEIGHTED`. On error the contents of the sink's slice are
/// unspecified.
pub(crate) fn run<F: Formula, T: BinaryTarget, S: Sink, const WEIGHTED: bool>(
    pass: Pass<F>,
    logits: &[f32],
    targets: &[T],
    weights: &[f32],
    mut sink: S,
) -> Result<Pair, FocalError> {
    let n = logits.len();
    check_len(Operand::Targets, n, targets.len())?;
    if WEIGHTED {
        check_len(Operand::Weights, n, weights.len())?;
    }
    sink.check_len(n)?;
    let inputs = Inputs {
        pass,
        logits,
        targets,
        weights,
    };
    let (sum, suspicious) = match pass.kernel {
        Kernel::Simd => dispatch::run(SimdSweep::<F, T, S, WEIGHTED> {
            inputs,
            sink: &mut sink,
        }),
        Kernel::Libm => sweep::<F32s, T, S, WEIGHTED, _>(
            inputs,
            &mut sink,
            LibmElement::<F, T>::new(pass.formula),
        ),
    };
    if suspicious {
        first_bad_input(
            logits,
            targets,
            WEIGHTED.then_some(weights),
            F::BINARY_TARGETS,
        )?;
    }
    Ok(sum)
}

/// The operands of one pass (lengths checked).
#[derive(Clone, Copy)]
struct Inputs<'i, F, T> {
    pass: Pass<F>,
    logits: &'i [f32],
    targets: &'i [T],
    weights: &'i [f32],
}

/// [`sweep`] with `Kernel::Simd`'s formulas, on the lanes [`dispatch`] picks.
struct SimdSweep<'i, 's, F, T, S, const WEIGHTED: bool> {
    inputs: Inputs<'i, F, T>,
    sink: &'s mut S,
}

impl<F: Formula, T: BinaryTarget, S: Sink, const WEIGHTED: bool> dispatch::Job
    for SimdSweep<'_, '_, F, T, S, WEIGHTED>
{
    type Output = (Pair, bool);
    #[inline(always)]
    fn run<V: SimdF32>(self) -> (Pair, bool) {
        let Self { inputs, sink } = self;
        inputs.pass.formula.specialised(
            V::LANES,
            #[inline(always)]
            |formula| {
                sweep::<V, T, S, WEIGHTED, _>(inputs, sink, SimdElement::<F, T>::new(formula))
            },
        )
    }
}

/// The element formulas of one kernel on lanes `V`: the loss and its derivative.
trait Element<V> {
    /// [`Formula::BINARY_TARGETS`].
    const BINARY_TARGETS: bool;
    /// [`Formula::EXTRA_GRAD`].
    const EXTRA_GRAD: bool;
    fn focal(&self, x: V, t: V) -> (V, V);
    /// [`Formula::eval_extra`].
    fn focal_extra(&self, x: V, t: V) -> (V, V, V);
}

/// A formula with [`Kernel::Simd`]'s functions, on any lanes.
struct SimdElement<F, T> {
    formula: F,
    target: core::marker::PhantomData<T>,
}

impl<F, T> SimdElement<F, T> {
    #[inline(always)]
    fn new(formula: F) -> Self {
        SimdElement {
            formula,
            target: core::marker::PhantomData,
        }
    }
}

impl<V: SimdF32, F: Formula, T: BinaryTarget> Element<V> for SimdElement<F, T> {
    const BINARY_TARGETS: bool = F::BINARY_TARGETS;
    const EXTRA_GRAD: bool = F::EXTRA_GRAD;
    #[inline(always)]
    fn focal(&self, x: V, t: V) -> (V, V) {
        self.formula.eval::<V>(x, t, T::ALWAYS_HARD)
    }
    #[inline(always)]
    fn focal_extra(&self, x: V, t: V) -> (V, V, V) {
        self.formula.eval_extra::<V>(x, t, T::ALWAYS_HARD)
    }
}

/// A formula with [`Kernel::Libm`]'s functions, one lane of [`F32s`] at a time.
struct LibmElement<F, T>(SimdElement<F, T>);

impl<F, T> LibmElement<F, T> {
    #[inline(always)]
    fn new(formula: F) -> Self {
        LibmElement(SimdElement::new(formula))
    }
}

impl<F: Formula, T: BinaryTarget> Element<F32s> for LibmElement<F, T> {
    const BINARY_TARGETS: bool = F::BINARY_TARGETS;
    const EXTRA_GRAD: bool = F::EXTRA_GRAD;
    #[inline(always)]
    fn focal(&self, x: F32s, t: F32s) -> (F32s, F32s) {
        let (x, t) = (x.to_array(), t.to_array());
        let mut loss = [0.0f32; WIDTH];
        let mut grad = [0.0f32; WIDTH];
        for i in 0..WIDTH {
            (loss[i], grad[i]) = self.0.formula.eval::<f32>(x[i], t[i], T::ALWAYS_HARD);
        }
        (F32s::from_array(loss), F32s::from_array(grad))
    }
    #[inline(always)]
    fn focal_extra(&self, x: F32s, t: F32s) -> (F32s, F32s, F32s) {
        let (x, t) = (x.to_array(), t.to_array());
        let mut loss = [0.0f32; WIDTH];
        let mut grad = [0.0f32; WIDTH];
        let mut extra = [0.0f32; WIDTH];
        for i in 0..WIDTH {
            (loss[i], grad[i], extra[i]) =
                self.0.formula.eval_extra::<f32>(x[i], t[i], T::ALWAYS_HARD);
        }
        (
            F32s::from_array(loss),
            F32s::from_array(grad),
            F32s::from_array(extra),
        )
    }
}

/// The pass proper, `V::LANES` elements at a time. Returns the sum and whether any input
/// failed the folded checks.
///
/// The whole vectors run with exact-length slices, the padded tail once after them (on one
/// lane there is no tail, so the loop body is compiled once there).
///
/// What bounds it (AVX-512, `loss_and_grad`, γ 2, `u8` targets, 4096 elements, on the 2-core
/// AMD EPYC of `docs/benchmarks.md`; `perf record` of a loop over this call, then the
/// instructions of the sampled basic blocks of `simd::x86::on_avx512` counted from
/// `objdump -d`): 146 instructions per 16 elements, of which 65 are FP arithmetic (about 33
/// multiplies, 30 adds / subtracts, 2 divisions), 69 other vector operations (compares,
/// selects, the integer steps of `exp` and `ln`, constant broadcasts) and 12 scalar ones
/// (the loop and the blocked sum's counter); nothing is spilled to the stack. At about 1.3 ns per
/// element and 2.6 GHz that is about 53 cycles per vector: the 134 vector operations bound
/// the loop, not memory (the roofline's floor is 0.1 ns per element in cache) and not the two
/// divisions (one reciprocal `1/(1+e)` shared by σ(x), σ(−x) and the `ln(1+e)` correction,
/// and `f/(2+f)` in `ln`). What was cut: γ = 2 runs a loop without the γ-variant branch, the
/// whole vectors take exact-length slices (no tail test per vector), the sum's fold is
/// inlined so its state stays in registers, `u8` targets widen in one instruction, and
/// integer γ <= 2 takes products, not `exp`/`ln`.
///
/// On a Cortex-M4F (one lane; `fp_sigmoid_simd` of the firmware, γ 2 given at run time, `f32`
/// targets, α set; the per-address counts of `qemu-system-arm -singlestep -d exec` over 40
/// elements) the loop body is 191 instructions per element: 51 floating-point operations (two
/// of them divisions), 24 compares with their flag transfers (`vcmp` + `vmrs`: the range
/// clamps of `exp`, the sign selects, the input checks), 33 `it` blocks and conditional
/// moves (the selects, each now one conditional `vmov`), 21 integer steps (`exp`'s `2^k` and
/// `ln`'s exponent and mantissa bits), 17 register moves between the core and the FPU, 15 loads
/// and stores (inputs, the gradient, the blocked sum's group held in memory), 13 constant
/// loads and 17 loop and branch instructions (the γ variant is matched per element there:
/// one loop for every γ, for flash).
#[inline(always)]
fn sweep<V: SimdF32, T: BinaryTarget, S: Sink, const WEIGHTED: bool, F>(
    inputs: Inputs<'_, F, T>,
    sink: &mut S,
    element: impl Element<V>,
) -> (Pair, bool) {
    let Inputs {
        pass,
        logits,
        targets,
        weights,
    } = inputs;
    let lanes = V::LANES;
    let one = V::splat(1.0);
    let step = Step {
        element,
        alpha: pass.alpha.map(|a| (V::splat(a), V::splat(1.0 - a))),
        grad_scale: V::splat(sink.grad_scale()),
    };
    let out = sink.out();
    let mut sum = BlockSum::new();
    let mut bad = V::zero().lt(V::zero());
    // Whole vectors: zipped chunks of exactly `lanes` values, one counter and no bounds
    // checks. Without weights the logits stand in for them (the chunk is not read).
    let ws_source = if WEIGHTED { weights } else { logits };
    let (xs, ts, ws) = (
        logits.chunks_exact(lanes),
        targets.chunks_exact(lanes),
        ws_source.chunks_exact(lanes),
    );
    let (x_tail, t_tail, w_tail) = (xs.remainder(), ts.remainder(), ws.remainder());
    let inputs = xs.zip(ts).zip(ws);
    let load = |((x, t), w): ((&[f32], &[T]), &[f32])| {
        let w = if WEIGHTED { V::load(w) } else { one };
        (V::load(x), V::from_fn_of(t, |t| t.to_f32()), w)
    };
    let mut outs = out.chunks_exact_mut(lanes);
    if S::WRITES == Writes::Nothing {
        for chunk in inputs {
            let (x, t, w) = load(chunk);
            step.run::<T, S, WEIGHTED>(x, t, w, &mut sum, &mut bad);
        }
    } else {
        for (chunk, dst) in inputs.zip(&mut outs) {
            let (x, t, w) = load(chunk);
            step.run::<T, S, WEIGHTED>(x, t, w, &mut sum, &mut bad)
                .store(dst);
        }
    }
    // The tail, padded with zeros (weight 0 without weights); never on one lane.
    if !x_tail.is_empty() {
        let x = V::load(x_tail);
        let t = V::from_fn_of(t_tail, |t| t.to_f32());
        let w = if WEIGHTED {
            V::load(w_tail)
        } else {
            V::lane_indices()
                .lt(V::splat(x_tail.len() as f32))
                .select(one, V::zero())
        };
        let values = step.run::<T, S, WEIGHTED>(x, t, w, &mut sum, &mut bad);
        if S::WRITES != Writes::Nothing {
            values.store(outs.into_remainder());
        }
    }
    (sum.finish(), bad.any())
}

/// What one vector of the pass computes, besides its inputs.
struct Step<V, E> {
    element: E,
    /// `(α, 1 − α)`.
    alpha: Option<(V, V)>,
    grad_scale: V,
}

impl<V: SimdF32, E: Element<V>> Step<V, E> {
    /// One vector: adds its weighted losses to `sum`, marks bad inputs in `bad`, and returns
    /// what the sink writes (the gradient or the losses).
    #[inline(always)]
    fn run<T: BinaryTarget, S: Sink, const WEIGHTED: bool>(
        &self,
        x: V,
        t: V,
        w: V,
        sum: &mut BlockSum,
        bad: &mut V::Mask,
    ) -> V {
        let (zero, one) = (V::zero(), V::splat(1.0));
        let (fl, dfl, extra) = if E::EXTRA_GRAD {
            self.element.focal_extra(x, t)
        } else {
            let (fl, dfl) = self.element.focal(x, t);
            (fl, dfl, zero)
        };
        let factor = match self.alpha {
            Some((a, not_a)) => (a * t + not_a * (one - t)) * w,
            None => w,
        };
        let loss = factor.eq(zero).select(zero, factor * fl);
        sum.add(loss.to_array().as_ref());

        let target_ok = if T::ALWAYS_HARD {
            t.le(one)
        } else if E::BINARY_TARGETS {
            t.eq(zero) | t.eq(one)
        } else {
            t.ge(zero) & t.le(one)
        };
        let mut ok = target_ok & x.eq(x);
        if WEIGHTED {
            ok = ok & w.ge(zero) & w.lt(V::splat(f32::INFINITY));
        }
        *bad = *bad | !ok;
        if S::WRITES == Writes::Grad && E::EXTRA_GRAD {
            (factor * dfl + extra) * self.grad_scale
        } else if S::WRITES == Writes::Grad {
            factor * dfl * self.grad_scale
        } else {
            loss
        }
    }
}

/// The error for the first bad input, in the documented order: targets, weights, logits.
/// With `binary`, a target in (0, 1) is [`FocalError::NonBinaryTarget`].
#[cold]
fn first_bad_input<T: BinaryTarget>(
    logits: &[f32],
    targets: &[T],
    weights: Option<&[f32]>,
    binary: bool,
) -> Result<(), FocalError> {
    if let Some((index, value)) = targets
        .iter()
        .map(|t| t.to_f32())
        .enumerate()
        .find(|&(_, t)| !(0.0..=1.0).contains(&t) || (binary && t != 0.0 && t != 1.0))
    {
        return Err(if (0.0..=1.0).contains(&value) {
            FocalError::NonBinaryTarget { index, value }
        } else {
            FocalError::InvalidTarget { index, value }
        });
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
