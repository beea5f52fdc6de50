//! Quickstart: the textbook's table, then a loss and its gradient on a small batch.
//!
//! Run with `cargo run --release --example quickstart`.

use focal_loss::{FocalError, Kernel, Reduction, SigmoidFocal};

fn main() -> Result<(), FocalError> {
    // Logit whose sigmoid is p_t, so that the table is in terms of p_t.
    let logit = |p: f32| (p / (1.0 - p)).ln();
    let ce = SigmoidFocal::new(0.0, None)?;
    let fl = SigmoidFocal::new(2.0, None)?;
    println!("p_t    CE       FL(gamma=2)  reduction");
    for p in [0.9f32, 0.5, 0.1] {
        let x = [logit(p)];
        let c = ce.loss(&x, &[1u8], Reduction::Sum)?;
        let f = fl.loss(&x, &[1u8], Reduction::Sum)?;
        println!("{p:<6} {c:<8.3} {f:<12.5} {:>6.1}x", c / f);
    }

    let logits = [3.2f32, -0.4, -5.0, 0.7, 12.0, -12.0];
    let targets = [1u8, 1, 0, 0, 1, 0];
    let mut grad = [0.0f32; 6];
    for kernel in [Kernel::Simd, Kernel::Libm] {
        let fl = SigmoidFocal::RETINANET.with_kernel(kernel);
        let loss = fl.loss_and_grad(&logits, &targets, Reduction::Mean, &mut grad)?;
        println!("\n{kernel:?}: RetinaNet focal loss (mean) = {loss:.6}");
        println!("gradient: {grad:+.5?}");
    }
    Ok(())
}
