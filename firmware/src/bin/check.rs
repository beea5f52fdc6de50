//! On-device check of the focal-loss kernels, run under qemu (qemu-system-arm,
//! qemu-system-riscv32) by `cargo xtask test`:
//!
//! 1. every committed reference vector (`tests/data/*.csv`, the ones the host tests check)
//!    through `Kernel::Simd` and `Kernel::Libm`, sigmoid, softmax and the variants of the
//!    focal family, within the same bounds (the micro:bit and the Cortex-M55 keep one
//!    variant vector in 256 and in 32: see `build.rs`);
//! 2. the digest of the fixed `Kernel::Simd` workload (`testkit/src/digest.rs`) against the
//!    one the host committed in `tests/data/simd_digest.txt`: the same bits.
//!
//! Reports through `defmt` over semihosting (decoded by `defmt-print -e ELF`); every failed
//! check prints what was expected and what came out. Exits 0 when everything passed.

#![no_std]
#![no_main]

use focal_loss::Kernel;
use focal_loss_firmware::board::{self, entry};
use focal_loss_firmware::tables;
use testkit::digest;
use testkit::vectors::{self, Miss, Quantity, Worst};

focal_loss_firmware::defmt_program!();

/// The digest the host computed, committed with the crate.
const COMMITTED: &str = include_str!("../../../tests/data/simd_digest.txt");

/// Failures printed in full per kernel and form; the rest are counted.
const PRINTED_FAILURES: usize = 10;

/// Prints one failed vector.
fn report(form: &str, kernel: Kernel, index: usize, miss: Miss) {
    match miss {
        Miss::Rejected(e) => {
            defmt::println!("FAIL {} {} vector {}: rejected: {}", form, kernel, index, e)
        }
        Miss::Value {
            quantity,
            got,
            want,
            ulps,
            bound,
        } => {
            let (what, class) = match quantity {
                Quantity::Loss => ("loss", 0),
                Quantity::Grad(j) => ("grad", j),
            };
            defmt::println!(
                "FAIL {} {} vector {}: {} [{}] expected {=f64}, got {=f32} ({=f64} ULP > {=f64})",
                form,
                kernel,
                index,
                what,
                class,
                want,
                got,
                ulps,
                bound
            );
        }
    }
}

/// Checks every vector of one form with one kernel; prints a summary line, true if all passed.
fn check_form<V>(
    form: &str,
    kernel: Kernel,
    vectors: &[V],
    in_file: usize,
    mut check: impl FnMut(&V, &mut Worst) -> Result<(), Miss>,
) -> bool {
    let mut worst = Worst::default();
    let mut failures = 0;
    for (i, vector) in vectors.iter().enumerate() {
        if let Err(miss) = check(vector, &mut worst) {
            if failures < PRINTED_FAILURES {
                report(form, kernel, i, miss);
            }
            failures += 1;
        }
    }
    defmt::println!(
        "{} {}: {} of {} vectors, worst loss {=f64} ULP, worst grad {=f64} ULP: {}",
        form,
        kernel,
        vectors.len(),
        in_file,
        worst.loss,
        worst.grad,
        if failures == 0 { "ok" } else { "FAILED" }
    );
    if failures > 0 {
        defmt::println!("{} {}: {} vectors failed", form, kernel, failures);
    }
    failures == 0
}

#[entry]
fn main() -> ! {
    let mut ok = true;
    let mut scratch = [0.0f32; 128];
    for kernel in [Kernel::Simd, Kernel::Libm] {
        ok &= check_form(
            "sigmoid",
            kernel,
            tables::SIGMOID,
            tables::SIGMOID_IN_FILE,
            |v, w| vectors::check_sigmoid(v, kernel, w),
        );
        ok &= check_form(
            "softmax",
            kernel,
            tables::SOFTMAX,
            tables::SOFTMAX_IN_FILE,
            |v, w| vectors::check_softmax(v, kernel, &mut scratch, w),
        );
        ok &= check_form(
            "variants",
            kernel,
            tables::VARIANTS,
            tables::VARIANTS_IN_FILE,
            |v, w| vectors::check_variant(v, kernel, w),
        );
    }
    let want = u64::from_str_radix(COMMITTED.trim(), 16).unwrap_or(0);
    let got = digest::digest();
    let same = got == want;
    defmt::println!(
        "Simd digest {=u64:016x}, host committed {=u64:016x}: {}",
        got,
        want,
        if same { "same bits" } else { "MISMATCH" }
    );
    ok &= same;
    defmt::println!(
        "focal-loss firmware check: {}",
        if ok { "PASSED" } else { "FAILED" }
    );
    board::exit(ok)
}
