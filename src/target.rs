//! The element types accepted as binary (sigmoid) targets.

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for u8 {}
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
