//! The `FL_KERNEL_SIMD` kernel's elementary functions, for C code that wants the same bits
//! (the digest workload of the C test uses them).

#![allow(unsafe_code)] // `no_mangle`: the C names.

/// The crate's `exp`: the same bits on every target (`focal_loss::approx::exp`).
#[unsafe(no_mangle)]
pub extern "C" fn fl_approx_exp(x: f32) -> f32 {
    focal_loss::approx::exp(x)
}

/// The crate's natural logarithm: the same bits on every target (`focal_loss::approx::ln`).
#[unsafe(no_mangle)]
pub extern "C" fn fl_approx_ln(x: f32) -> f32 {
    focal_loss::approx::ln(x)
}
