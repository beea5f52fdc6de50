//! RISC-V: the `minstret` CSR as the instruction counter, the stack pointer, the semihosting
//! exit of the `semihosting` crate, riscv-rt's entry.
//!
//! Reading the stack pointer is inline assembly (so `unsafe`): no crate offers it.

use riscv::register::minstret;

pub use riscv_rt::entry;

/// Ends the program with the semihosting exit code qemu turns into its own: 0 or 1.
pub fn exit(ok: bool) -> ! {
    semihosting::process::exit(if ok { 0 } else { 1 })
}

/// The stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: copies `sp` into a register; reads and writes no memory, changes no state.
    unsafe {
        core::arch::asm!("mv {0}, sp", out(reg) sp, options(nomem, nostack, preserves_flags));
    }
    sp
}

/// Counts instructions with `minstret`, the instructions-retired CSR.
///
/// qemu derives `minstret` from its instruction count when run with `-icount`; with
/// `-icount shift=0` that count is exact, so no calibration is needed: one tick per
/// instruction. (Without `-icount` qemu's `minstret` follows the host's clock.)
pub struct Counter(());

impl Counter {
    /// The counter (`minstret` runs from reset in machine mode).
    pub fn take() -> Option<Self> {
        Some(Self(()))
    }

    /// Instructions per tick (×1024): one.
    pub fn instructions_per_tick_x1024(&self) -> u64 {
        1024
    }

    /// Instructions `f` executes, and the few of the two reads of the counter.
    pub fn instructions(&mut self, f: impl FnOnce()) -> u64 {
        let start = minstret::read64();
        f();
        minstret::read64().wrapping_sub(start)
    }
}
