//! The programs that measure flash: `fp_empty` (the harness alone) and one per kernel and
//! form, `fp_<form>_<kernel>` (`loss_and_grad` alone, what a training step links) and
//! `fp_<form>_<kernel>_all` (every entry point of the form). `cargo xtask embedded-report`
//! compares the sizes of their `.text` + `.rodata` with the empty one's.
//!
//! Inputs are slices of a length the compiler cannot see and results pass through
//! `black_box`, so nothing is folded away or specialised to one length. The panic handler
//! exits without formatting, as a production firmware's would, so that no formatting code is
//! counted against the library.

use core::hint::black_box;
use focal_loss::{FocalError, Kernel, Reduction, SigmoidFocal, SoftmaxFocal};

/// Elements (sigmoid) or logits (softmax) of the workload.
const N: usize = 40;
/// Classes of the softmax workload.
const CLASSES: usize = 10;

/// Runs the sigmoid form with `kernel`: `loss_and_grad`, and with `ALL` every entry point.
pub fn sigmoid<const ALL: bool>(kernel: Kernel) -> Result<(), FocalError> {
    let (x, t, w) = ([0.5f32; N], [1.0f32; N], [1.0f32; N]);
    let (x, t, w) = (black_box(&x[..]), black_box(&t[..]), black_box(&w[..]));
    let (mut g, mut out) = ([0.0f32; N], [0.0f32; N]);
    let (g, out) = (black_box(&mut g[..]), black_box(&mut out[..]));
    let fl = SigmoidFocal::new(black_box(2.0), black_box(Some(0.25)))?.with_kernel(kernel);
    black_box(fl.loss_and_grad(x, t, Reduction::Mean, g)?);
    if ALL {
        black_box(fl.loss(x, t, Reduction::Mean)?);
        black_box(fl.loss_weighted(x, t, w, Reduction::Sum)?);
        fl.loss_per_element(x, t, out)?;
        fl.loss_per_element_weighted(x, t, w, out)?;
        black_box(fl.loss_and_grad_weighted(x, t, w, Reduction::Mean, g)?);
    }
    black_box((g, out));
    Ok(())
}

/// Runs the softmax form with `kernel` on class-index targets: `loss_and_grad`, and with
/// `ALL` also `loss`, `loss_per_element` and soft targets, with per-class α and an ignored
/// index.
pub fn softmax<const ALL: bool>(kernel: Kernel) -> Result<(), FocalError> {
    let (x, t) = ([0.5f32; N], [3u8; N / CLASSES]);
    let (x, t) = (black_box(&x[..]), black_box(&t[..]));
    let (mut g, mut out) = ([0.0f32; N], [0.0f32; N / CLASSES]);
    let (g, out) = (black_box(&mut g[..]), black_box(&mut out[..]));
    let fl = SoftmaxFocal::new(black_box(CLASSES), black_box(2.0))?.with_kernel(kernel);
    black_box(fl.loss_and_grad(x, t, Reduction::Mean, g)?);
    if ALL {
        let (alpha, soft) = ([0.5f32; CLASSES], [0.1f32; N]);
        let (alpha, soft) = (black_box(&alpha[..]), black_box(&soft[..]));
        let weighted = fl.with_alpha(alpha)?.with_ignore_index(black_box(-100));
        black_box(weighted.loss(x, t, Reduction::Mean)?);
        weighted.loss_per_element(x, t, out)?;
        black_box(weighted.loss_and_grad(x, soft, Reduction::Sum, g)?);
    }
    black_box((g, out));
    Ok(())
}

/// The `main` and panic handler of one footprint program: runs `$body` (a
/// `Result<(), FocalError>`, `Ok(())` for the empty program), in which [`sigmoid`],
/// [`softmax`] and the kernels `Simd` and `Libm` are in scope, and exits.
#[macro_export]
macro_rules! footprint_program {
    ($($body:tt)*) => {
        #[$crate::board::entry]
        fn main() -> ! {
            #[allow(unused_imports)]
            use {$crate::footprint::{sigmoid, softmax}, focal_loss::Kernel::{Libm, Simd}};
            let result: Result<(), focal_loss::FocalError> = { $($body)* };
            $crate::board::exit(core::hint::black_box(result.is_ok()))
        }

        #[panic_handler]
        fn panic(_: &core::panic::PanicInfo) -> ! {
            $crate::board::exit(false)
        }
    };
}
