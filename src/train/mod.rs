//! A small, allocation-free training loop for binary (and multi-label) classifiers on the
//! sigmoid focal loss: what a firmware needs to train or fine-tune a model on the device.
//! Behind the `train` feature.
//!
//! - [`Model`]: a differentiable model of fixed size, parameters in arrays sized by const
//!   generics: [`LogisticRegression`] and the one-hidden-layer [`Mlp`].
//! - [`Sgd`]: stochastic gradient descent with momentum.
//! - [`Trainer`]: shuffled mini-batches of a fixed capacity (`heapless::Vec`), the loss and
//!   gradient from [`SigmoidFocal`](crate::SigmoidFocal), back-propagation, the SGD step,
//!   and the history of epoch losses (a slice, oldest first).
//!
//! Every operation is an IEEE basic operation in a fixed order (the shuffle and the
//! initialisation come from a seeded [`Rng`]), and `Kernel::Simd` gives the same bits on
//! every target, so the same configuration trains to the same weights, bit for bit, on the
//! host and on a Cortex-M.
//!
//! ```
//! use focal_loss::SigmoidFocal;
//! use focal_loss::train::{LogisticRegression, Model, Sgd, Trainer};
//!
//! // Two features; the label is 1 when their sum is positive.
//! let features = [1.0f32, 2.0, -1.0, -3.0, 0.5, 1.0, -2.0, 0.5, 3.0, -1.0, -0.5, -0.5];
//! let labels = [1u8, 0, 1, 0, 1, 0];
//! let mut order = [0u32; 6];
//! let sgd = Sgd::new(0.5, 0.9)?;
//! let mut trainer: Trainer<LogisticRegression<2>, 4> =
//!     Trainer::new(LogisticRegression::zeroed(), SigmoidFocal::RETINANET, sgd, 7);
//! let first = trainer.epoch(&features, &labels, &mut order)?;
//! for _ in 0..50 {
//!     trainer.epoch(&features, &labels, &mut order)?;
//! }
//! let last = *trainer.history().last().unwrap();
//! assert!(last < first / 4.0);
//! assert!(trainer.model().probability(&[2.0, 1.0]) > 0.5);
//! # Ok::<(), focal_loss::FocalError>(())
//! ```

mod logistic;
mod mlp;
mod model;
mod rng;
mod sgd;
mod trainer;

pub use logistic::LogisticRegression;
pub use mlp::Mlp;
pub use model::Model;
pub use rng::Rng;
pub use sgd::Sgd;
pub use trainer::{LOSS_HISTORY, Trainer};
