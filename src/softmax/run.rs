//! Runs the row formulas over a batch: [`WIDTH`] rows (samples, or pixels for channels-first)
//! per step, one row per lane, the last step padded; targets validated first, NaN logits
//! caught from the row sums, losses summed in row order.

use super::math::{Rows, hard_rows, soft_rows};
use crate::Kernel;
use crate::error::{FocalError, Operand, check_len};
use crate::focusing::Focusing;
use crate::kernel_math::KernelMath;
use crate::simd::{F32s, SimdF32, WIDTH};
use crate::sink::{Sink, Writes};
use crate::sum::BlockSum;
use crate::target::SoftmaxTarget;

/// Where the logit of class `j` of row `p` lives: `base(p) + j·stride`.
#[derive(Clone, Copy)]
pub(crate) struct Shape {
    /// Classes per row.
    pub classes: usize,
    /// Spatial positions per image (1 for row-major).
    pub spatial: usize,
}

impl Shape {
    /// Offset of class 0 of row `p`.
    #[inline(always)]
    fn base(self, p: usize) -> usize {
        if self.spatial == 1 {
            p * self.classes
        } else {
            (p / self.spatial) * self.classes * self.spatial + p % self.spatial
        }
    }

    /// Distance between consecutive classes of a row.
    #[inline(always)]
    fn stride(self) -> usize {
        self.spatial
    }
}

/// One pass's hyper-parameters.
#[derive(Clone, Copy)]
pub(crate) struct Pass<'a> {
    pub kernel: Kernel,
    pub gamma: f32,
    pub focusing: Focusing,
    pub alpha: Option<&'a [f32]>,
    pub ignore_index: Option<i64>,
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
    let Shape { classes, spatial } = pass.shape;
    // `with_layout` guarantees the product fits.
    let row = classes.saturating_mul(spatial);
    if !logits.len().is_multiple_of(row) {
        return Err(FocalError::LogitsShape {
            len: logits.len(),
            row,
        });
    }
    let rows = logits.len() / classes;
    let expected = if T::PER_CLASS { logits.len() } else { rows };
    check_len(Operand::Targets, expected, targets.len())?;
    Ok(rows)
}

/// Validates the targets (lengths already checked) and returns how many rows count for
/// `Reduction::Mean`.
pub(crate) fn counted_rows<T: SoftmaxTarget>(
    pass: &Pass<'_>,
    rows: usize,
    targets: &[T],
) -> Result<usize, FocalError> {
    if T::PER_CLASS {
        validate_soft(pass.shape, targets)?;
        return Ok(rows);
    }
    let classes = pass.shape.classes;
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
    let rows = targets.len() / shape.classes;
    for row in 0..rows {
        let base = shape.base(row);
        let sum: f64 = (0..shape.classes)
            .map(|j| f64::from(targets[base + j * shape.stride()].probability()))
            .sum();
        if (sum - 1.0).abs() > f64::from(super::SOFT_TARGET_SUM_TOLERANCE) {
            return Err(FocalError::TargetRowSum {
                row,
                sum: sum as f32,
            });
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
) -> Result<f64, FocalError> {
    let scale = sink.grad_scale();
    let out = Output {
        writes: S::WRITES,
        out: sink.out(),
        scale,
    };
    all_rows(pass, logits, targets, out)
}

/// A [`Sink`] taken apart, so that [`all_rows`] is one function per target type whatever the
/// sink: a row's work (C exponentials) dwarfs a branch per step on `writes`. (Measured on the
/// Cortex-M4F with `cargo xtask embedded-report`: a loop generic over the sink cost 15 % more
/// instructions for `loss_and_grad` with `Kernel::Libm`, 102 162 against 88 962 per 32
/// samples of 10 classes.)
struct Output<'o> {
    writes: Writes,
    out: &'o mut [f32],
    scale: f32,
}

/// [`run`] for any sink.
fn all_rows<T: SoftmaxTarget>(
    pass: Pass<'_>,
    logits: &[f32],
    targets: &[T],
    Output { writes, out, scale }: Output<'_>,
) -> Result<f64, FocalError> {
    let rows = logits.len() / pass.shape.classes;
    let mut sum = BlockSum::new();
    let mut nan = false;
    let mut first = 0;
    let scale = (writes == Writes::Grad).then_some(scale);
    while first < rows {
        let block = Block {
            first,
            valid: WIDTH.min(rows - first),
        };
        let grad: &mut [f32] = match writes {
            Writes::Grad => out,
            Writes::Nothing | Writes::Loss => &mut [],
        };
        let (loss, total) = match pass.kernel {
            Kernel::Simd => block_simd(&pass, block, logits, targets, grad, scale),
            Kernel::Libm => block_libm(&pass, block, logits, targets, grad, scale),
        };
        let mut padded = [0.0f32; WIDTH];
        padded[..block.valid].copy_from_slice(&loss[..block.valid]);
        sum.add(&padded);
        nan |= total[..block.valid].iter().any(|t| t.is_nan());
        if writes == Writes::Loss {
            out[first..first + block.valid].copy_from_slice(&loss[..block.valid]);
        }
        first += block.valid;
    }
    if nan && let Some(index) = logits.iter().position(|x| x.is_nan()) {
        return Err(FocalError::NonFiniteLogit { index });
    }
    Ok(sum.finish())
}

/// The rows of one step: `first .. first + valid`; lanes past `valid` repeat the last row.
#[derive(Clone, Copy)]
struct Block {
    first: usize,
    valid: usize,
}

impl Block {
    /// The row of lane `l`.
    #[inline(always)]
    fn row(self, l: usize) -> usize {
        self.first + l.min(self.valid - 1)
    }
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

/// `WIDTH` rows at once, one per lane.
fn block_simd<T: SoftmaxTarget>(
    pass: &Pass<'_>,
    block: Block,
    logits: &[f32],
    targets: &[T],
    grad: &mut [f32],
    scale: Option<f32>,
) -> ([f32; WIDTH], [f32; WIDTH]) {
    let shape = pass.shape;
    let rows: [usize; WIDTH] = core::array::from_fn(|l| block.row(l));
    let bases = rows.map(|r| shape.base(r));
    let span = LaneSpan {
        rows,
        bases,
        stride: shape.stride(),
        valid: block.valid,
        contiguous: block.valid == WIDTH && (1..WIDTH).all(|l| bases[l] == bases[0] + l),
    };
    let (loss, total) = block_math(pass, span, logits, targets, grad, scale);
    (loss.to_array(), total.to_array())
}

/// One row at a time with libm.
fn block_libm<T: SoftmaxTarget>(
    pass: &Pass<'_>,
    block: Block,
    logits: &[f32],
    targets: &[T],
    grad: &mut [f32],
    scale: Option<f32>,
) -> ([f32; WIDTH], [f32; WIDTH]) {
    let mut loss = [0.0f32; WIDTH];
    let mut total = [0.0f32; WIDTH];
    for l in 0..block.valid {
        let row = block.row(l);
        let span = RowSpan {
            row,
            base: pass.shape.base(row),
            stride: pass.shape.stride(),
        };
        (loss[l], total[l]) = block_math(pass, span, logits, targets, grad, scale);
    }
    (loss, total)
}

/// The row formulas on the rows of `span`, for either kind of target.
#[inline(always)]
fn block_math<R: KernelMath, S: Span<R>, T: SoftmaxTarget>(
    pass: &Pass<'_>,
    span: S,
    logits: &[f32],
    targets: &[T],
    grad: &mut [f32],
    scale: Option<f32>,
) -> (R, R) {
    let classes = pass.shape.classes;
    let scale = scale.map(R::splat);
    let mut rows = Batch { span, logits, grad };
    if T::PER_CLASS {
        let weight = |j: usize| {
            let y = span.per_logit(targets, j, |t| t.probability());
            match pass.alpha {
                Some(alpha) => y * R::splat(alpha[j]),
                None => y,
            }
        };
        soft_rows(&mut rows, classes, weight, pass.focusing, pass.gamma, scale)
    } else {
        let c = span.per_row(targets, |t| t.class() as f32);
        let weight = span.per_row(targets, |t| row_weight(pass, t));
        hard_rows(
            &mut rows,
            classes,
            c,
            weight,
            pass.focusing,
            pass.gamma,
            scale,
        )
    }
}

/// Where the rows of one step live, as lanes of `R`.
trait Span<R>: Copy {
    /// `f` of class `j` of each row in a slice shaped like the logits.
    fn per_logit<T: Copy>(self, values: &[T], j: usize, f: impl Fn(T) -> f32) -> R;
    /// `f` of each row's entry in a slice with one value per row (0 for padding lanes).
    fn per_row<T: Copy>(self, values: &[T], f: impl Fn(T) -> f32) -> R;
    /// Writes class `j` of each (valid) row into a slice shaped like the logits.
    fn store(self, out: &mut [f32], j: usize, v: R);
}

/// `WIDTH` rows, one per lane: class `j` of lane `l` at `bases[l] + j·stride`.
///
/// `contiguous` when the lanes are consecutive pixels of one channels-first image: then each
/// class is one plain vector load or store instead of a gather or scatter.
#[derive(Clone, Copy)]
struct LaneSpan {
    rows: [usize; WIDTH],
    bases: [usize; WIDTH],
    stride: usize,
    valid: usize,
    contiguous: bool,
}

impl Span<F32s> for LaneSpan {
    #[inline(always)]
    fn per_logit<T: Copy>(self, values: &[T], j: usize, f: impl Fn(T) -> f32) -> F32s {
        let offset = j * self.stride;
        if self.contiguous {
            let start = self.bases[0] + offset;
            if let Some(v) = values.get(start..start + WIDTH) {
                return F32s::from_array(core::array::from_fn(|l| f(v[l])));
            }
        }
        F32s::from_array(core::array::from_fn(|l| f(values[self.bases[l] + offset])))
    }

    #[inline(always)]
    fn per_row<T: Copy>(self, values: &[T], f: impl Fn(T) -> f32) -> F32s {
        F32s::from_array(core::array::from_fn(|l| {
            if l < self.valid {
                f(values[self.rows[l]])
            } else {
                0.0
            }
        }))
    }

    #[inline(always)]
    fn store(self, out: &mut [f32], j: usize, v: F32s) {
        let offset = j * self.stride;
        let values = v.to_array();
        if self.contiguous {
            let start = self.bases[0] + offset;
            if let Some(dst) = out.get_mut(start..start + WIDTH) {
                dst.copy_from_slice(&values);
                return;
            }
        }
        for (l, v) in values.into_iter().enumerate().take(self.valid) {
            out[self.bases[l] + offset] = v;
        }
    }
}

/// One row: class `j` at `base + j·stride`.
#[derive(Clone, Copy)]
struct RowSpan {
    row: usize,
    base: usize,
    stride: usize,
}

impl Span<f32> for RowSpan {
    #[inline(always)]
    fn per_logit<T: Copy>(self, values: &[T], j: usize, f: impl Fn(T) -> f32) -> f32 {
        f(values[self.base + j * self.stride])
    }

    #[inline(always)]
    fn per_row<T: Copy>(self, values: &[T], f: impl Fn(T) -> f32) -> f32 {
        f(values[self.row])
    }

    #[inline(always)]
    fn store(self, out: &mut [f32], j: usize, v: f32) {
        out[self.base + j * self.stride] = v;
    }
}

/// The logits and gradient of the rows of a [`Span`], as the row formulas see them.
struct Batch<'l, 'g, S> {
    span: S,
    logits: &'l [f32],
    grad: &'g mut [f32],
}

impl<R, S: Span<R>> Rows<R> for Batch<'_, '_, S> {
    #[inline(always)]
    fn logit(&self, j: usize) -> R {
        self.span.per_logit(self.logits, j, |x| x)
    }

    #[inline(always)]
    fn set_grad(&mut self, j: usize, g: R) {
        self.span.store(self.grad, j, g);
    }

    #[inline(always)]
    fn grad(&self, j: usize) -> R {
        self.span.per_logit(self.grad, j, |x| x)
    }
}
