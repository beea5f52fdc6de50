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
