//! Which lane type `Kernel::Simd` runs on, chosen at run time.

use crate::simd::{F32s, SimdF32};

/// A pass of `Kernel::Simd` written once over the lane type, run by [`run`] on the lanes the
/// CPU supports.
pub(crate) trait Job {
    /// What the pass returns.
    type Output;
    /// The pass on lanes `V`; implementations are `#[inline(always)]` so that the whole pass
    /// is compiled inside the function that enables the CPU features of `V`.
    fn run<V: SimdF32>(self) -> Self::Output;
}

/// Runs `job` on the best lane type for this CPU.
#[inline]
pub(crate) fn run<J: Job>(job: J) -> J::Output {
    job.run::<F32s>()
}
