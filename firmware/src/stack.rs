//! Peak stack by painting: fill the free stack with a pattern, run the code, find the lowest
//! word that changed.
//!
//! The `unsafe` code here lives in the test firmware, not in the library: it writes and reads
//! the free stack below the stack pointer through raw pointers, between `_stack_end` (the end
//! of the static data: cortex-m-rt's symbol, which `memory-riscv-virt.x` defines for
//! riscv-rt) and the current stack pointer. Nothing lives there while it runs.

/// The paint.
const PAINT: u32 = 0x5AA5_C33C;

/// Words left unpainted just below the painter's own stack pointer.
const MARGIN_WORDS: usize = 16;

unsafe extern "C" {
    /// The lowest address the stack may reach (end of `.bss` / `.uninit`).
    static _stack_end: u32;
}

/// The lowest address the stack may use.
fn stack_floor() -> usize {
    // Only the address of the linker symbol is taken, never its value.
    core::ptr::addr_of!(_stack_end) as usize
}

/// Paints the free stack below this function's own frame.
#[inline(never)]
pub fn paint() {
    let top = crate::board::stack_pointer() - MARGIN_WORDS * 4;
    let mut p = stack_floor();
    while p < top {
        // SAFETY: [floor, sp − margin) is free stack, word-aligned, owned by no one.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}

/// Bytes of stack used below `sp` since [`paint`]: the distance from `sp`
/// to the lowest word that lost its paint.
#[inline(never)]
pub fn peak_since(sp: usize) -> usize {
    let mut p = stack_floor();
    // SAFETY: reads of the same free, word-aligned region `paint` wrote.
    while p < sp && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    sp.saturating_sub(p)
}

/// Calls `f` in a frame of its own, so that the code inlined into it uses stack below the
/// caller's stack pointer, where it is measured.
#[inline(never)]
fn out_of_line<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Peak stack of `f` in bytes, measured from the stack pointer at the call.
#[inline(always)]
pub fn peak<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let sp = crate::board::stack_pointer();
    paint();
    let r = out_of_line(f);
    (r, peak_since(sp))
}
