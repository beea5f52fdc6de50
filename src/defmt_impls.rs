//! `defmt::Format` for the public configuration and error types (feature `defmt`).
//!
//! The library never calls defmt's logging macros, so host builds link without a logger.

use defmt::{Format, Formatter, write};

use crate::{FocalError, Kernel, Layout, Operand, Reduction, SigmoidFocal, SoftmaxFocal};

impl Format for Operand {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "{=str}", self.name())
    }
}

impl Format for Kernel {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Kernel::Simd => write!(f, "Simd"),
            Kernel::Libm => write!(f, "Libm"),
        }
    }
}

impl Format for Reduction {
    fn format(&self, f: Formatter<'_>) {
        match *self {
            Reduction::Sum => write!(f, "Sum"),
            Reduction::Mean => write!(f, "Mean"),
            Reduction::MeanOver(n) => write!(f, "MeanOver({=f32})", n),
        }
    }
}

impl Format for SigmoidFocal {
    fn format(&self, f: Formatter<'_>) {
        write!(
            f,
            "SigmoidFocal {{ gamma: {=f32}, alpha: {}, kernel: {} }}",
            self.gamma(),
            self.alpha(),
            self.kernel()
        )
    }
}

impl Format for Layout {
    fn format(&self, f: Formatter<'_>) {
        match *self {
            Layout::RowMajor => write!(f, "RowMajor"),
            Layout::ChannelsFirst { spatial } => {
                write!(f, "ChannelsFirst {{ spatial: {=usize} }}", spatial)
            }
        }
    }
}

impl Format for SoftmaxFocal<'_> {
    fn format(&self, f: Formatter<'_>) {
        write!(
            f,
            "SoftmaxFocal {{ classes: {=usize}, gamma: {=f32}, alpha: {}, ignore_index: {}, layout: {}, kernel: {} }}",
            self.num_classes(),
            self.gamma(),
            self.alpha().is_some(),
            self.ignore_index(),
            self.layout(),
            self.kernel()
        )
    }
}

impl Format for FocalError {
    fn format(&self, f: Formatter<'_>) {
        match *self {
            FocalError::InvalidGamma { gamma } => {
                write!(f, "gamma must be finite and >= 0, got {=f32}", gamma)
            }
            FocalError::InvalidAlpha { alpha } => {
                write!(f, "alpha must be in [0, 1], got {=f32}", alpha)
            }
            FocalError::LengthMismatch {
                operand,
                expected,
                found,
            } => write!(
                f,
                "{} has length {=usize} but the logits require {=usize}",
                operand, found, expected
            ),
            FocalError::InvalidTarget { index, value } => {
                write!(
                    f,
                    "target[{=usize}] = {=f32} is outside [0, 1]",
                    index, value
                )
            }
            FocalError::InvalidWeight { index, value } => write!(
                f,
                "weight[{=usize}] = {=f32} is not a finite value >= 0",
                index, value
            ),
            FocalError::InvalidNormalizer { value } => write!(
                f,
                "MeanOver normaliser must be finite and > 0, got {=f32}",
                value
            ),
            FocalError::InvalidLearningRate { value } => {
                write!(f, "learning rate must be finite and > 0, got {=f32}", value)
            }
            FocalError::InvalidMomentum { value } => {
                write!(f, "momentum must be in [0, 1), got {=f32}", value)
            }
            FocalError::NonFiniteFeature { index } => {
                write!(f, "feature[{=usize}] is not finite", index)
            }
            FocalError::TooManySamples { samples } => {
                write!(
                    f,
                    "{=usize} samples: an epoch takes at most 2^32 - 1",
                    samples
                )
            }
            FocalError::NonFiniteLogit { index } => write!(f, "logit[{=usize}] is NaN", index),
            FocalError::InvalidNumClasses { num_classes } => {
                write!(
                    f,
                    "num_classes must be in 1..=2^24, got {=usize}",
                    num_classes
                )
            }
            FocalError::InvalidSpatial { spatial } => {
                write!(
                    f,
                    "channels-first spatial size must be >= 1 with C * spatial in usize, got {=usize}",
                    spatial
                )
            }
            FocalError::LogitsShape { len, row } => write!(
                f,
                "logits length {=usize} is not a multiple of the row size {=usize}",
                len, row
            ),
            FocalError::ClassOutOfRange {
                index,
                value,
                num_classes,
            } => write!(
                f,
                "target[{=usize}] = {=i64} is not a class in 0..{=usize} nor the ignore index",
                index, value, num_classes
            ),
            FocalError::InvalidClassAlpha { class, value } => write!(
                f,
                "alpha[{=usize}] = {=f32} is not a finite value >= 0",
                class, value
            ),
            FocalError::TargetRowSum { row, sum } => write!(
                f,
                "soft targets of row {=usize} sum to {=f32}, not 1",
                row, sum
            ),
        }
    }
}
