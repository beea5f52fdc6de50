//! The board-side instruments, one interface on every target: an instruction [`Counter`], the
//! [`stack_pointer`], the semihosting [`exit`] and the runtime's [`entry`] attribute. The
//! programs use only these names; the Cortex-M ones are in `board/arm.rs` (cortex-m-rt,
//! SysTick).

#[cfg(target_arch = "arm")]
mod arm;
#[cfg(target_arch = "arm")]
pub use arm::{Counter, entry, exit, stack_pointer};

/// What every program that reports through `defmt` has: the semihosting logger, and a panic
/// handler that prints the panic and exits with failure.
#[macro_export]
macro_rules! defmt_program {
    () => {
        use defmt_semihosting as _;

        #[panic_handler]
        fn panic(info: &core::panic::PanicInfo) -> ! {
            defmt::println!("panic: {}", defmt::Display2Format(info));
            $crate::board::exit(false)
        }
    };
}
