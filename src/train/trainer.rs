//! The training loop: shuffled mini-batches, focal loss and gradient, back-propagation, SGD.

use heapless::Vec;

use super::model::Model;
use super::rng::Rng;
use super::sgd::Sgd;
use crate::error::check_len;
use crate::{FocalError, Operand, Reduction, SigmoidFocal};

/// Epoch losses a [`Trainer`] remembers (the most recent ones).
pub const LOSS_HISTORY: usize = 64;

/// Trains a [`Model`] with mini-batches of at most `BATCH` samples on a sigmoid focal loss.
///
/// Each epoch shuffles the samples (Fisher–Yates, seeded), and for each mini-batch computes
/// the logits, the loss and its gradient with [`SigmoidFocal::loss_and_grad`] (mean over the
/// batch), back-propagates, and takes one [`Sgd`] step. Storage is fixed: the model, its
/// velocity and gradient, the batch (`heapless::Vec`) and the last [`LOSS_HISTORY`] epoch
/// losses; the caller lends the shuffle buffer.
///
/// ```
/// use focal_loss::SigmoidFocal;
/// use focal_loss::train::{Mlp, Sgd, Trainer};
/// let features = [0.0f32, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0];   // four samples, XOR-like
/// let labels = [1u8, 1, 0, 0];
/// let mut order = [0u32; 4];
/// let mut t: Trainer<Mlp<2, 8>, 4> =
///     Trainer::new(Mlp::init(3), SigmoidFocal::new(0.0, None)?, Sgd::new(0.2, 0.9)?, 1);
/// let first = t.epoch(&features, &labels, &mut order)?;
/// for _ in 0..300 {
///     t.epoch(&features, &labels, &mut order)?;
/// }
/// assert!(*t.history().last().unwrap() < first);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Trainer<M: Model, const BATCH: usize> {
    model: M,
    velocity: M,
    grad: M,
    loss: SigmoidFocal,
    sgd: Sgd,
    rng: Rng,
    /// The epoch losses, oldest first; the first `remembered` are set.
    history: [f32; LOSS_HISTORY],
    remembered: usize,
    logits: Vec<f32, BATCH>,
    targets: Vec<u8, BATCH>,
    dlogits: [f32; BATCH],
}

impl<M: Model, const BATCH: usize> Trainer<M, BATCH> {
    /// A trainer of `model` on `loss` with `sgd`; `seed` drives the shuffles.
    /// (`BATCH` must be at least 1: checked when the program is compiled.)
    ///
    /// ```
    /// use focal_loss::{SigmoidFocal, train::{LogisticRegression, Model, Sgd, Trainer}};
    /// let t: Trainer<LogisticRegression<3>, 32> = Trainer::new(
    ///     LogisticRegression::zeroed(), SigmoidFocal::RETINANET, Sgd::new(0.1, 0.9)?, 42);
    /// assert!(t.history().is_empty());
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn new(model: M, loss: SigmoidFocal, sgd: Sgd, seed: u32) -> Self {
        const { assert!(BATCH > 0, "a mini-batch holds at least one sample") };
        Trainer {
            model,
            velocity: M::zeroed(),
            grad: M::zeroed(),
            loss,
            sgd,
            rng: Rng::new(seed),
            history: [0.0; LOSS_HISTORY],
            remembered: 0,
            logits: Vec::new(),
            targets: Vec::new(),
            dlogits: [0.0; BATCH],
        }
    }

    /// One pass over the data: `features` holds `M::FEATURES` values per sample (row-major),
    /// `labels` one 0 / 1 label per sample; `order` (one slot per sample, any contents) is
    /// the shuffle buffer. Returns the mean loss over the epoch's samples (each batch's
    /// mean loss weighted by its size), which is also pushed to the history.
    ///
    /// Errors, all found before the first step (the model is then unchanged) except the last:
    /// [`FocalError::TooManySamples`] beyond `u32::MAX` samples,
    /// [`FocalError::LengthMismatch`] for `features` or `order`,
    /// [`FocalError::InvalidTarget`] for a label other than 0 or 1 (its sample index),
    /// [`FocalError::NonFiniteFeature`] for a NaN or infinite feature (its index in
    /// `features`), and [`FocalError::NonFiniteLogit`] if the model diverged (the index of
    /// the sample whose logit became NaN).
    ///
    /// ```
    /// use focal_loss::{FocalError, Operand, SigmoidFocal};
    /// use focal_loss::train::{LogisticRegression, Model, Sgd, Trainer};
    /// let mut t: Trainer<LogisticRegression<2>, 8> = Trainer::new(
    ///     LogisticRegression::zeroed(), SigmoidFocal::RETINANET, Sgd::new(0.1, 0.0)?, 1);
    /// let err = t.epoch(&[1.0, 2.0, 3.0], &[1, 0], &mut [0; 2]).unwrap_err();
    /// assert_eq!(err, FocalError::LengthMismatch { operand: Operand::Features, expected: 4, found: 3 });
    /// # Ok::<(), FocalError>(())
    /// ```
    pub fn epoch(
        &mut self,
        features: &[f32],
        labels: &[u8],
        order: &mut [u32],
    ) -> Result<f32, FocalError> {
        let n = labels.len();
        if u32::try_from(n).is_err() {
            return Err(FocalError::TooManySamples { samples: n });
        }
        let expected = n.saturating_mul(M::FEATURES);
        check_len(Operand::Features, expected, features.len())?;
        check_len(Operand::Order, n, order.len())?;
        if let Some(index) = labels.iter().position(|&l| l > 1) {
            return Err(FocalError::InvalidTarget {
                index,
                value: f32::from(labels[index]),
            });
        }
        if let Some(index) = features.iter().position(|x| !x.is_finite()) {
            return Err(FocalError::NonFiniteFeature { index });
        }
        for (i, slot) in order.iter_mut().enumerate() {
            *slot = i as u32;
        }
        for i in (1..n).rev() {
            let j = self.rng.below(i as u32 + 1) as usize;
            order.swap(i, j);
        }
        let mut total = 0.0f64;
        for batch in order.chunks(BATCH) {
            let loss = self.step(features, labels, batch)?;
            total += f64::from(loss) * batch.len() as f64;
        }
        let mean = if n == 0 {
            0.0
        } else {
            (total / n as f64) as f32
        };
        self.remember(mean);
        Ok(mean)
    }

    /// Appends an epoch's loss to the history, dropping the oldest when it is full.
    fn remember(&mut self, loss: f32) {
        if let Some(slot) = self.history.get_mut(self.remembered) {
            *slot = loss;
            self.remembered += 1;
        } else {
            self.history.copy_within(1.., 0);
            if let Some(newest) = self.history.last_mut() {
                *newest = loss;
            }
        }
    }

    /// One mini-batch (`batch` indexes the samples): forward, loss and gradient, backward,
    /// SGD step. Returns the batch's mean loss.
    fn step(&mut self, features: &[f32], labels: &[u8], batch: &[u32]) -> Result<f32, FocalError> {
        let d = M::FEATURES;
        let sample = |i: u32| &features[i as usize * d..(i as usize + 1) * d];
        self.logits.clear();
        self.targets.clear();
        for &i in batch {
            // Capacity: `batch` comes from `chunks(BATCH)`.
            let _ = self.logits.push(self.model.logit(sample(i)));
            let _ = self.targets.push(labels[i as usize]);
        }
        let m = self.logits.len();
        let dlogits = &mut self.dlogits[..m];
        let loss = self
            .loss
            .loss_and_grad(&self.logits, &self.targets, Reduction::Mean, dlogits)
            .map_err(|e| match e {
                // Name the sample, not its place in the batch.
                FocalError::NonFiniteLogit { index } => FocalError::NonFiniteLogit {
                    index: batch[index] as usize,
                },
                other => other,
            })?;
        for g in self.grad.parameters_mut() {
            *g = 0.0;
        }
        for (&i, &dz) in batch.iter().zip(dlogits.iter()) {
            self.model.add_gradient(sample(i), dz, &mut self.grad);
        }
        let params = self.model.parameters_mut();
        for ((theta, v), g) in params
            .zip(self.velocity.parameters_mut())
            .zip(self.grad.parameters())
        {
            self.sgd.update(theta, v, g);
        }
        Ok(loss)
    }

    /// The model as trained so far.
    ///
    /// ```
    /// use focal_loss::{SigmoidFocal, train::{LogisticRegression, Model, Sgd, Trainer}};
    /// let t: Trainer<LogisticRegression<1>, 4> = Trainer::new(
    ///     LogisticRegression::new([2.0], 0.0), SigmoidFocal::RETINANET, Sgd::new(0.1, 0.0)?, 1);
    /// assert_eq!(t.model().weights, [2.0]);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The mean losses of the most recent epochs, oldest first: one per epoch, up to the last
    /// [`LOSS_HISTORY`] of them.
    ///
    /// ```
    /// use focal_loss::{SigmoidFocal, train::{LogisticRegression, Model, Sgd, Trainer}};
    /// let mut t: Trainer<LogisticRegression<1>, 4> = Trainer::new(
    ///     LogisticRegression::zeroed(), SigmoidFocal::RETINANET, Sgd::new(0.1, 0.0)?, 1);
    /// let first = t.epoch(&[1.0, -1.0], &[1, 0], &mut [0; 2])?;
    /// let second = t.epoch(&[1.0, -1.0], &[1, 0], &mut [0; 2])?;
    /// assert_eq!(t.history(), [first, second]);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn history(&self) -> &[f32] {
        self.history.get(..self.remembered).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::LogisticRegression;

    #[test]
    fn history_keeps_the_last_epochs_oldest_first() {
        let sgd = Sgd::new(0.1, 0.0).unwrap();
        let mut t: Trainer<LogisticRegression<1>, 4> =
            Trainer::new(Model::zeroed(), SigmoidFocal::RETINANET, sgd, 1);
        for i in 0..LOSS_HISTORY + 3 {
            t.remember(i as f32);
            let kept = (i + 1).min(LOSS_HISTORY);
            assert_eq!(t.history().len(), kept);
            assert_eq!(t.history().last(), Some(&(i as f32)));
        }
        let expected: [f32; LOSS_HISTORY] = core::array::from_fn(|k| (k + 3) as f32);
        assert_eq!(t.history(), expected);
    }
}
