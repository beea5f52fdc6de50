//! The choice between the two implementations of the same formulas.

/// Which implementation of the elementary functions a loss uses.
///
/// Both kernels evaluate the same formulas (written once, generic over the number type); they
/// differ only in how `exp` and `log` are computed. Both are available on every target.
///
/// ```
/// use focal_loss::{Kernel, Reduction, SigmoidFocal};
/// let simd = SigmoidFocal::RETINANET;
/// let libm = simd.with_kernel(Kernel::Libm);
/// let (x, t) = ([-3.0f32, 0.5, 4.0], [1u8, 0, 1]);
/// let a = simd.loss(&x, &t, Reduction::Sum)?;
/// let b = libm.loss(&x, &t, Reduction::Sum)?;
/// assert!((a - b).abs() <= 1e-6 * b);
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kernel {
    /// The crate's own [`approx`](crate::approx) `exp` / `log`, built from IEEE basic
    /// operations in a fixed order (no fused multiply-add, no platform math library): its
    /// results are the same bits on every target, for any slice length, split or alignment.
    ///
    /// That determinism, not vectorisation, is what it guarantees. It evaluates sixteen
    /// lanes at a time on x86-64 (AVX-512F, AVX2 or SSE2, chosen at run time by
    /// [`dispatch`](crate::dispatch)) and aarch64 (NEON), and one at a time on Cortex-M and
    /// other targets without vector registers; the lanes never change a result.
    #[default]
    Simd,
    /// One element at a time with `libm`'s `expf`, `logf` and `log1pf`: the
    /// reference-quality scalar path.
    Libm,
}
