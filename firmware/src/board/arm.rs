//! Cortex-M: SysTick as the instruction counter, the main stack pointer, the semihosting
//! exit of `cortex-m-semihosting`, cortex-m-rt's entry.
//!
//! The calibration loop is inline assembly (so `unsafe`), because only a loop whose
//! instructions are written out has a known length.

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};

pub use cortex_m_rt::entry;

/// Ends the program with the semihosting exit code qemu turns into its own: 0 or 1.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    #[allow(clippy::empty_loop)]
    loop {}
}

/// The stack pointer (the main one: the programs run in thread mode on MSP).
#[inline(always)]
pub fn stack_pointer() -> usize {
    cortex_m::register::msp::read() as usize
}

/// Counts instructions with SysTick, under qemu's `-icount shift=0`.
///
/// With `-icount shift=0` qemu advances its virtual clock by exactly 1 ns per executed
/// instruction, and SysTick counts that clock at the board's core frequency (25 MHz on the
/// MPS2 boards, 16 MHz on the micro:bit): one tick per `1e9 / f` instructions. Rather than
/// trust the frequency, [`Counter::new`] calibrates ticks against a loop of known length.
pub struct Counter {
    syst: SYST,
    /// Instructions per SysTick tick, times 1024.
    per_tick_x1024: u64,
}

/// Ticks of the 24-bit SysTick counter.
const RELOAD: u32 = 0x00ff_ffff;

/// Iterations of the calibration loop.
const CALIBRATION_ITERATIONS: u32 = 1 << 20;

/// Executes exactly `2 · n` instructions (`n ≥ 1`): `n` iterations of `subs; bne`.
#[inline(always)]
fn known_loop(n: u32) {
    // SAFETY: the loop only decrements a scratch register; no memory, no stack.
    unsafe {
        core::arch::asm!(
            "2:",
            "subs {0}, #1",
            "bne 2b",
            inout(reg) n => _,
            options(nomem, nostack),
        );
    }
}

impl Counter {
    /// The counter, once: takes SysTick from the core peripherals, starts it and calibrates
    /// it. `None` if the peripherals were taken already.
    pub fn take() -> Option<Self> {
        cortex_m::Peripherals::take().map(|peripherals| Self::new(peripherals.SYST))
    }

    /// Starts SysTick on the core clock and calibrates it.
    fn new(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_counter();
        let mut counter = Self {
            syst,
            per_tick_x1024: 1024,
        };
        let ticks = counter.ticks(|| known_loop(CALIBRATION_ITERATIONS));
        let instructions = 2 * u64::from(CALIBRATION_ITERATIONS);
        counter.per_tick_x1024 = (instructions * 1024 + ticks / 2) / ticks.max(1);
        counter
    }

    /// Instructions per tick, as measured by the calibration (×1024).
    pub fn instructions_per_tick_x1024(&self) -> u64 {
        self.per_tick_x1024
    }

    /// SysTick ticks `f` takes (it must take fewer than 2^24).
    pub fn ticks(&mut self, f: impl FnOnce()) -> u64 {
        self.syst.clear_current();
        let start = SYST::get_current();
        f();
        let end = SYST::get_current();
        u64::from(start.wrapping_sub(end) & RELOAD)
    }

    /// Instructions `f` executes, to within one tick.
    pub fn instructions(&mut self, f: impl FnOnce()) -> u64 {
        (self.ticks(f) * self.per_tick_x1024 + 512) / 1024
    }
}
