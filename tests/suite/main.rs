//! The library's integration tests, one binary (one link, and the kernels' generic code
//! compiled once rather than once per file). A module per subject:
//!
//! - `*_api`: the public behaviour of a form or the variants (every error, reductions,
//!   weights, kernels, saturated and infinite inputs);
//! - `*_accuracy`: ULP sweeps against the `f64` references of `testkit`;
//! - `*_reference`: the committed mpmath vectors of `tests/data/`;
//! - `*_proptest`: random shapes, lengths and values, both kernels against the references;
//! - `options_api`, `softmax_poly1`, `softmax_reduced`: the Poly-1, reduced and normalised
//!   options;
//! - `approx`: the fast elementary functions; `train`: the training module.
//!
//! `tests/determinism.rs` and `tests/dispatch.rs` stay binaries of their own: they force the
//! runtime dispatch level, which is global to the process. One module alone:
//! `cargo test --test suite softmax_api::`.

mod approx;
mod options_api;
mod sigmoid_accuracy;
mod sigmoid_api;
mod sigmoid_proptest;
mod sigmoid_reference;
mod softmax_accuracy;
mod softmax_api;
mod softmax_poly1;
mod softmax_proptest;
mod softmax_reduced;
mod softmax_reference;
mod train;
mod variant_accuracy;
mod variant_api;
mod variant_proptest;
mod variant_reference;
