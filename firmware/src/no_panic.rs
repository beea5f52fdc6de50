//! The link-time proof that no panic is reachable from the library's entry points: a program
//! that runs some of them (`testkit::every_entry_point`) with a panic handler that calls a
//! function defined nowhere, so it links only if the linker's garbage collection removed
//! every panic path. Three programs, so that each fits the micro:bit's 256 KiB of flash:
//! `no_panic_binary` (the sigmoid form and the variants), `no_panic_options` (the sigmoid
//! form's options) and `no_panic_softmax`. They are
//! built with the other programs for every Cortex-M and RISC-V target, and never run.

/// The `main` and panic handler of one proof program: runs `$run` (a
/// `fn() -> Result<(), FocalError>`) and exits.
#[macro_export]
macro_rules! no_panic_program {
    ($run:path) => {
        #[$crate::board::entry]
        fn main() -> ! {
            let ok = $run().is_ok();
            $crate::board::exit(core::hint::black_box(ok))
        }

        #[panic_handler]
        fn panic(_: &core::panic::PanicInfo) -> ! {
            // Declared `safe`: calling it needs no `unsafe`, and it is never called (the
            // link fails first if this handler is reachable).
            unsafe extern "C" {
                /// Defined nowhere: a reference to it that survives the link means a panic
                /// is reachable from an entry point.
                safe fn focal_loss_panic_is_reachable() -> !;
            }
            focal_loss_panic_is_reachable()
        }
    };
}
