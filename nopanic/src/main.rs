//! The host's link-time proof that no panic is reachable from the library's entry points:
//! a `no_std` program that runs every one of them (`testkit::every_entry_point`, as the
//! firmware's `no_panic` program does on Cortex-M and RISC-V) with a panic handler that
//! calls a function defined nowhere. It links only if the linker's garbage collection
//! removed every panic path, on the lanes of this host (SSE2, and the AVX2 and AVX-512
//! passes runtime dispatch picks on x86-64). `cargo xtask test` builds it; it is never run.

#![no_std]
#![no_main]

/// The C runtime's entry point (the program links against the host's C library, for its
/// start-up code and `memcpy`).
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let ok = testkit::every_entry_point::run().is_ok();
    i32::from(!core::hint::black_box(ok))
}

/// The unwinder's personality routine, which the host's precompiled `core` refers to even
/// when this program aborts on panic; nothing here unwinds, so it is never called.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // Declared `safe`: calling it needs no `unsafe`, and it is never called (the link fails
    // first if this handler is reachable).
    unsafe extern "C" {
        /// Defined nowhere: a reference to it that survives the link means a panic is
        /// reachable from an entry point.
        safe fn focal_loss_panic_is_reachable() -> !;
    }
    focal_loss_panic_is_reachable()
}
