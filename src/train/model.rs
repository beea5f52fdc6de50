//! What the trainer needs of a model.

/// A differentiable model from `FEATURES` inputs to one logit, its parameters in fixed arrays.
///
/// A value of the model type also serves as the container of its gradient and of the
/// optimiser's velocity, so a model is all the storage training needs.
///
/// ```
/// use focal_loss::train::{LogisticRegression, Model};
/// let mut m = LogisticRegression::<2>::zeroed();
/// let mut g = LogisticRegression::<2>::zeroed();
/// m.add_gradient(&[1.0, 2.0], 0.5, &mut g);   // d loss / d logit = 0.5
/// assert_eq!(g.parameters().collect::<Vec<_>>(), [0.5, 1.0, 0.5]);
/// assert_eq!(m.logit(&[1.0, 2.0]), 0.0);
/// ```
pub trait Model: Clone {
    /// Inputs per sample.
    const FEATURES: usize;

    /// All parameters 0.
    fn zeroed() -> Self;

    /// The logit of one sample (`x.len() == FEATURES`).
    fn logit(&self, x: &[f32]) -> f32;

    /// Adds `d loss / d parameters` of one sample to `grad`, given `dlogit = d loss / d logit`.
    fn add_gradient(&self, x: &[f32], dlogit: f32, grad: &mut Self);

    /// The parameters in a fixed order.
    fn parameters(&self) -> impl Iterator<Item = f32>;

    /// The parameters in the same order, writable.
    fn parameters_mut(&mut self) -> impl Iterator<Item = &mut f32>;

    /// σ(logit): the predicted probability of the positive class.
    ///
    /// ```
    /// use focal_loss::train::{LogisticRegression, Model};
    /// assert_eq!(LogisticRegression::<3>::zeroed().probability(&[1.0, 2.0, 3.0]), 0.5);
    /// ```
    fn probability(&self, x: &[f32]) -> f32 {
        let z = self.logit(x);
        if z >= 0.0 {
            1.0 / (1.0 + libm::expf(-z))
        } else {
            let e = libm::expf(z);
            e / (1.0 + e)
        }
    }
}

/// `Σ w_i x_i` in index order.
#[inline]
pub(crate) fn dot(w: &[f32], x: &[f32]) -> f32 {
    w.iter().zip(x).fold(0.0, |s, (w, x)| s + w * x)
}
