//! The reduced focal loss's modulating factor (Sergievskiy & Ponamarev 2019;
//! segmentation_models_pytorch's `reduced_threshold`), written once for both forms: 1 where
//! `p_t < th`, `((1 − p_t)/th)^γ = th^−γ·q^γ` elsewhere.
//!
//! The branch is decided on `q = 1 − p_t` as the forms compute it (without a subtraction)
//! when `th >= 1/2`, where `1 − th` is exact, and on `p_t` below, where `p_t < th <= 1/2`
//! means `p_t` itself is not a rounded complement. A rounded `p_t` near 1 would flip the
//! branch at saturated logits; `q` does not.

use crate::kernel_math::KernelMath;

/// Where the factor is 1, and `th^−γ` (may be +∞ for a tiny `th` and a large γ).
#[derive(Clone, Copy)]
pub(crate) struct Reduced {
    branch: Branch,
    scale: f32,
}

/// Where the factor is 1.
#[derive(Clone, Copy)]
enum Branch {
    /// `q > 1 − th` (given `1 − th`, exact for `th >= 1/2`).
    OnQ(f32),
    /// `p_t < th`.
    OnP(f32),
}

/// Whether `threshold` is one the reduced focal loss takes: (0, 1], NaN excluded.
pub(crate) fn valid_threshold(threshold: f32) -> bool {
    threshold > 0.0 && threshold <= 1.0
}

impl Reduced {
    /// The factor of threshold `th` (in (0, 1]) with focusing parameter `gamma`.
    ///
    /// Out of line: with `powf` inlined, the softmax form's `pass` grew past what LLVM
    /// inlines, and a firmware linking every entry point of one kernel linked both kernels
    /// (the kernel no longer a constant in the pass), 16 KiB more on a Cortex-M0.
    #[inline(never)]
    pub(crate) fn new(th: f32, gamma: f32) -> Self {
        Reduced {
            branch: if th >= 0.5 {
                Branch::OnQ(1.0 - th)
            } else {
                Branch::OnP(th)
            },
            scale: libm::powf(th, -gamma),
        }
    }

    /// Where the factor is 1, given `q = 1 − p_t` and `p_t`.
    #[inline(always)]
    pub(crate) fn full<R: KernelMath>(self, q: R, p_t: R) -> R::Mask {
        match self.branch {
            Branch::OnQ(b) => R::splat(b).lt(q),
            Branch::OnP(th) => p_t.lt(R::splat(th)),
        }
    }

    /// `th^−γ·v`, 0 where `v` is (`th^−γ` may be +∞).
    #[inline(always)]
    pub(crate) fn scaled<R: KernelMath>(self, v: R) -> R {
        R::select(v.eq(R::splat(0.0)), v, R::splat(self.scale) * v)
    }
}
