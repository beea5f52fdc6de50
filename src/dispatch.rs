//! Which lanes [`Kernel::Simd`](crate::Kernel::Simd) runs on, chosen once at run time.
//!
//! On x86-64 a build without `-C target-cpu` flags compiles for SSE2, which every x86-64 CPU
//! has. The SIMD kernels are also compiled for AVX2 and AVX-512F, and the first call checks
//! the CPU (CPUID and the OS-enabled register state, no `std`) and runs the widest level it
//! supports from then on. Every level computes the same bits: the choice changes the speed
//! only. [`force`] caps the level, for tests and benchmarks that compare levels.
//!
//! Other targets have one level, [`Level::Baseline`]: aarch64 runs NEON (its baseline), and
//! Cortex-M one lane at a time. So do builds with `--cfg focal_loss_lanes8` or
//! `--cfg focal_loss_lanes1`, which exist to check that the lane count changes no bit.
//!
//! ```
//! use focal_loss::dispatch::{self, Level};
//! let best = dispatch::detected();
//! assert_eq!(dispatch::active(), best);
//! // Every level this CPU has gives the same bits.
//! let fl = focal_loss::SigmoidFocal::RETINANET;
//! let (x, t) = ([0.3f32, -2.0, 7.5], [1u8, 0, 0]);
//! let on_best = fl.loss(&x, &t, focal_loss::Reduction::Sum)?;
//! assert_eq!(dispatch::force(Some(Level::Baseline)), Level::Baseline);
//! let on_baseline = fl.loss(&x, &t, focal_loss::Reduction::Sum)?;
//! dispatch::force(None);
//! assert_eq!(on_best.to_bits(), on_baseline.to_bits());
//! # Ok::<(), focal_loss::FocalError>(())
//! ```

use crate::simd::SimdF32;

/// A set of vector instructions the SIMD kernels can run on.
///
/// Ordered from the narrowest: `Baseline < Avx2 < Avx512`.
///
/// ```
/// use focal_loss::dispatch::Level;
/// assert!(Level::Baseline < Level::Avx2 && Level::Avx2 < Level::Avx512);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Level {
    /// What the build targets at compile time: SSE2 on a default x86-64 build (or whatever
    /// `-C target-cpu` enables), NEON on aarch64, one lane on Cortex-M and other targets.
    Baseline,
    /// x86-64 AVX2: sixteen lanes in two 256-bit registers.
    Avx2,
    /// x86-64 AVX-512F: sixteen lanes in one 512-bit register.
    Avx512,
}

/// The widest level this CPU supports (on x86-64, checked once and cached;
/// [`Level::Baseline`] on every other target).
///
/// ```
/// let level = focal_loss::dispatch::detected();
/// assert!(level >= focal_loss::dispatch::Level::Baseline);
/// ```
pub fn detected() -> Level {
    #[cfg(all(target_arch = "x86_64", not(focal_loss_lanes8), not(focal_loss_lanes1)))]
    return crate::simd::x86::detected_cached();
    #[cfg(not(all(target_arch = "x86_64", not(focal_loss_lanes8), not(focal_loss_lanes1))))]
    return Level::Baseline;
}

/// The level the SIMD kernels run on now: [`detected`], or lower if [`force`] capped it.
///
/// ```
/// use focal_loss::dispatch;
/// assert!(dispatch::active() <= dispatch::detected());
/// ```
pub fn active() -> Level {
    #[cfg(all(target_arch = "x86_64", not(focal_loss_lanes8), not(focal_loss_lanes1)))]
    return cap::get().map_or(detected(), |cap| cap.min(detected()));
    #[cfg(not(all(target_arch = "x86_64", not(focal_loss_lanes8), not(focal_loss_lanes1))))]
    return Level::Baseline;
}

/// Caps the level for the whole process (`None` removes the cap) and returns the level now
/// active: `min(cap, detected())`, since a level the CPU lacks cannot run. For tests and
/// benchmarks; it changes no result, only the speed. A call racing a kernel on another thread
/// takes effect from that thread's next call.
///
/// ```
/// use focal_loss::dispatch::{self, Level};
/// assert_eq!(dispatch::force(Some(Level::Baseline)), Level::Baseline);
/// assert_eq!(dispatch::force(None), dispatch::detected());
/// ```
pub fn force(cap: Option<Level>) -> Level {
    #[cfg(all(target_arch = "x86_64", not(focal_loss_lanes8), not(focal_loss_lanes1)))]
    cap::set(cap);
    #[cfg(not(all(target_arch = "x86_64", not(focal_loss_lanes8), not(focal_loss_lanes1))))]
    let _ = cap;
    active()
}

/// The process-wide cap of [`force`].
#[cfg(all(target_arch = "x86_64", not(focal_loss_lanes8), not(focal_loss_lanes1)))]
mod cap {
    use super::Level;
    use core::sync::atomic::{AtomicU8, Ordering};

    /// `u8::MAX` for no cap, else the level as `u8`.
    static CAP: AtomicU8 = AtomicU8::new(u8::MAX);

    pub(super) fn get() -> Option<Level> {
        match CAP.load(Ordering::Relaxed) {
            0 => Some(Level::Baseline),
            1 => Some(Level::Avx2),
            2 => Some(Level::Avx512),
            _ => None,
        }
    }

    pub(super) fn set(cap: Option<Level>) {
        CAP.store(cap.map_or(u8::MAX, |l| l as u8), Ordering::Relaxed);
    }
}

/// A pass of `Kernel::Simd` written once over the lane type, run by [`run`] on the lanes the
/// CPU supports.
pub(crate) trait Job {
    /// What the pass returns.
    type Output;
    /// The pass on lanes `V`. Implementations are `#[inline(always)]`, as is everything
    /// generic over `V` that they call, so that the whole pass is compiled inside the function
    /// that enables the CPU features of `V`.
    fn run<V: SimdF32>(self) -> Self::Output;
}

/// Runs `job` on the lanes of [`active`]`()`.
#[inline]
pub(crate) fn run<J: Job>(job: J) -> J::Output {
    #[cfg(all(target_arch = "x86_64", not(focal_loss_lanes8), not(focal_loss_lanes1)))]
    return crate::simd::x86::run(job, active());
    #[cfg(not(all(target_arch = "x86_64", not(focal_loss_lanes8), not(focal_loss_lanes1))))]
    return job.run::<crate::simd::F32s>();
}
