//! Stochastic gradient descent with momentum.

use crate::FocalError;

/// SGD with (heavy-ball) momentum: `v ← μ·v + g`, `θ ← θ − η·v`.
///
/// ```
/// use focal_loss::{FocalError, train::Sgd};
/// let sgd = Sgd::new(0.1, 0.9)?;
/// assert_eq!(sgd.learning_rate(), 0.1);
/// assert_eq!(Sgd::new(0.1, 1.0), Err(FocalError::InvalidMomentum { value: 1.0 }));
/// # Ok::<(), FocalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    learning_rate: f32,
    momentum: f32,
}

impl Sgd {
    /// Learning rate η (finite, > 0) and momentum μ (in [0, 1)).
    ///
    /// ```
    /// use focal_loss::{FocalError, train::Sgd};
    /// assert_eq!(Sgd::new(0.0, 0.5), Err(FocalError::InvalidLearningRate { value: 0.0 }));
    /// ```
    pub fn new(learning_rate: f32, momentum: f32) -> Result<Self, FocalError> {
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            return Err(FocalError::InvalidLearningRate {
                value: learning_rate,
            });
        }
        if !(0.0..1.0).contains(&momentum) {
            return Err(FocalError::InvalidMomentum { value: momentum });
        }
        Ok(Sgd {
            learning_rate,
            momentum,
        })
    }

    /// The learning rate η.
    ///
    /// ```
    /// assert_eq!(focal_loss::train::Sgd::new(0.5, 0.0)?.learning_rate(), 0.5);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    /// The momentum μ.
    ///
    /// ```
    /// assert_eq!(focal_loss::train::Sgd::new(0.5, 0.9)?.momentum(), 0.9);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn momentum(&self) -> f32 {
        self.momentum
    }

    /// One update of a parameter `theta` with velocity `v` and gradient `g`.
    #[inline]
    pub(crate) fn update(&self, theta: &mut f32, v: &mut f32, g: f32) {
        *v = self.momentum * *v + g;
        *theta -= self.learning_rate * *v;
    }
}
