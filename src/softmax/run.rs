//! Runs the row formulas over a batch: [`WIDTH`] rows (samples, or pixels for channels-first)
//! per step, one row per lane, the last step padded; targets validated first, NaN logits
//! caught from the row sums, losses summed in row order.

use super::math::{Rows, hard_rows, soft_rows};
use crate::Kernel;
use crate::error::{FocalError, Operand};
use crate::focusing::Focusing;
use crate::simd::{SimdF32, WIDTH, Wide};
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

/// What a pass writes besides the sum of the losses.
pub(crate) enum Sink<'o> {
    /// Nothing.
    None,
    /// One loss per row.
    Loss(&'o mut [f32]),
    /// The gradient, one value per logit, times the scale.
    Grad(&'o mut [f32], f32),
}

/// Result of validating the targets: how many rows count for `Reduction::Mean`.
pub(crate) fn counted_rows<T: SoftmaxTarget>(
    pass: &Pass<'_>,
    logits: &[f32],
    targets: &[T],
) -> Result<usize, FocalError> {
    let Shape { classes, spatial } = pass.shape;
    let row = classes * spatial;
    if !logits.len().is_multiple_of(row) {
        return Err(FocalError::LogitsShape {
            len: logits.len(),
            row,
        });
    }
    let rows = logits.len() / classes;
    let expected = if T::PER_CLASS { logits.len() } else { rows };
    if targets.len() != expected {
        return Err(FocalError::LengthMismatch {
            operand: Operand::Targets,
            expected,
            found: targets.len(),
        });
    }
    if T::PER_CLASS {
        validate_soft(pass.shape, targets)?;
        return Ok(rows);
    }
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
pub(crate) fn run<T: SoftmaxTarget>(
    pass: Pass<'_>,
    logits: &[f32],
    targets: &[T],
    mut sink: Sink<'_>,
) -> Result<f64, FocalError> {
    let rows = logits.len() / pass.shape.classes;
    let mut sum = BlockSum::new();
    let mut nan = false;
    let mut first = 0;
    while first < rows {
        let block = Block {
            first,
            valid: WIDTH.min(rows - first),
        };
        let (grad, scale): (&mut [f32], _) = match &mut sink {
            Sink::Grad(g, s) => (g, Some(*s)),
            _ => (&mut [], None),
        };
        let (loss, total) = match pass.kernel {
            Kernel::Simd => block_simd(&pass, block, logits, targets, grad, scale),
            Kernel::Libm => block_libm(&pass, block, logits, targets, grad, scale),
        };
        let mut padded = [0.0f32; WIDTH];
        padded[..block.valid].copy_from_slice(&loss[..block.valid]);
        sum.add(&padded);
        nan |= total[..block.valid].iter().any(|t| t.is_nan());
        if let Sink::Loss(out) = &mut sink {
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
    let bases: [usize; WIDTH] = core::array::from_fn(|l| shape.base(block.row(l)));
    let stride = shape.stride();
    let contiguous = block.valid == WIDTH && (1..WIDTH).all(|l| bases[l] == bases[0] + l);
    let mut rows = Gathered {
        logits,
        grad,
        bases,
        stride,
        valid: block.valid,
        contiguous,
    };
    block_math(pass, block, &mut rows, targets, bases, scale)
}

/// The row formulas on `WIDTH` rows, whatever the access to their logits.
#[inline(always)]
fn block_math<T: SoftmaxTarget, B: Rows<Wide>>(
    pass: &Pass<'_>,
    block: Block,
    rows: &mut B,
    targets: &[T],
    bases: [usize; WIDTH],
    scale: Option<f32>,
) -> ([f32; WIDTH], [f32; WIDTH]) {
    let shape = pass.shape;
    let stride = shape.stride();
    let scale = scale.map(Wide::splat);
    let (loss, total) = if T::PER_CLASS {
        let weight = |j: usize| {
            let y = Wide::from_array(core::array::from_fn(|l| {
                targets[bases[l] + j * stride].probability()
            }));
            match pass.alpha {
                Some(alpha) => y * Wide::splat(alpha[j]),
                None => y,
            }
        };
        soft_rows(
            rows,
            shape.classes,
            weight,
            pass.focusing,
            pass.gamma,
            scale,
        )
    } else {
        let t = |l: usize| targets[block.row(l)];
        let c = Wide::from_array(core::array::from_fn(|l| t(l).class() as f32));
        let weight = Wide::from_array(core::array::from_fn(|l| {
            if l < block.valid {
                row_weight(pass, t(l))
            } else {
                0.0
            }
        }));
        hard_rows(
            rows,
            shape.classes,
            c,
            weight,
            pass.focusing,
            pass.gamma,
            scale,
        )
    };
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
    let shape = pass.shape;
    let stride = shape.stride();
    let mut loss = [0.0f32; WIDTH];
    let mut total = [0.0f32; WIDTH];
    for l in 0..block.valid {
        let base = shape.base(block.row(l));
        let mut row = Single {
            logits,
            grad: &mut *grad,
            base,
            stride,
        };
        (loss[l], total[l]) = if T::PER_CLASS {
            let weight = |j: usize| {
                let y = targets[base + j * stride].probability();
                pass.alpha.map_or(y, |alpha| y * alpha[j])
            };
            soft_rows(
                &mut row,
                shape.classes,
                weight,
                pass.focusing,
                pass.gamma,
                scale,
            )
        } else {
            let t = targets[block.row(l)];
            let (c, weight) = (t.class() as f32, row_weight(pass, t));
            hard_rows(
                &mut row,
                shape.classes,
                c,
                weight,
                pass.focusing,
                pass.gamma,
                scale,
            )
        };
    }
    (loss, total)
}

/// `WIDTH` rows, one per lane: class `j` of lane `l` at `bases[l] + j·stride`.
///
/// `contiguous` when the lanes are consecutive pixels of one channels-first image: then each
/// class is one plain vector load or store instead of a gather or scatter.
struct Gathered<'l, 'g> {
    logits: &'l [f32],
    grad: &'g mut [f32],
    bases: [usize; WIDTH],
    stride: usize,
    valid: usize,
    contiguous: bool,
}

impl Gathered<'_, '_> {
    #[inline(always)]
    fn load(&self, values: &[f32], j: usize) -> Wide {
        let offset = j * self.stride;
        if self.contiguous {
            let start = self.bases[0] + offset;
            if let Some(v) = values
                .get(start..start + WIDTH)
                .and_then(|s| <&[f32; WIDTH]>::try_from(s).ok())
            {
                return Wide::from_array(*v);
            }
        }
        Wide::from_array(core::array::from_fn(|l| values[self.bases[l] + offset]))
    }
}

impl Rows<Wide> for Gathered<'_, '_> {
    #[inline(always)]
    fn logit(&self, j: usize) -> Wide {
        self.load(self.logits, j)
    }

    #[inline(always)]
    fn set_grad(&mut self, j: usize, g: Wide) {
        let offset = j * self.stride;
        let values = g.to_array();
        if self.contiguous {
            let start = self.bases[0] + offset;
            if let Some(dst) = self.grad.get_mut(start..start + WIDTH) {
                dst.copy_from_slice(&values);
                return;
            }
        }
        for (l, v) in values.into_iter().enumerate().take(self.valid) {
            self.grad[self.bases[l] + offset] = v;
        }
    }

    #[inline(always)]
    fn grad(&self, j: usize) -> Wide {
        self.load(self.grad, j)
    }
}

/// One row: class `j` at `base + j·stride`.
struct Single<'l, 'g> {
    logits: &'l [f32],
    grad: &'g mut [f32],
    base: usize,
    stride: usize,
}

impl Rows<f32> for Single<'_, '_> {
    #[inline(always)]
    fn logit(&self, j: usize) -> f32 {
        self.logits[self.base + j * self.stride]
    }

    #[inline(always)]
    fn set_grad(&mut self, j: usize, g: f32) {
        self.grad[self.base + j * self.stride] = g;
    }

    #[inline(always)]
    fn grad(&self, j: usize) -> f32 {
        self.grad[self.base + j * self.stride]
    }
}
