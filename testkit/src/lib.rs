//! Test support of focal-loss, shared by its tests, benches and examples (as a
//! dev-dependency) and by the Cortex-M firmware (as a dependency, `no_std`, and as a
//! build-dependency, with `std`).
//!
//! The `core` part, which the firmware runs on the device:
//!
//! - [`ulp`]: errors in `f32` ULP and the pass/fail rule of every reference-vector check;
//! - [`vectors`]: the reference vectors as `core` data, their bounds and their checks;
//! - [`digest`]: the fixed `Kernel::Simd` workload and its digest;
//! - [`synthetic`]: the synthetic imbalanced training problem;
//! - [`device_run`]: the training configuration host and device share;
//! - `every_entry_point` (feature `every-entry-point`): every public loss entry point on
//!   opaque inputs, for the link-time no-panic proofs (the firmware's `no_panic_*` programs
//!   and `nopanic/` on the host);
//! - [`xorshift`]: the benches' input generator (the workloads draw from
//!   `focal_loss::train::Rng`).
//!
//! With the `std` feature (the default), the host-only part:
//!
//! - [`sigmoid`] and [`softmax`]: each form's `f64` reference next to its accuracy grid;
//! - [`variants`]: the same for the variants of the focal family;
//! - [`vector_files`]: the parsers of the committed reference-vector files;
//! - [`metrics`]: classifier scores of the training example;
//! - [`digits`]: the digits data set of the training example;
//! - [`dispatch_env`]: the dispatch level of a bench run, from `FOCAL_LOSS_DISPATCH`;
//! - [`timing`]: interleaved wall-clock timing of the `roofline` and `compare_torch` examples.

#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]

pub mod device_run;
pub mod digest;
#[cfg(feature = "every-entry-point")]
pub mod every_entry_point;
pub mod synthetic;
pub mod ulp;
pub mod vectors;
pub mod xorshift;

#[cfg(feature = "std")]
pub mod digits;
#[cfg(feature = "std")]
pub mod dispatch_env;
#[cfg(feature = "std")]
pub mod metrics;
#[cfg(feature = "std")]
pub mod sigmoid;
#[cfg(feature = "std")]
pub mod softmax;
#[cfg(feature = "std")]
pub mod timing;
#[cfg(feature = "std")]
pub mod variants;
#[cfg(feature = "std")]
pub mod vector_files;
