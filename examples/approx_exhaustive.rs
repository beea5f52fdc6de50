//! Measures the worst error of `focal_loss::approx::{exp, ln, ln_1p}` against `f64` over
//! every `f32` of their domains (`ln`: every third), the numbers behind the `*_MAX_ULP`
//! budgets. Takes about a minute and a half on one core.
//!
//! Run with `cargo run --release --example approx_exhaustive`.

use focal_loss::approx;

/// Error in ULP of `got` against `want` where `want` is a normal `f32`, else 0.
fn ulp(got: f32, want: f64) -> f64 {
    let w = want.abs();
    if !(w >= f64::from(f32::MIN_POSITIVE) && w <= f64::from(f32::MAX)) {
        return 0.0;
    }
    (f64::from(got) - want).abs() / 2f64.powi(w.log2().floor() as i32 - 23)
}

fn worst(
    f: impl Fn(f32) -> f32,
    g: impl Fn(f64) -> f64,
    bits: impl Iterator<Item = u32>,
) -> (f64, f32) {
    let mut worst = (0.0, 0.0);
    for x in bits.map(f32::from_bits) {
        let e = ulp(f(x), g(f64::from(x)));
        if e > worst.0 {
            worst = (e, x);
        }
    }
    worst
}

fn main() {
    let negative = 0x8000_0000..=(-87.34f32).to_bits();
    let exp = worst(
        approx::exp,
        f64::exp,
        negative.chain(0..=88.72f32.to_bits()),
    );
    println!(
        "exp   : {:.3} ULP at x = {:e} (budget {})",
        exp.0,
        exp.1,
        approx::EXP_MAX_ULP
    );
    let ln = worst(approx::ln, f64::ln, (1u32..0x7f80_0000).step_by(3));
    println!(
        "ln    : {:.3} ULP at x = {:e} (budget {})",
        ln.0,
        ln.1,
        approx::LN_MAX_ULP
    );
    let ln_1p = worst(approx::ln_1p, f64::ln_1p, 0..=1.0f32.to_bits());
    println!(
        "ln_1p : {:.3} ULP at x = {:e} (budget {})",
        ln_1p.0,
        ln_1p.1,
        approx::LN_1P_MAX_ULP
    );
}
