//! What the kernels cost on the device, for `cargo xtask embedded-report`: instructions per
//! element of `loss_and_grad` (counted under qemu's `-icount shift=0` by SysTick on Cortex-M
//! and `minstret` on RISC-V, see `board::Counter`) and the peak stack of every entry point (by
//! stack painting, see `stack`). Prints one `defmt` line per measurement, which the xtask
//! parses:
//!
//! - `calibration <instructions per tick × 1024>`
//! - `instructions <form> <case> <kernel> <elements> <instructions>`
//! - `stack <form> <entry point> <kernel> <bytes>`

#![no_std]
#![no_main]

use core::hint::black_box;
use focal_loss::train::Rng;
use focal_loss::{FocalError, Kernel, Reduction, SigmoidFocal, SoftmaxFocal};
use focal_loss_firmware::board::{self, Counter, entry};
use focal_loss_firmware::stack;

focal_loss_firmware::defmt_program!();

/// Elements of the sigmoid workload.
const N: usize = 320;
/// Classes and rows of the softmax workload.
const CLASSES: usize = 10;
const ROWS: usize = 32;

/// Logits in [−8, 8] and targets (one positive in ten) from a xorshift.
fn workload(x: &mut [f32], t: &mut [f32], classes: &mut [u8]) {
    let mut rng = Rng::new(0x2545_f491);
    let mut next = move || rng.next_u32();
    for v in x.iter_mut() {
        *v = (next() % 16_001) as f32 / 1000.0 - 8.0;
    }
    for v in t.iter_mut() {
        *v = if next() % 10 == 0 { 1.0 } else { 0.0 };
    }
    for c in classes.iter_mut() {
        *c = (next() % CLASSES as u32) as u8;
    }
}

/// Prints the peak stack of one entry point; false if it returned an error.
fn stack_of(
    form: &str,
    entry: &str,
    kernel: Kernel,
    f: impl FnOnce() -> Result<(), FocalError>,
) -> bool {
    let (result, bytes) = stack::peak(f);
    defmt::println!("stack {} {} {} {=usize}", form, entry, kernel, bytes);
    result.is_ok()
}

/// The value, or a failed exit.
fn or_exit<T, E>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|_| board::exit(false))
}

#[entry]
fn main() -> ! {
    let Some(mut counter) = Counter::take() else {
        board::exit(false)
    };
    defmt::println!("calibration {=u64}", counter.instructions_per_tick_x1024());

    let mut x = [0.0f32; N];
    let mut t = [0.0f32; N];
    let mut classes = [0u8; ROWS];
    workload(&mut x, &mut t, &mut classes);
    let w = [1.0f32; N];
    let mut g = [0.0f32; N];
    let mut out = [0.0f32; N];
    // Soft targets: 0.9 on the row's class, 0.1 on the next.
    let mut soft = [0.0f32; ROWS * CLASSES];
    for (row, &c) in soft.chunks_exact_mut(CLASSES).zip(&classes) {
        row[usize::from(c)] = 0.9;
        row[(usize::from(c) + 1) % CLASSES] = 0.1;
    }
    // Slices of a length the compiler cannot see, as a firmware's buffers usually are.
    let (x, t, w) = (black_box(&x[..]), black_box(&t[..]), black_box(&w[..]));
    let (g, out) = (black_box(&mut g[..]), black_box(&mut out[..]));
    let (classes, soft) = (black_box(&classes[..]), black_box(&soft[..]));
    let logits = &x[..ROWS * CLASSES];
    let mut ok = true;

    for kernel in [Kernel::Simd, Kernel::Libm] {
        for (case, gamma) in [("gamma2", 2.0f32), ("gamma0.5", 0.5)] {
            let fl = or_exit(SigmoidFocal::new(gamma, Some(0.25))).with_kernel(kernel);
            let mut result = Ok(0.0);
            let n = counter.instructions(|| {
                result = fl.loss_and_grad(x, t, Reduction::Mean, g);
            });
            ok &= result.is_ok();
            defmt::println!(
                "instructions sigmoid {} {} {=usize} {=u64}",
                case,
                kernel,
                N,
                n
            );
        }
        let fl = or_exit(SoftmaxFocal::new(CLASSES, 2.0)).with_kernel(kernel);
        let mut result = Ok(0.0);
        let grad = &mut g[..ROWS * CLASSES];
        let n = counter.instructions(|| {
            result = fl.loss_and_grad(logits, classes, Reduction::Mean, grad);
        });
        ok &= result.is_ok();
        defmt::println!(
            "instructions softmax C10 {} {=usize} {=u64}",
            kernel,
            ROWS,
            n
        );
    }

    for kernel in [Kernel::Simd, Kernel::Libm] {
        let fl = or_exit(SigmoidFocal::new(2.0, Some(0.25))).with_kernel(kernel);
        let f = "sigmoid";
        ok &= stack_of(f, "loss", kernel, || {
            fl.loss(x, t, Reduction::Mean).map(drop)
        });
        ok &= stack_of(f, "loss_weighted", kernel, || {
            fl.loss_weighted(x, t, w, Reduction::Mean).map(drop)
        });
        ok &= stack_of(f, "loss_per_element", kernel, || {
            fl.loss_per_element(x, t, out)
        });
        ok &= stack_of(f, "loss_per_element_weighted", kernel, || {
            fl.loss_per_element_weighted(x, t, w, out)
        });
        ok &= stack_of(f, "loss_and_grad", kernel, || {
            fl.loss_and_grad(x, t, Reduction::Mean, g).map(drop)
        });
        ok &= stack_of(f, "loss_and_grad_weighted", kernel, || {
            fl.loss_and_grad_weighted(x, t, w, Reduction::Mean, g)
                .map(drop)
        });

        let alpha = [0.5f32; CLASSES];
        let fl = or_exit(SoftmaxFocal::new(CLASSES, 2.0)).with_kernel(kernel);
        let fl = or_exit(fl.with_alpha(&alpha));
        let f = "softmax";
        let rows = &mut out[..ROWS];
        let grad = &mut g[..ROWS * CLASSES];
        ok &= stack_of(f, "loss", kernel, || {
            fl.loss(logits, classes, Reduction::Mean).map(drop)
        });
        ok &= stack_of(f, "loss_per_element", kernel, || {
            fl.loss_per_element(logits, classes, rows)
        });
        ok &= stack_of(f, "loss_and_grad", kernel, || {
            fl.loss_and_grad(logits, classes, Reduction::Mean, grad)
                .map(drop)
        });
        ok &= stack_of(f, "loss_and_grad_soft", kernel, || {
            fl.loss_and_grad(logits, soft, Reduction::Sum, grad)
                .map(drop)
        });
    }
    defmt::println!("cost: {}", if ok { "done" } else { "FAILED" });
    board::exit(ok)
}
