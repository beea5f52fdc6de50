//! Logistic regression: one linear unit.

use super::model::{Model, dot};

/// `logit = w · x + b` over `D` features.
///
/// ```
/// use focal_loss::train::{LogisticRegression, Model};
/// let m = LogisticRegression::new([1.0, -1.0], 0.5);
/// assert_eq!(m.logit(&[2.0, 1.0]), 1.5);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticRegression<const D: usize> {
    /// The weights.
    pub weights: [f32; D],
    /// The bias.
    pub bias: f32,
}

impl<const D: usize> LogisticRegression<D> {
    /// A model with these weights and bias.
    ///
    /// ```
    /// let m = focal_loss::train::LogisticRegression::new([0.0; 4], -2.0);
    /// assert_eq!(m.bias, -2.0);
    /// ```
    pub const fn new(weights: [f32; D], bias: f32) -> Self {
        Self { weights, bias }
    }
}

impl<const D: usize> Model for LogisticRegression<D> {
    const FEATURES: usize = D;

    fn zeroed() -> Self {
        Self::new([0.0; D], 0.0)
    }

    fn logit(&self, x: &[f32]) -> f32 {
        dot(&self.weights, x) + self.bias
    }

    fn add_gradient(&self, x: &[f32], dlogit: f32, grad: &mut Self) {
        for (g, &x) in grad.weights.iter_mut().zip(x) {
            *g += dlogit * x;
        }
        grad.bias += dlogit;
    }

    fn parameters(&self) -> impl Iterator<Item = f32> {
        self.weights
            .iter()
            .copied()
            .chain(core::iter::once(self.bias))
    }

    fn parameters_mut(&mut self) -> impl Iterator<Item = &mut f32> {
        self.weights
            .iter_mut()
            .chain(core::iter::once(&mut self.bias))
    }
}
