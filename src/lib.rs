//! Focal loss (Lin et al., ICCV 2017) for training on microcontrollers and fast, exact
//! training on x86 / ARM hosts: `#![no_std]`, no allocation, loss and fused gradient.
//!
//! `FL(p_t) = −α_t (1 − p_t)^γ log(p_t)` down-weights the many easy examples so that the few
//! hard ones drive training. γ = 0 is cross-entropy.
//!
//! ```
//! use focal_loss::{Kernel, Reduction, SigmoidFocal};
//! let fl = SigmoidFocal::new(2.0, Some(0.25))?.with_kernel(Kernel::Simd);
//! let logits = [2.5f32, -0.3, -6.0, 0.8];
//! let targets = [1u8, 0, 0, 1];
//! let mut grad = [0.0f32; 4];
//! let loss = fl.loss_and_grad(&logits, &targets, Reduction::Mean, &mut grad)?;
//! assert!(loss.is_finite());
//! # Ok::<(), focal_loss::FocalError>(())
//! ```
//!
//! The multi-class form, [`SoftmaxFocal`], adds per-class α, an ignore index, soft targets and
//! a channels-first layout.
//!
//! Two kernels evaluate the same formulas: [`Kernel::Simd`] (the crate's own [`approx`]
//! functions, bit-identical on every target the tests run on, see the README; sixteen lanes on
//! x86-64, where [`dispatch`] picks SSE2, AVX2 or AVX-512F at run time, and aarch64, one
//! elsewhere, Cortex-M included) and [`Kernel::Libm`] (scalar, libm).
//! With the `train` feature, the `train` module adds a small allocation-free training loop
//! (models, SGD with momentum, mini-batches).
//! Every bad input returns a [`FocalError`]; nothing panics on user input.

#![no_std]
// `unsafe` is allowed in one module only, `simd::x86` (runtime dispatch on x86-64).
#![deny(unsafe_code)]
#![deny(missing_docs)]
// docs.rs (`[package.metadata.docs.rs]`) badges the items behind a feature.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod approx;
pub mod dispatch;
mod error;
mod exact;
mod focusing;
mod kernel;
mod kernel_math;
mod poly;
mod reduced;
mod reduction;
mod sigmoid;
mod simd;
mod sink;
mod softmax;
mod sum;
mod target;
#[cfg(test)]
mod test_rng;
mod total;
#[cfg(feature = "train")]
#[cfg_attr(docsrs, doc(cfg(feature = "train")))]
pub mod train;
mod variants;

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The code blocks of the pages in `docs/`, compiled and run as doc tests too.
#[cfg(doctest)]
mod docs_doctests {
    #[doc = include_str!("../docs/accuracy.md")]
    struct Accuracy;
    #[doc = include_str!("../docs/benchmarks.md")]
    struct Benchmarks;
    #[doc = include_str!("../docs/embedded.md")]
    struct Embedded;
    #[doc = include_str!("../docs/numerics.md")]
    struct Numerics;
    #[doc = include_str!("../docs/reference-vectors.md")]
    struct ReferenceVectors;
    #[doc = include_str!("../docs/training.md")]
    struct Training;
    #[doc = include_str!("../docs/variants.md")]
    struct Variants;
}

pub use error::{FocalError, Operand};
pub use kernel::Kernel;
pub use reduction::Reduction;
pub use sigmoid::{ExtendedSigmoidFocal, NORMALIZER_MIN, SigmoidFocal};
pub use softmax::{Layout, SOFT_TARGET_SUM_TOLERANCE, SoftmaxFocal};
pub use target::{BinaryTarget, SoftmaxTarget};
pub use variants::{Asymmetric, FocalStar, PositiveNormaliser, QualityFocal, Varifocal};
