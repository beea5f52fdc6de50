//! The element types accepted as binary (sigmoid) targets.

mod sealed {
    /// Keeps the set of target types closed, and says what the kernels may assume of each.
    pub trait Sealed {
        /// Every valid value is exactly 0 or 1, so the soft-target formulas are never needed.
        const ALWAYS_HARD: bool;
    }
    impl Sealed for f32 {
        const ALWAYS_HARD: bool = false;
    }
    impl Sealed for u8 {
        const ALWAYS_HARD: bool = true;
    }
    impl Sealed for i64 {
        const ALWAYS_HARD: bool = true;
    }
    impl Sealed for i32 {
        const ALWAYS_HARD: bool = true;
    }
    impl Sealed for u32 {
        const ALWAYS_HARD: bool = true;
    }
    impl Sealed for usize {
        const ALWAYS_HARD: bool = true;
    }
    impl Sealed for u16 {
        const ALWAYS_HARD: bool = true;
    }
}

/// A binary or multi-label target: `f32` in [0, 1] (soft targets allowed) or `u8` hard labels
/// 0 / 1, a quarter of the memory on a microcontroller.
///
/// Both give identical results for the same 0 / 1 values.
///
/// ```
/// use focal_loss::{Reduction, SigmoidFocal};
/// let fl = SigmoidFocal::RETINANET;
/// let x = [2.0f32, -1.0, 0.5];
/// let a = fl.loss(&x, &[1.0f32, 0.0, 1.0], Reduction::Sum)?;
/// let b = fl.loss(&x, &[1u8, 0, 1], Reduction::Sum)?;
/// assert_eq!(a.to_bits(), b.to_bits());
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
pub trait BinaryTarget: Copy + sealed::Sealed {
    /// The target as a probability of the positive class.
    fn to_f32(self) -> f32;
}

impl BinaryTarget for f32 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
}

impl BinaryTarget for u8 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f32::from(self)
    }
}

/// A multi-class (softmax) target: a class index (`i64`, `i32`, `usize`, `u32`, `u16`, `u8`; one per
/// sample or pixel), or `f32` class probabilities (one per logit, same shape as the logits:
/// soft targets, label smoothing).
///
/// ```
/// use focal_loss::{Reduction, SoftmaxFocal};
/// let fl = SoftmaxFocal::new(3, 2.0)?;
/// let logits = [2.0f32, 0.5, -1.0];
/// let hard = fl.loss(&logits, &[0i64], Reduction::Sum)?;
/// let same = fl.loss(&logits, &[0u8], Reduction::Sum)?;
/// let soft = fl.loss(&logits, &[1.0f32, 0.0, 0.0], Reduction::Sum)?;
/// assert_eq!(hard.to_bits(), same.to_bits());
/// assert!((hard - soft).abs() <= 1e-6 * hard);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
pub trait SoftmaxTarget: Copy + sealed::Sealed {
    /// `true` for class probabilities (one value per logit), `false` for class indices.
    const PER_CLASS: bool;
    /// The class index (for `f32`, unused).
    fn class(self) -> i64;
    /// The probability (for class indices, unused).
    fn probability(self) -> f32;
}

macro_rules! class_index {
    ($($t:ty),*) => {$(
        impl SoftmaxTarget for $t {
            const PER_CLASS: bool = false;
            #[inline(always)]
            fn class(self) -> i64 {
                i64::from(self)
            }
            #[inline(always)]
            fn probability(self) -> f32 {
                0.0
            }
        }
    )*};
}

class_index!(i64, i32, u32, u16, u8);

/// `usize`, the type Rust code holds indices in. An index beyond `i64::MAX` (on a 128-bit
/// target) is reported as out of range with value `i64::MAX`.
impl SoftmaxTarget for usize {
    const PER_CLASS: bool = false;
    #[inline(always)]
    fn class(self) -> i64 {
        i64::try_from(self).unwrap_or(i64::MAX)
    }
    #[inline(always)]
    fn probability(self) -> f32 {
        0.0
    }
}

impl SoftmaxTarget for f32 {
    const PER_CLASS: bool = true;
    #[inline(always)]
    fn class(self) -> i64 {
        0
    }
    #[inline(always)]
    fn probability(self) -> f32 {
        self
    }
}
