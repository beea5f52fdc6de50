//! Runs the row formulas over a batch, a block of rows (samples, or pixels for channels-first)
//! per step, the last block padded; targets validated first, NaN logits caught from the row
//! sums, losses summed in row order.
//!
//! A block is `R::LANES` rows, and its per-row values are one row per lane. The traversal
//! that reads it depends on the layout and the class count, never the bits (every traversal
//! sums the classes in the canonical order of [`crate::sum::fold_partials`]):
//!
//! - row-major with at least [`ACROSS_MIN_CLASSES`] classes, on lanes that are a multiple of
//!   eight: [`Across`], a row's classes across the lanes with plain loads;
//! - row-major with at most [`TRANSPOSED_MAX_CLASSES`] classes, on more than one lane:
//!   [`Transposed`], the block copied into one vector per class;
//! - otherwise (channels-first, and every block on one lane): [`LaneRows`], one row per
//!   lane in place, a plain load per class for consecutive pixels.

use core::marker::PhantomData;
use core::num::NonZeroUsize;

use super::across::Across;
use super::lanes::{Block, LaneRows, MAX_LANES, TRANSPOSED_MAX_CLASSES, Transposed, contiguous};
use super::math::{HardTargets, Modifier, Rows, hard_rows, soft_rows};
use crate::Kernel;
use crate::dispatch;
use crate::error::{FocalError, Operand, check_len};
use crate::focusing::Focusing;
use crate::kernel_math::KernelMath;
use crate::simd::{SimdF32, Single};
use crate::sink::{Sink, Writes};
use crate::sum::BlockSum;
use crate::target::SoftmaxTarget;
use crate::total::Pair;

/// From this class count on, row-major rows are read across the lanes ([`Across`]).
const ACROSS_MIN_CLASSES: usize = 16;

/// Where the logit of class `j` of row `p` lives: `base(p) + j·stride`.
#[derive(Clone, Copy)]
///
/// Both counts are non-zero by type, so no pass divides by zero.
pub(crate) struct Shape {
    /// Classes per row.
    pub classes: NonZeroUsize,
    /// Spatial positions per image (1 for row-major).
    pub spatial: NonZeroUsize,
}

/// One pass's hyper-parameters.
#[derive(Clone, Copy)]
pub(crate) struct Pass<'a> {
    pub kernel: Kernel,
    pub gamma: f32,
    pub focusing: Focusing,
    /// Poly-1 or the reduced focal loss, if either is set.
    pub modifier: Modifier,
    pub alpha: Option<&'a [f32]>,
    pub ignore_index: Option<i64>,
    /// A weight per row (sample, or pixel), validated, if the entry point takes them.
    pub weights: Option<&'a [f32]>,
    pub shape: Shape,
}

/// The lengths: `logits` must hold whole images (rows of C, or C × spatial for
/// channels-first) and `targets` one class per row (one probability per logit for soft
/// targets). Returns the number of rows.
pub(crate) fn checked_rows<T: SoftmaxTarget>(
    pass: &Pass<'_>,
    logits: &[f32],
    targets: &[T],
) -> Result<usize, FocalError> {
    if T::PER_CLASS && pass.modifier.poly().is_some() {
        return Err(FocalError::PolyWithSoftTargets);
    }
    let Shape { classes, spatial } = pass.shape;
    // `with_layout` guarantees the product fits.
    let row = classes.saturating_mul(spatial).get();
    if !logits.len().is_multiple_of(row) {
        return Err(FocalError::LogitsShape {
            len: logits.len(),
            row,
        });
    }
    let rows = logits.len() / classes;
    let expected = if T::PER_CLASS { logits.len() } else { rows };
    check_len(Operand::Targets, expected, targets.len())?;
    if let Some(weights) = pass.weights {
        check_len(Operand::Weights, rows, weights.len())?;
    }
    Ok(rows)
}

/// Validates the targets, then the weights (lengths already checked), and returns how many
/// rows count for `Reduction::Mean` (weights do not change it).
pub(crate) fn counted_rows<T: SoftmaxTarget>(
    pass: &Pass<'_>,
    rows: usize,
    targets: &[T],
) -> Result<usize, FocalError> {
    let counted = counted_targets(pass, rows, targets)?;
    if let Some((index, &value)) = pass
        .weights
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(FocalError::InvalidWeight { index, value });
    }
    Ok(counted)
}

/// Validates the targets and returns how many rows count for `Reduction::Mean`.
fn counted_targets<T: SoftmaxTarget>(
    pass: &Pass<'_>,
    rows: usize,
    targets: &[T],
) -> Result<usize, FocalError> {
    if T::PER_CLASS {
        validate_soft(pass.shape, targets)?;
        return Ok(rows);
    }
    let classes = pass.shape.classes.get();
    let mut counted = 0;
    for (index, t) in targets.iter().enumerate() {
        let value = t.class();
        if Some(value) == pass.ignore_index {
            continue;
        }
        if !(0..classes as i64).contains(&value) {
            return Err(FocalError::ClassOutOfRange {
                index,
                value,
                num_classes: classes,
            });
        }
        counted += 1;
    }
    Ok(counted)
}

/// Soft targets within [0, 1] that sum to 1 per row.
fn validate_soft<T: SoftmaxTarget>(shape: Shape, targets: &[T]) -> Result<(), FocalError> {
    if let Some((index, value)) = targets
        .iter()
        .map(|t| t.probability())
        .enumerate()
        .find(|(_, y)| !(0.0..=1.0).contains(y))
    {
        return Err(FocalError::InvalidTarget { index, value });
    }
    // Image by image (one row for row-major), pixel by pixel: a row is every `spatial`-th
    // target from its pixel's offset, so the rows come in order.
    let spatial = shape.spatial.get();
    let images = targets.chunks_exact(shape.classes.saturating_mul(shape.spatial).get());
    let pixels = images.flat_map(|image| (0..spatial).map(move |p| (image, p)));
    for (row, (image, pixel)) in pixels.enumerate() {
        let mut sum = Pair::ZERO;
        for t in image.iter().skip(pixel).step_by(spatial) {
            sum.add(t.probability());
        }
        sum.renormalise();
        // The renormalised pair's `hi` is its sum rounded to `f32`.
        if (sum.hi - 1.0).abs() > super::SOFT_TARGET_SUM_TOLERANCE {
            return Err(FocalError::TargetRowSum { row, sum: sum.hi });
        }
    }
    Ok(())
}

/// Runs the pass over all rows (targets already validated). Returns the sum of the losses.
///
/// The sink's slice has the length its [`Writes`] needs (checked by the caller).
pub(crate) fn run<T: SoftmaxTarget, S: Sink>(
    pass: Pass<'_>,
    logits: &[f32],
    targets: &[T],
    mut sink: S,
) -> Result<Pair, FocalError> {
    let scale = sink.grad_scale();
    let inputs = Inputs {
        pass,
        logits,
        targets,
        out: sink.out(),
        scale,
        sink: PhantomData::<S>,
    };
    match pass.kernel {
        Kernel::Simd => simd_rows(inputs),
        Kernel::Libm => libm_rows(inputs),
    }
}

/// [`all_rows`] with `Kernel::Simd`, on the lanes [`dispatch`] picks.
///
/// Each kernel's pass is a function of its own, so that neither's stack frame adds to the
/// other's where a caller picks the kernel at run time (together they would exceed 1 KiB on a
/// Cortex-M), and one per sink, so that what it writes is a constant inside: a pass that
/// writes no gradient compiles none, and a firmware that links one entry point links one
/// pass.
#[inline(never)]
fn simd_rows<T: SoftmaxTarget, S: Sink>(inputs: Inputs<'_, '_, T, S>) -> Result<Pair, FocalError> {
    dispatch::run(SimdRows(inputs))
}

/// [`all_rows`] with `Kernel::Libm`, one row at a time (see [`simd_rows`]).
#[inline(never)]
fn libm_rows<T: SoftmaxTarget, S: Sink>(inputs: Inputs<'_, '_, T, S>) -> Result<Pair, FocalError> {
    all_rows::<f32, T, S>(inputs, lane_block)
}

/// The operands of one pass (lengths checked, targets validated), with the sink taken apart:
/// the slice it writes, the gradient's scale, and `S::WRITES`, what it writes.
struct Inputs<'a, 'o, T, S> {
    pass: Pass<'a>,
    logits: &'a [f32],
    targets: &'a [T],
    out: &'o mut [f32],
    scale: f32,
    sink: PhantomData<S>,
}

/// What a block step needs besides its rows: the pass, the operands, the gradient's scale.
#[derive(Clone, Copy)]
struct Step<'a, T> {
    pass: Pass<'a>,
    logits: &'a [f32],
    targets: &'a [T],
    /// The gradient's scale when the pass writes a gradient.
    scale: Option<f32>,
}

/// [`all_rows`] on the lanes [`dispatch`] picks, each block read by the traversal its layout
/// and class count call for.
struct SimdRows<'a, 'o, T, S>(Inputs<'a, 'o, T, S>);

impl<T: SoftmaxTarget, S: Sink> dispatch::Job for SimdRows<'_, '_, T, S> {
    type Output = Result<Pair, FocalError>;
    #[inline(always)]
    fn run<V: SimdF32>(self) -> Self::Output {
        let Shape { classes, spatial } = self.0.pass.shape;
        let (classes, row_major) = (classes.get(), spatial == NonZeroUsize::MIN);
        let lanes = <V as SimdF32>::LANES;
        if row_major && lanes % 8 == 0 && lanes <= MAX_LANES && classes >= ACROSS_MIN_CLASSES {
            all_rows::<V, T, S>(
                self.0,
                #[inline(always)]
                |s, b, g| across_block(s, b, g),
            )
        } else if row_major && lanes > 1 && classes <= TRANSPOSED_MAX_CLASSES && !T::PER_CLASS {
            match classes {
                0..=4 => all_rows::<V, T, S>(
                    self.0,
                    #[inline(always)]
                    |s, b, g| transposed_block::<V, T, 4, 4>(s, b, g),
                ),
                5..=8 => all_rows::<V, T, S>(
                    self.0,
                    #[inline(always)]
                    |s, b, g| transposed_block::<V, T, 8, 8>(s, b, g),
                ),
                9..=12 => all_rows::<V, T, S>(
                    self.0,
                    #[inline(always)]
                    |s, b, g| transposed_block::<V, T, 12, 8>(s, b, g),
                ),
                _ => all_rows::<V, T, S>(
                    self.0,
                    #[inline(always)]
                    |s, b, g| transposed_block::<V, T, TRANSPOSED_MAX_CLASSES, 8>(s, b, g),
                ),
            }
        } else {
            all_rows::<V, T, S>(
                self.0,
                #[inline(always)]
                |s, b, g| lane_block(s, b, g),
            )
        }
    }
}

/// [`run`] for any sink, `R::LANES` rows per step, each step's rows read by `block`.
#[inline(always)]
fn all_rows<R: KernelMath, T: SoftmaxTarget, S: Sink>(
    inputs: Inputs<'_, '_, T, S>,
    mut block: impl FnMut(Step<'_, T>, Block, &mut [f32]) -> (R, R),
) -> Result<Pair, FocalError> {
    let Inputs {
        pass,
        logits,
        targets,
        out,
        scale,
        ..
    } = inputs;
    let writes = S::WRITES;
    let step = Step {
        pass,
        logits,
        targets,
        scale: (writes == Writes::Grad).then_some(scale),
    };
    let rows = logits.len() / pass.shape.classes;
    let mut sum = BlockSum::new();
    let mut nan = false;
    let mut first = 0;
    while first < rows {
        let rows_here = Block {
            first,
            valid: R::LANES.min(rows - first),
        };
        let grad: &mut [f32] = match writes {
            Writes::Grad => out,
            Writes::Nothing | Writes::Loss => &mut [],
        };
        let (loss, total) = block(step, rows_here, grad);
        let valid = rows_here.valid;
        let mut loss = loss.to_array();
        loss.as_mut().iter_mut().skip(valid).for_each(|l| *l = 0.0);
        sum.add(loss.as_ref());
        // Lanes past `valid` repeat a valid row, so they are NaN only if it is.
        nan |= R::any(!total.eq(total));
        if writes == Writes::Loss {
            // `out` has a loss per row (checked by the caller); zipped, so that no index
            // can be out of bounds.
            let block_out = out.iter_mut().skip(first).take(valid);
            block_out.zip(loss.as_ref()).for_each(|(o, &l)| *o = l);
        }
        first += valid;
    }
    if nan && let Some(index) = logits.iter().position(|x| x.is_nan()) {
        return Err(FocalError::NonFiniteLogit { index });
    }
    Ok(sum.finish())
}

/// The weight of a row with hard target `t`: α_t (1 without α), 0 when ignored.
#[inline(always)]
fn row_weight<T: SoftmaxTarget>(pass: &Pass<'_>, t: T) -> f32 {
    let c = t.class();
    if Some(c) == pass.ignore_index {
        return 0.0;
    }
    match pass.alpha {
        Some(alpha) => alpha.get(c as usize).copied().unwrap_or(0.0),
        None => 1.0,
    }
}

/// Poly-1's ε for a row with hard target `t`: 0 when ignored (and without Poly-1).
#[inline(always)]
fn row_poly<T: SoftmaxTarget>(pass: &Pass<'_>, t: T) -> f32 {
    match pass.modifier.poly() {
        Some(epsilon) if Some(t.class()) != pass.ignore_index => epsilon,
        _ => 0.0,
    }
}

/// The class of hard target `t` as an index into a row (0 for an ignored row, whose class
/// may lie outside `0..C`).
#[inline(always)]
fn class_index<T: SoftmaxTarget>(t: T, classes: usize) -> usize {
    usize::try_from(t.class())
        .ok()
        .filter(|&c| c < classes)
        .unwrap_or(0)
}

/// The class, logit of that class and weight of a row-major row with hard target `t`.
#[inline(always)]
fn hard_target<T: SoftmaxTarget>(pass: &Pass<'_>, t: T, row: &[f32]) -> [f32; 4] {
    let z = row.get(class_index(t, pass.shape.classes.get()));
    let z = z.copied().unwrap_or(f32::NAN);
    [t.class() as f32, z, row_weight(pass, t), row_poly(pass, t)]
}

/// [`HardTargets`] from the lanes of [`hard_target`].
#[inline(always)]
fn hard_targets<R>([class, logit, weight, poly]: [R; 4]) -> HardTargets<R> {
    HardTargets {
        class,
        logit,
        weight,
        poly,
    }
}

/// The row formulas on `rows`, for either kind of target; `hard` gives the hard targets of
/// the block's rows, and `weights` their weights when the pass has weights.
///
/// A row's weight `w` multiplies its loss (a zero weight gives exactly 0, even where the
/// loss is infinite) and its gradient's scale; a pass without weights multiplies nothing.
#[inline(always)]
fn block_math<R: KernelMath, B: Rows<R>>(
    pass: &Pass<'_>,
    rows: &mut B,
    soft: bool,
    hard: impl FnOnce(&B) -> HardTargets<R>,
    weights: impl FnOnce(&B) -> R,
    scale: Option<f32>,
) -> (R, R) {
    let weight = pass.weights.map(|_| weights(rows));
    let scale = match (scale, weight) {
        (Some(scale), Some(w)) => Some(R::splat(scale) * w),
        (scale, _) => scale.map(R::splat),
    };
    let (loss, total) = if soft {
        soft_rows(
            rows,
            pass.focusing,
            (pass.gamma, pass.modifier.reduced()),
            scale,
        )
    } else {
        let target = hard(rows);
        let formula = (pass.gamma, pass.modifier);
        hard_rows(rows, target, pass.focusing, formula, scale)
    };
    match weight {
        Some(w) => (R::select(w.eq(R::splat(0.0)), w, loss * w), total),
        None => (loss, total),
    }
}

/// The weight of block row `r` (`first + r` in the batch); 0 for a pass without weights
/// (never read then).
#[inline(always)]
fn weight_of(pass: &Pass<'_>, row: usize) -> f32 {
    pass.weights
        .and_then(|w| w.get(row))
        .copied()
        .unwrap_or(0.0)
}

/// One block read in place, one row per lane ([`LaneRows`]): with plain loads when its rows
/// are consecutive pixels, else with gathers.
#[inline(always)]
fn lane_block<R: KernelMath, T: SoftmaxTarget>(
    step: Step<'_, T>,
    block: Block,
    grad: &mut [f32],
) -> (R, R) {
    if R::LANES > 1 && block.valid * 8 <= R::LANES {
        one_lane_rows(step, block, grad)
    } else if contiguous(block, step.pass.shape.spatial, R::LANES) {
        lane_rows::<R, T, true>(step, block, grad)
    } else {
        lane_rows::<R, T, false>(step, block, grad)
    }
}

/// A block of so few rows that a lane of its own for each costs less than a full vector:
/// the rows one at a time on [`Single`] (whose lane computes the bits of any other lane).
#[inline(always)]
fn one_lane_rows<R: KernelMath, T: SoftmaxTarget>(
    step: Step<'_, T>,
    block: Block,
    grad: &mut [f32],
) -> (R, R) {
    let mut loss = R::Array::default();
    let mut total = R::Array::default();
    for l in 0..block.valid {
        let row = Block {
            first: block.first + l,
            valid: 1,
        };
        let (lo, to): (Single, Single) = lane_rows::<Single, T, true>(step, row, grad);
        // `valid <= R::LANES`, the arrays' length.
        if let (Some(loss), Some(total)) = (loss.as_mut().get_mut(l), total.as_mut().get_mut(l)) {
            (*loss, *total) = (lo.0, to.0);
        }
    }
    (R::from_array(loss), R::from_array(total))
}

/// [`lane_block`] for one kind of [`LaneRows`].
#[inline(always)]
fn lane_rows<R: KernelMath, T: SoftmaxTarget, const CONTIGUOUS: bool>(
    step: Step<'_, T>,
    block: Block,
    grad: &mut [f32],
) -> (R, R) {
    let Step {
        pass,
        logits,
        targets,
        scale,
    } = step;
    let Shape { classes, spatial } = pass.shape;
    let classes = classes.get();
    let mut rows = LaneRows::<T, CONTIGUOUS>::new(
        logits,
        grad,
        targets,
        pass.alpha,
        classes,
        spatial,
        block,
        R::LANES,
    );
    block_math(
        &pass,
        &mut rows,
        T::PER_CLASS,
        #[inline(always)]
        |rows| {
            let stride = rows.stride();
            hard_targets(rows.per_row(
                #[inline(always)]
                |r, base| match targets.get(r) {
                    Some(&t) => {
                        let z = logits.get(base + class_index(t, classes) * stride);
                        let z = z.copied().unwrap_or(f32::NAN);
                        [
                            t.class() as f32,
                            z,
                            row_weight(&pass, t),
                            row_poly(&pass, t),
                        ]
                    }
                    None => [f32::NAN; 4],
                },
            ))
        },
        #[inline(always)]
        |rows| {
            let [w] = rows.per_row(
                #[inline(always)]
                |r, _| [weight_of(&pass, r)],
            );
            w
        },
        scale,
    )
}

/// The logits, gradient (or empty) and targets of a row-major block's rows.
#[inline(always)]
fn block_rows<'a, 'g, T: SoftmaxTarget>(
    step: &Step<'a, T>,
    block: Block,
    grad: &'g mut [f32],
) -> (&'a [f32], &'g mut [f32], &'a [T]) {
    let classes = step.pass.shape.classes.get();
    let span = block.first * classes..(block.first + block.valid) * classes;
    // Total (`get`): the block lies within the validated slices, and a slice that did not
    // hold it would come out empty, never out of bounds.
    let grad = match grad.is_empty() {
        true => grad,
        false => grad.get_mut(span.clone()).unwrap_or_default(),
    };
    let targets = match T::PER_CLASS {
        true => step.targets.get(span.clone()),
        false => step.targets.get(block.first..block.first + block.valid),
    };
    let logits = step.logits.get(span).unwrap_or_default();
    (logits, grad, targets.unwrap_or_default())
}

/// One row-major block of many classes, read across the lanes ([`Across`]).
#[inline(always)]
fn across_block<V: SimdF32, T: SoftmaxTarget>(
    step: Step<'_, T>,
    block: Block,
    grad: &mut [f32],
) -> (V, V) {
    let pass = step.pass;
    let classes = pass.shape.classes.get();
    let (logits, grad, targets) = block_rows(&step, block, grad);
    let mut rows = Across::new(logits, grad, targets, pass.alpha, classes, block.valid);
    block_math(
        &pass,
        &mut rows,
        T::PER_CLASS,
        #[inline(always)]
        |rows| {
            hard_targets(rows.per_row(
                #[inline(always)]
                |r, row| match targets.get(r) {
                    Some(&t) => hard_target(&pass, t, row),
                    None => [f32::NAN; 4],
                },
            ))
        },
        #[inline(always)]
        |rows| {
            let [w] = rows.per_row(
                #[inline(always)]
                |r, _| [weight_of(&pass, block.first + r)],
            );
            w
        },
        step.scale,
    )
}

/// One row-major block of at most `W` classes (`P = min(W, 8)`), copied into one vector per
/// class ([`Transposed`]); hard targets only.
#[inline(always)]
fn transposed_block<R: KernelMath, T: SoftmaxTarget, const W: usize, const P: usize>(
    step: Step<'_, T>,
    block: Block,
    grad: &mut [f32],
) -> (R, R) {
    let pass = step.pass;
    let classes = pass.shape.classes.get();
    let (logits, grad, targets) = block_rows(&step, block, grad);
    let mut rows = Transposed::<R, W, P>::new(logits, grad, classes, block.valid);
    let result = block_math(
        &pass,
        &mut rows,
        false,
        #[inline(always)]
        |rows| {
            let (class, weight, poly) = if pass.alpha.is_none() && pass.ignore_index.is_none() {
                let [class] = rows.per_row(
                    #[inline(always)]
                    |r, _| [targets.get(r).map_or(f32::NAN, |t| t.class() as f32)],
                );
                (
                    class,
                    R::splat(1.0),
                    R::splat(pass.modifier.poly().unwrap_or(0.0)),
                )
            } else {
                let [class, weight, poly] = rows.per_row(
                    #[inline(always)]
                    |r, _| match targets.get(r) {
                        Some(&t) => [t.class() as f32, row_weight(&pass, t), row_poly(&pass, t)],
                        None => [f32::NAN; 3],
                    },
                );
                (class, weight, poly)
            };
            HardTargets {
                class,
                logit: rows.logit_at(class),
                weight,
                poly,
            }
        },
        #[inline(always)]
        |rows| {
            let [w] = rows.per_row(
                #[inline(always)]
                |r, _| [weight_of(&pass, block.first + r)],
            );
            w
        },
        step.scale,
    );
    rows.write_back();
    result
}
