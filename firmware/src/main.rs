//! On-device check of the focal-loss kernels: computes the fixed workload of
//! `tests/common/digest.rs` with `Kernel::Simd` and compares its digest with the one the host
//! committed in `tests/data/simd_digest.txt`. Reports over semihosting and exits with the
//! semihosting exit code, so that a mismatch fails the run.

#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};

#[path = "../../tests/common/digest.rs"]
mod digest;

/// The digest the host computed, committed with the crate.
const COMMITTED: &str = include_str!("../../tests/data/simd_digest.txt");

#[entry]
fn main() -> ! {
    let want = u64::from_str_radix(COMMITTED.trim(), 16).unwrap_or(0);
    let got = digest::digest();
    let ok = got == want;
    hprintln!(
        "focal-loss firmware: SIMD digest {:016x}, host committed {:016x}: {}",
        got,
        want,
        if ok { "same bits" } else { "MISMATCH" }
    );
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {}
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("focal-loss firmware: panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
