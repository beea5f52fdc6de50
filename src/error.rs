//! The one error type of the crate: every bad input is reported, none panics.

use core::fmt;

/// Which caller-provided slice a [`FocalError::LengthMismatch`] is about.
///
/// ```
/// use focal_loss::{FocalError, Operand, Reduction, SigmoidFocal};
/// let fl = SigmoidFocal::new(2.0, None)?;
/// let err = fl.loss(&[0.0, 1.0], &[1.0f32], Reduction::Sum).unwrap_err();
/// assert_eq!(
///     err,
///     FocalError::LengthMismatch { operand: Operand::Targets, expected: 2, found: 1 }
/// );
/// # Ok::<(), FocalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Operand {
    /// The targets (labels) slice.
    Targets,
    /// The per-element weights slice.
    Weights,
    /// The per-element loss output slice.
    Output,
    /// The gradient output slice.
    Grad,
    /// The per-class α slice of [`SoftmaxFocal::with_alpha`](crate::SoftmaxFocal::with_alpha).
    Alpha,
    /// The feature matrix of a [`Trainer::epoch`](crate::train::Trainer::epoch) (`train`
    /// feature only): `FEATURES` values per label.
    #[cfg(feature = "train")]
    Features,
    /// The shuffle buffer of a [`Trainer::epoch`](crate::train::Trainer::epoch) (`train`
    /// feature only): one index per label.
    #[cfg(feature = "train")]
    Order,
}

impl Operand {
    /// The operand's name as used in error messages.
    ///
    /// ```
    /// assert_eq!(focal_loss::Operand::Grad.name(), "grad");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Operand::Targets => "targets",
            Operand::Weights => "weights",
            Operand::Output => "out",
            Operand::Grad => "grad",
            Operand::Alpha => "alpha",
            #[cfg(feature = "train")]
            Operand::Features => "features",
            #[cfg(feature = "train")]
            Operand::Order => "order",
        }
    }

    /// What fixes the operand's length, as the subject of "… require(s) N" in
    /// [`FocalError::LengthMismatch`]'s message.
    ///
    /// ```
    /// use focal_loss::Operand;
    /// assert_eq!(Operand::Alpha.required_by(), "the number of classes requires");
    /// ```
    pub const fn required_by(self) -> &'static str {
        match self {
            Operand::Targets | Operand::Weights | Operand::Output | Operand::Grad => {
                "the logits require"
            }
            Operand::Alpha => "the number of classes requires",
            #[cfg(feature = "train")]
            Operand::Features | Operand::Order => "the labels require",
        }
    }
}

/// The operand's [`name`](Operand::name).
///
/// ```
/// assert_eq!(focal_loss::Operand::Weights.to_string(), "weights");
/// ```
impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that can be wrong with the inputs of a focal-loss call.
///
/// Each variant says what was wrong and, for per-element problems, the first index at which
/// it happened. Checks run in a fixed order (hyper-parameters at construction; then lengths;
/// then targets, weights and logits, each reporting its lowest bad index), so the same bad
/// input always gives the same error.
///
/// `Display` gives a sentence; with the `defmt` feature, `defmt::Format` is derived and prints
/// the variant and its fields, as `Debug` does.
///
/// ```
/// use focal_loss::{FocalError, SigmoidFocal};
/// assert_eq!(
///     SigmoidFocal::new(-1.0, None).unwrap_err(),
///     FocalError::InvalidGamma { gamma: -1.0 }
/// );
/// println!("{}", FocalError::NonFiniteLogit { index: 3 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FocalError {
    /// The focusing parameter γ is negative, NaN or infinite.
    InvalidGamma {
        /// The rejected value.
        gamma: f32,
    },
    /// The balancing weight α is outside [0, 1] or NaN.
    InvalidAlpha {
        /// The rejected value.
        alpha: f32,
    },
    /// FL\*'s γ ([`FocalStar`](crate::FocalStar)) is not finite and > 0 (the loss divides
    /// by it).
    InvalidStarGamma {
        /// The rejected value.
        gamma: f32,
    },
    /// FL\*'s shift β ([`FocalStar`](crate::FocalStar)) is NaN or infinite.
    InvalidStarBeta {
        /// The rejected value.
        beta: f32,
    },
    /// The exponent β of [`QualityFocal`](crate::QualityFocal) is negative, NaN or infinite.
    InvalidBeta {
        /// The rejected value.
        beta: f32,
    },
    /// The probability margin of [`Asymmetric`](crate::Asymmetric) is outside [0, 1) or NaN.
    InvalidClip {
        /// The rejected value.
        clip: f32,
    },
    /// Poly-1's ε ([`SigmoidFocal::with_poly1`](crate::SigmoidFocal::with_poly1),
    /// [`SoftmaxFocal::with_poly1`](crate::SoftmaxFocal::with_poly1)) is below −1 (the range
    /// of Leng et al. 2022), NaN or infinite.
    InvalidPolyEpsilon {
        /// The rejected value.
        epsilon: f32,
    },
    /// The reduced focal loss's threshold
    /// ([`SigmoidFocal::with_reduced_threshold`](crate::SigmoidFocal::with_reduced_threshold))
    /// is outside (0, 1] or NaN.
    InvalidReducedThreshold {
        /// The rejected value.
        threshold: f32,
    },
    /// Poly-1 and the reduced focal loss were both asked for: their modulating factors
    /// differ and no peer defines the combination.
    PolyWithReducedThreshold,
    /// Soft (per-class probability) targets were given to a
    /// [`SoftmaxFocal`](crate::SoftmaxFocal) with Poly-1 (ε ≠ 0): Poly-1's softmax form is
    /// defined on the target class's probability, and no peer defines a soft-target focal
    /// form of it.
    PolyWithSoftTargets,
    /// A slice does not have the length the logits require.
    LengthMismatch {
        /// Which slice.
        operand: Operand,
        /// The length it must have.
        expected: usize,
        /// The length it has.
        found: usize,
    },
    /// A target is outside [0, 1] or NaN (a `u8` target that is neither 0 nor 1).
    InvalidTarget {
        /// Index of the first bad target.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// A target in (0, 1) given to a loss defined for 0 / 1 labels only
    /// ([`Asymmetric`](crate::Asymmetric)). (Targets outside [0, 1] are
    /// [`InvalidTarget`](Self::InvalidTarget).)
    NonBinaryTarget {
        /// Index of the first such target.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// A per-element weight is negative, NaN or infinite.
    InvalidWeight {
        /// Index of the first bad weight.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// The normaliser of [`Reduction::MeanOver`](crate::Reduction::MeanOver) is not a
    /// finite number greater than zero.
    InvalidNormalizer {
        /// The rejected value.
        value: f32,
    },
    /// The learning rate of [`Sgd`](crate::train::Sgd) (`train` feature only) is not finite
    /// and greater than 0.
    #[cfg(feature = "train")]
    InvalidLearningRate {
        /// The rejected value.
        value: f32,
    },
    /// The momentum of [`Sgd`](crate::train::Sgd) (`train` feature only) is outside [0, 1) or
    /// NaN.
    #[cfg(feature = "train")]
    InvalidMomentum {
        /// The rejected value.
        value: f32,
    },
    /// A feature given to [`Trainer::epoch`](crate::train::Trainer::epoch) (`train` feature
    /// only) is NaN or infinite.
    #[cfg(feature = "train")]
    NonFiniteFeature {
        /// Index of the first such value in the feature matrix.
        index: usize,
    },
    /// More samples than [`Trainer::epoch`](crate::train::Trainer::epoch) (`train` feature
    /// only) can shuffle: at most `u32::MAX`.
    #[cfg(feature = "train")]
    TooManySamples {
        /// The number of samples given.
        samples: usize,
    },
    /// A logit is NaN. (±∞ logits are valid and give the mathematical limits.)
    NonFiniteLogit {
        /// Index of the first NaN logit.
        index: usize,
    },
    /// The number of classes is below 2 (one class has probability 1 whatever the logits: use
    /// [`SigmoidFocal`](crate::SigmoidFocal) for one output), or above 2^24 (class indices
    /// are compared as `f32`).
    InvalidNumClasses {
        /// The rejected value.
        num_classes: usize,
    },
    /// `Layout::ChannelsFirst` with zero spatial positions, or so many that an image's
    /// C · spatial logits overflow `usize`.
    InvalidSpatial {
        /// The rejected value.
        spatial: usize,
    },
    /// The logits length is not a multiple of the row size (C, or C·S for channels-first).
    LogitsShape {
        /// The logits length.
        len: usize,
        /// The row size it must be a multiple of.
        row: usize,
    },
    /// A class index is negative or ≥ the number of classes, and not the ignore index.
    ClassOutOfRange {
        /// Index of the first bad target.
        index: usize,
        /// Its value.
        value: i64,
        /// The number of classes.
        num_classes: usize,
    },
    /// A per-class α is negative, NaN or infinite.
    InvalidClassAlpha {
        /// The class.
        class: usize,
        /// Its α.
        value: f32,
    },
    /// A row of soft (probability) targets does not sum to 1 within
    /// [`SOFT_TARGET_SUM_TOLERANCE`](crate::SOFT_TARGET_SUM_TOLERANCE).
    TargetRowSum {
        /// The row (sample, or pixel for channels-first).
        row: usize,
        /// Its sum.
        sum: f32,
    },
}

impl fmt::Display for FocalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FocalError::InvalidGamma { gamma } => {
                write!(f, "gamma must be finite and >= 0, got {gamma}")
            }
            FocalError::InvalidAlpha { alpha } => {
                write!(f, "alpha must be in [0, 1], got {alpha}")
            }
            FocalError::InvalidStarGamma { gamma } => {
                write!(f, "FL* gamma must be finite and > 0, got {gamma}")
            }
            FocalError::InvalidStarBeta { beta } => {
                write!(f, "FL* beta must be finite, got {beta}")
            }
            FocalError::InvalidBeta { beta } => {
                write!(f, "beta must be finite and >= 0, got {beta}")
            }
            FocalError::InvalidClip { clip } => {
                write!(f, "clip must be in [0, 1), got {clip}")
            }
            FocalError::InvalidPolyEpsilon { epsilon } => {
                write!(f, "Poly-1 epsilon must be finite and >= -1, got {epsilon}")
            }
            FocalError::InvalidReducedThreshold { threshold } => {
                write!(f, "reduced threshold must be in (0, 1], got {threshold}")
            }
            FocalError::PolyWithReducedThreshold => {
                write!(f, "Poly-1 and a reduced threshold cannot be combined")
            }
            FocalError::PolyWithSoftTargets => {
                write!(
                    f,
                    "softmax Poly-1 takes class-index targets, not soft targets"
                )
            }
            FocalError::LengthMismatch {
                operand,
                expected,
                found,
            } => write!(
                f,
                "{operand} has length {found} but {} {expected}",
                operand.required_by()
            ),
            FocalError::InvalidTarget { index, value } => {
                write!(f, "target[{index}] = {value} is outside [0, 1]")
            }
            FocalError::NonBinaryTarget { index, value } => {
                write!(f, "target[{index}] = {value} is neither 0 nor 1")
            }
            FocalError::InvalidWeight { index, value } => {
                write!(f, "weight[{index}] = {value} is not a finite value >= 0")
            }
            FocalError::InvalidNormalizer { value } => {
                write!(f, "MeanOver normaliser must be finite and > 0, got {value}")
            }
            #[cfg(feature = "train")]
            FocalError::InvalidLearningRate { value } => {
                write!(f, "learning rate must be finite and > 0, got {value}")
            }
            #[cfg(feature = "train")]
            FocalError::InvalidMomentum { value } => {
                write!(f, "momentum must be in [0, 1), got {value}")
            }
            #[cfg(feature = "train")]
            FocalError::NonFiniteFeature { index } => {
                write!(f, "feature[{index}] is not finite")
            }
            #[cfg(feature = "train")]
            FocalError::TooManySamples { samples } => {
                write!(f, "{samples} samples: an epoch takes at most 2^32 - 1")
            }
            FocalError::NonFiniteLogit { index } => write!(f, "logit[{index}] is NaN"),
            FocalError::InvalidNumClasses { num_classes } => {
                write!(
                    f,
                    "num_classes must be in 2..=2^24 (one class: use SigmoidFocal), got {num_classes}"
                )
            }
            FocalError::InvalidSpatial { spatial } => {
                write!(
                    f,
                    "channels-first spatial size must be >= 1 with C * spatial in usize, got {spatial}"
                )
            }
            FocalError::LogitsShape { len, row } => write!(
                f,
                "logits length {len} is not a multiple of the row size {row}"
            ),
            FocalError::ClassOutOfRange {
                index,
                value,
                num_classes,
            } => write!(
                f,
                "target[{index}] = {value} is not a class index in 0..{num_classes}"
            ),
            FocalError::InvalidClassAlpha { class, value } => {
                write!(f, "alpha[{class}] = {value} is not a finite value >= 0")
            }
            FocalError::TargetRowSum { row, sum } => {
                write!(f, "soft targets of row {row} sum to {sum}, not 1")
            }
        }
    }
}

impl core::error::Error for FocalError {}

/// `Ok` when a slice has the length its operand needs, else the
/// [`FocalError::LengthMismatch`] that says which slice and by how much.
pub(crate) fn check_len(operand: Operand, expected: usize, found: usize) -> Result<(), FocalError> {
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
