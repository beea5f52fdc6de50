//! How per-element losses are reduced to one number, and the matching gradient scale.

use crate::FocalError;
use crate::total::Divisor;

/// How [`loss`](crate::SigmoidFocal::loss) and
/// [`loss_and_grad`](crate::SigmoidFocal::loss_and_grad) reduce the per-element losses.
///
/// The gradient is always the gradient of the reduced value, so it carries the same scale.
///
/// ```
/// use focal_loss::{Reduction, SigmoidFocal};
/// let fl = SigmoidFocal::new(0.0, None)?;
/// let (x, t) = ([0.0f32, 0.0], [1.0f32, 0.0]);
/// let sum = fl.loss(&x, &t, Reduction::Sum)?;
/// assert_eq!(fl.loss(&x, &t, Reduction::Mean)?, sum / 2.0);
/// // RetinaNet normalises by the number of positive anchors:
/// assert_eq!(fl.loss(&x, &t, Reduction::MeanOver(1.0))?, sum);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Reduction {
    /// The sum of the per-element losses.
    Sum,
    /// The sum divided by the number of elements (0 for empty input, never NaN). The default.
    #[default]
    Mean,
    /// The sum divided by a caller-chosen normaliser, such as RetinaNet's number of positive
    /// anchors or mmdet's `avg_factor`. Must be finite and > 0.
    MeanOver(f32),
}

impl Reduction {
    /// The mean over `count` things counted by the caller, such as RetinaNet's positive
    /// anchors: [`MeanOver`](Self::MeanOver)`(max(count, 1))`, so a batch without any does
    /// not divide by 0. (Counts above 2^24 are rounded to the nearest `f32`.)
    ///
    /// ```
    /// use focal_loss::Reduction;
    /// assert_eq!(Reduction::mean_over_count(0), Reduction::MeanOver(1.0));
    /// assert_eq!(Reduction::mean_over_count(37), Reduction::MeanOver(37.0));
    /// ```
    #[allow(clippy::cast_precision_loss)] // documented: rounded above 2^24
    pub fn mean_over_count(count: usize) -> Self {
        Reduction::MeanOver(count.max(1) as f32)
    }

    /// The divisor this reduction applies to the sum of `count` losses, validated, as the
    /// kernels use it: a pair of `f32`, exact for counts below 2^48 (for
    /// [`Mean`](Self::Mean), `max(count, 1)`).
    pub(crate) fn exact_divisor(self, count: usize) -> Result<Divisor, FocalError> {
        match self {
            Reduction::Sum => Ok(Divisor::of(1.0)),
            Reduction::Mean => Ok(Divisor::of_count(count.max(1))),
            Reduction::MeanOver(n) if n.is_finite() && n > 0.0 => Ok(Divisor::of(n)),
            Reduction::MeanOver(n) => Err(FocalError::InvalidNormalizer { value: n }),
        }
    }
}
