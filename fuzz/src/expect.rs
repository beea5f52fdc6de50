//! The error each input must give, computed here from the documented rules and check order,
//! independently of the library's validation code.

use focal_loss::{FocalError, Operand, Reduction, SOFT_TARGET_SUM_TOLERANCE};

/// Which entry point: what it reduces and which output slice it fills.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Entry {
    /// `loss` / `loss_weighted`.
    Loss(Reduction),
    /// `loss_per_element[_weighted]`, with the length of `out`.
    PerElement(usize),
    /// `loss_and_grad[_weighted]`, with the length of `grad`.
    AndGrad(Reduction, usize),
}

impl Entry {
    /// The reduction, for the reducing entry points.
    pub fn reduction(self) -> Option<Reduction> {
        match self {
            Entry::Loss(r) | Entry::AndGrad(r, _) => Some(r),
            Entry::PerElement(_) => None,
        }
    }

    /// The output slice and its length, if any.
    pub fn output(self) -> Option<(Operand, usize)> {
        match self {
            Entry::Loss(_) => None,
            Entry::PerElement(n) => Some((Operand::Output, n)),
            Entry::AndGrad(_, n) => Some((Operand::Grad, n)),
        }
    }
}

/// `Err` unless a `MeanOver` normaliser is finite and > 0.
pub fn normaliser(reduction: Option<Reduction>) -> Result<(), FocalError> {
    match reduction {
        Some(Reduction::MeanOver(value)) if !(value.is_finite() && value > 0.0) => {
            Err(FocalError::InvalidNormalizer { value })
        }
        _ => Ok(()),
    }
}

/// `Err` unless `found == expected`.
pub fn length(operand: Operand, expected: usize, found: usize) -> Result<(), FocalError> {
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

/// The first weight that is not finite and >= 0.
pub fn weights(weights: Option<&[f32]>) -> Result<(), FocalError> {
    match weights
        .unwrap_or(&[])
        .iter()
        .position(|w| !(w.is_finite() && *w >= 0.0))
    {
        Some(index) => Err(FocalError::InvalidWeight {
            index,
            value: weights.unwrap_or(&[])[index],
        }),
        None => Ok(()),
    }
}

/// The first NaN logit.
pub fn logits(logits: &[f32]) -> Result<(), FocalError> {
    match logits.iter().position(|x| x.is_nan()) {
        Some(index) => Err(FocalError::NonFiniteLogit { index }),
        None => Ok(()),
    }
}

/// The sigmoid family (the sigmoid form and the variants): the normaliser, then the lengths
/// of targets, weights and the output, then the first bad target (outside [0, 1]; with
/// `binary`, also in (0, 1)), weight and logit.
pub fn sigmoid_family(
    entry: Entry,
    logits_: &[f32],
    targets: &[f32],
    weights_: Option<&[f32]>,
    binary: bool,
) -> Result<(), FocalError> {
    let n = logits_.len();
    normaliser(entry.reduction())?;
    length(Operand::Targets, n, targets.len())?;
    if let Some(w) = weights_ {
        length(Operand::Weights, n, w.len())?;
    }
    if let Some((operand, len)) = entry.output() {
        length(operand, n, len)?;
    }
    for (index, &value) in targets.iter().enumerate() {
        if !(0.0..=1.0).contains(&value) {
            return Err(FocalError::InvalidTarget { index, value });
        }
        if binary && value != 0.0 && value != 1.0 {
            return Err(FocalError::NonBinaryTarget { index, value });
        }
    }
    weights(weights_)?;
    logits(logits_)
}

/// A softmax target as the checks see it.
#[derive(Debug, Clone, Copy)]
pub enum SoftmaxTargets<'t> {
    /// Class indices, as `i64` (a `usize` beyond `i64::MAX` as `i64::MAX`).
    Classes(&'t [i64]),
    /// Per-class probabilities.
    Soft(&'t [f32]),
}

/// The softmax form's shape: classes and spatial positions per image (1: row-major).
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// C.
    pub classes: usize,
    /// S (1 for row-major).
    pub spatial: usize,
}

impl Shape {
    /// Index of class `j` of row `p`.
    pub fn at(self, p: usize, j: usize) -> usize {
        let (image, s) = (p / self.spatial, p % self.spatial);
        (image * self.classes + j) * self.spatial + s
    }
}

/// The softmax form: the logits' shape, the lengths of targets, weights and the output;
/// then the targets (a class outside 0..C that is not the ignore index; soft: a probability
/// outside [0, 1], then a row whose sum rounded to `f32` is more than the tolerance from 1),
/// the weights, the normaliser, the first NaN logit. Returns the number of counted rows.
pub fn softmax(
    entry: Entry,
    shape: Shape,
    ignore: Option<i64>,
    logits_: &[f32],
    targets: SoftmaxTargets,
    weights_: Option<&[f32]>,
) -> Result<usize, FocalError> {
    let row = shape.classes * shape.spatial;
    if !logits_.len().is_multiple_of(row) {
        return Err(FocalError::LogitsShape {
            len: logits_.len(),
            row,
        });
    }
    let rows = logits_.len() / shape.classes;
    match targets {
        SoftmaxTargets::Classes(t) => length(Operand::Targets, rows, t.len())?,
        SoftmaxTargets::Soft(t) => length(Operand::Targets, logits_.len(), t.len())?,
    }
    if let Some(w) = weights_ {
        length(Operand::Weights, rows, w.len())?;
    }
    match entry {
        Entry::PerElement(len) => length(Operand::Output, rows, len)?,
        Entry::AndGrad(_, len) => length(Operand::Grad, logits_.len(), len)?,
        Entry::Loss(_) => {}
    }
    let counted = match targets {
        SoftmaxTargets::Classes(t) => {
            let mut counted = 0;
            for (index, &value) in t.iter().enumerate() {
                if Some(value) == ignore {
                    continue;
                }
                if !(0..shape.classes as i64).contains(&value) {
                    return Err(FocalError::ClassOutOfRange {
                        index,
                        value,
                        num_classes: shape.classes,
                    });
                }
                counted += 1;
            }
            counted
        }
        SoftmaxTargets::Soft(t) => {
            if let Some(index) = t.iter().position(|y| !(0.0..=1.0).contains(y)) {
                return Err(FocalError::InvalidTarget {
                    index,
                    value: t[index],
                });
            }
            for p in 0..rows {
                let exact: f64 = (0..shape.classes)
                    .map(|j| f64::from(t[shape.at(p, j)]))
                    .sum();
                let sum = exact as f32;
                if (sum - 1.0).abs() > SOFT_TARGET_SUM_TOLERANCE {
                    return Err(FocalError::TargetRowSum { row: p, sum });
                }
            }
            rows
        }
    };
    weights(weights_)?;
    normaliser(entry.reduction())?;
    logits(logits_)?;
    Ok(counted)
}

/// The same error, comparing floats by their bits (NaN values included).
pub fn same(a: &Result<(), FocalError>, b: &Result<(), FocalError>) -> bool {
    format!("{a:?}") == format!("{b:?}")
}
