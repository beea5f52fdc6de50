//! The board-side instruments, one interface on every target: an instruction [`Counter`], the
//! [`stack_pointer`], the semihosting [`exit`] and the runtime's [`entry`] attribute. The
//! programs use only these names, so each runs unchanged on Cortex-M (`board/arm.rs`:
//! cortex-m-rt, SysTick) and RISC-V (`board/riscv32.rs`: riscv-rt, `minstret`).

#[cfg(target_arch = "arm")]
mod arm;
#[cfg(target_arch = "arm")]
pub use arm::{Counter, entry, exit, stack_pointer};

#[cfg(target_arch = "riscv32")]
mod riscv32;
#[cfg(target_arch = "riscv32")]
pub use riscv32::{Counter, entry, exit, stack_pointer};

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
