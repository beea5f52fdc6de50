//! detectron2's running normaliser of a detection loss by the number of positive anchors.

/// The running number of positive anchors that detectron2's RetinaNet divides its losses by
/// (`loss_normalizer`): `n ← 0.9·n + 0.1·max(#positives, 1)`, starting at 100. A smoothed
/// count keeps the loss scale steady when one batch has few positives.
///
/// Feed the value [`update`](Self::update) returns to `Reduction::MeanOver` (it is always
/// finite and > 0). The arithmetic is `f32` (detectron2's is Python `float`): the value
/// differs from detectron2's by rounding only.
///
/// ```
/// use focal_loss::{PositiveNormaliser, Reduction, SigmoidFocal};
/// let mut norm = PositiveNormaliser::new();
/// let (x, t) = ([2.0f32, -1.0, -3.0], [1u8, 0, 0]);
/// let positives = t.iter().filter(|&&t| t == 1).count();
/// let n = norm.update(positives);
/// assert!((n - 90.1).abs() < 1e-4);
/// let loss = SigmoidFocal::RETINANET.loss(&x, &t, Reduction::MeanOver(n))?;
/// assert!(loss > 0.0);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PositiveNormaliser {
    value: f32,
}

/// detectron2's `loss_normalizer_momentum`.
const MOMENTUM: f32 = 0.9;
/// `1 − MOMENTUM`, rounded once.
const STEP: f32 = 0.1;
/// detectron2's initial `loss_normalizer`.
const START: f32 = 100.0;

impl PositiveNormaliser {
    /// A normaliser at detectron2's start, 100.
    ///
    /// ```
    /// assert_eq!(focal_loss::PositiveNormaliser::new().value(), 100.0);
    /// ```
    pub const fn new() -> Self {
        PositiveNormaliser { value: START }
    }

    /// Takes one batch's number of positives and returns the new value,
    /// `0.9·n + 0.1·max(num_positives, 1)`.
    ///
    /// ```
    /// let mut norm = focal_loss::PositiveNormaliser::new();
    /// assert_eq!(norm.update(0), norm.value());
    /// assert!((norm.value() - 90.1).abs() < 1e-4);
    /// ```
    pub fn update(&mut self, num_positives: usize) -> f32 {
        let count = num_positives.max(1) as f32;
        self.value = MOMENTUM * self.value + STEP * count;
        self.value
    }

    /// The current value.
    ///
    /// ```
    /// let mut norm = focal_loss::PositiveNormaliser::new();
    /// let n = norm.update(10);
    /// assert_eq!(norm.value(), n);
    /// ```
    pub const fn value(&self) -> f32 {
        self.value
    }
}

impl Default for PositiveNormaliser {
    /// [`PositiveNormaliser::new`].
    ///
    /// ```
    /// use focal_loss::PositiveNormaliser;
    /// assert_eq!(PositiveNormaliser::default(), PositiveNormaliser::new());
    /// ```
    fn default() -> Self {
        Self::new()
    }
}
