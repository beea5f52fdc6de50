//! The checks behind the fuzz targets of `focal-loss`, one module per target.
//!
//! Each `check(data)` decodes arbitrary bytes ([`arbitrary`]) into a configuration and
//! slices of arbitrary length and content, runs an entry point with both kernels and
//! asserts (a failed assertion is a finding):
//!
//! - nothing panics;
//! - an `Err` is exactly the first fault of the input in the documented check order
//!   (hyper-parameters; lengths; then targets, weights and logits, each at its lowest bad
//!   index), computed independently here: so the index and value it names hold a bad value,
//!   and a valid input never fails;
//! - an `Ok` value is never NaN, is finite where the `f64` reference is, and `Kernel::Simd`
//!   agrees with `Kernel::Libm` within twice the per-kernel bound the accuracy tests hold
//!   each kernel to against that reference ([`agree`]).
//!
//! The libFuzzer binaries in `fuzz_targets/` call these; `tests/corpus.rs` replays the
//! committed corpus through them with plain `cargo test`.

#![forbid(unsafe_code)]

pub mod decode;
pub mod expect;
pub mod family;
pub mod sigmoid;
pub mod softmax;
pub mod tolerance;
pub mod variants;

pub use tolerance::agree;

/// A fuzz target's checks: they panic on any input the library mishandles.
pub type Check = fn(&[u8]);

/// The fuzz targets, by name: the names of `fuzz_targets/*.rs` and `corpus/*/`.
pub const TARGETS: [(&str, Check); 3] = [
    ("sigmoid", sigmoid::check),
    ("softmax", softmax::check),
    ("variants", variants::check),
];
