//! The C API of `focal-loss`: every entry point of both forms as an `extern "C"` function,
//! for C firmware and C hosts. The header, `include/focal_loss.h`, is generated from this
//! crate by cbindgen (`cargo xtask capi --header`) and checked for drift by `cargo xtask test`.
//!
//! - Hyper-parameters are plain C structs ([`fl_sigmoid_config`], [`fl_softmax_config`],
//!   [`fl_reduction`]) with init functions giving the defaults.
//! - Every buffer is a pointer and its length in elements; the caller owns all of them and
//!   nothing is allocated. A NULL pointer with a non-zero length is [`FL_NULL_POINTER`], one
//!   with length 0 an empty buffer; an output buffer that overlaps an input is
//!   [`FL_OVERLAPPING_BUFFERS`].
//! - Every function returns an [`fl_status`] ([`FL_OK`], or one code per
//!   `focal_loss::FocalError` variant, or one of the C API's own) and fills an optional
//!   [`fl_error`] with the details; [`fl_status_str`] names a code.
//! - Nothing panics: on bare metal the C test links the library with a panic handler that
//!   calls an undefined symbol (feature `panic-check`), so any panic reachable from an exported
//!   function fails that link.
//!
//! `unsafe` is denied at the crate root and allowed only in the modules that export functions
//! (their `#[unsafe(no_mangle)]` and raw-pointer arguments) and in [`raw`], which turns the
//! pointers into slices; every block has a SAFETY comment.

#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]
// The C names of the header (`fl_status`, `fl_error`, ...) are the Rust names.
#![allow(non_camel_case_types)]

// On a hosted target (the host's static and shared libraries) std provides the panic handler;
// on bare metal the crate brings its own, below.
#[cfg(not(target_os = "none"))]
extern crate std;

pub mod approx;
pub mod config;
mod raw;
pub mod sigmoid;
pub mod softmax;
pub mod status;

pub use config::*;
pub use status::*;

/// The bare-metal panic handler. No exported function can reach it (the `panic-check` build
/// proves it); should one ever do, the core stops here rather than returning garbage.
#[cfg(all(target_os = "none", not(feature = "panic-check")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

/// The panic handler of the proof build (feature `panic-check`): it calls a function no
/// library defines, so linking fails as soon as any panic is reachable from the functions a
/// program uses.
#[cfg(all(target_os = "none", feature = "panic-check"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // An `unsafe extern` block declaring a `safe` function: calling it needs no `unsafe`,
    // and it is never called (the link would fail first).
    #[allow(unsafe_code)]
    unsafe extern "C" {
        /// Defined nowhere: a reference to it that survives the linker's garbage collection
        /// means a panic is reachable.
        safe fn focal_loss_c_panic_is_reachable() -> !;
    }
    focal_loss_c_panic_is_reachable()
}
