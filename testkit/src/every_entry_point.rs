//! Every public loss entry point of the library, for the link-time no-panic proofs (the
//! firmware's `no_panic_*` programs, `nopanic/` on the host): each form, option and variant,
//! each entry point, each target type, on inputs and hyper-parameters the compiler cannot
//! see (`black_box`), so that every pass and every validation path is linked. The `train`
//! module is not covered (it is a training loop for the examples, not a kernel). Behind the
//! feature `every-entry-point`, and `#[inline]`, so that only the programs that call it pay
//! for instantiating every pass.

use core::hint::black_box as opaque;
use focal_loss::{
    Asymmetric, BinaryTarget, FocalError, FocalStar, Kernel, Layout, PositiveNormaliser,
    QualityFocal, Reduction, SigmoidFocal, SoftmaxFocal, SoftmaxTarget, Varifocal, approx,
};

/// Logits per call.
const N: usize = 24;
/// Classes of the softmax calls.
const CLASSES: usize = 4;

/// The buffers of one call: logits, weights (one per logit), and two outputs.
struct Buffers {
    x: [f32; N],
    w: [f32; N],
    out: [f32; N],
    grad: [f32; N],
}

/// A slice of `values` whose length the compiler cannot see.
fn opaque_slice<T>(values: &[T]) -> &[T] {
    let len = opaque(values.len());
    values.get(..len).unwrap_or(values)
}

/// [`opaque_slice`] for a buffer written.
fn opaque_slice_mut<T>(values: &mut [T]) -> &mut [T] {
    let len = opaque(values.len()).min(values.len());
    &mut values[..len]
}

/// The buffers, kernel and reduction of a run, opaque.
fn opaque_inputs() -> (Buffers, Kernel, Reduction) {
    let b = opaque(Buffers {
        x: [0.5; N],
        w: [1.0; N],
        out: [0.0; N],
        grad: [0.0; N],
    });
    (b, opaque(Kernel::Simd), opaque(Reduction::Mean))
}

/// Runs every entry point once ([`binary`], [`sigmoid_options_all`], then [`multi_class`]);
/// the first error ends it.
#[inline]
pub fn run() -> Result<(), FocalError> {
    binary()?;
    sigmoid_options_all()?;
    multi_class()
}

/// Every entry point of the binary / multi-label losses: [`SigmoidFocal`] and the variants
/// with their target types, [`PositiveNormaliser`] and [`approx`], on opaque inputs; the first
/// error ends it.
#[inline]
pub fn binary() -> Result<(), FocalError> {
    let (mut b, kernel, reduction) = opaque_inputs();
    sigmoid(&mut b, kernel, reduction, &opaque([1.0f32; N]))?;
    sigmoid(&mut b, kernel, reduction, &opaque([1u8; N]))?;
    variants(&mut b, kernel, reduction, &opaque([1.0f32; N]))?;
    variants(&mut b, kernel, reduction, &opaque([1u8; N]))?;
    let (quality, reduction) = (opaque([0.5f32; N]), opaque(Reduction::mean_over_count(3)));
    let q = QualityFocal::new(opaque(2.0))?.with_kernel(kernel);
    let (x, t) = (opaque_slice(&b.x), opaque_slice(&quality));
    opaque(q.loss(x, t, reduction)?);
    q.loss_per_element(x, t, opaque_slice_mut(&mut b.out))?;
    opaque(q.loss_and_grad(x, t, reduction, opaque_slice_mut(&mut b.grad))?);
    let v = Varifocal::new(opaque(0.75), opaque(2.0), opaque(true))?.with_kernel(kernel);
    opaque(v.loss(x, t, reduction)?);
    v.loss_per_element(x, t, opaque_slice_mut(&mut b.out))?;
    opaque(v.loss_and_grad(x, t, reduction, opaque_slice_mut(&mut b.grad))?);
    let mut normaliser = opaque(PositiveNormaliser::new());
    opaque(normaliser.update(opaque(7)));
    opaque((
        approx::exp(opaque(1.0)),
        approx::ln(opaque(2.0)),
        approx::ln_1p(opaque(0.5)),
    ));
    Ok(())
}

/// Every entry point of the sigmoid form's options ([`ExtendedSigmoidFocal`](focal_loss::ExtendedSigmoidFocal)) with `f32`
/// and `u8` targets, on opaque inputs; the first error ends it.
#[inline]
pub fn sigmoid_options_all() -> Result<(), FocalError> {
    let (mut b, kernel, reduction) = opaque_inputs();
    sigmoid_options(&mut b, kernel, reduction, &opaque([1.0f32; N]))?;
    sigmoid_options(&mut b, kernel, reduction, &opaque([1u8; N]))
}

/// Every entry point of [`SoftmaxFocal`] with every target type, on opaque inputs; the first
/// error ends it.
#[inline]
pub fn multi_class() -> Result<(), FocalError> {
    let (mut b, kernel, reduction) = opaque_inputs();
    softmax(&mut b, kernel, reduction, &opaque([1i64; N]))?;
    softmax(&mut b, kernel, reduction, &opaque([1i32; N]))?;
    softmax(&mut b, kernel, reduction, &opaque([1u32; N]))?;
    softmax(&mut b, kernel, reduction, &opaque([1u16; N]))?;
    softmax(&mut b, kernel, reduction, &opaque([1u8; N]))?;
    softmax(&mut b, kernel, reduction, &opaque([1usize; N]))?;
    softmax(&mut b, kernel, reduction, &opaque([0.25f32; N]))
}

/// Every entry point of [`SigmoidFocal`] with targets `t`.
fn sigmoid<T: BinaryTarget>(
    b: &mut Buffers,
    kernel: Kernel,
    reduction: Reduction,
    t: &[T],
) -> Result<(), FocalError> {
    let fl = SigmoidFocal::new(opaque(2.0), opaque(Some(0.25)))?.with_kernel(kernel);
    let fl = fl.with_gamma(opaque(2.5))?.with_alpha(opaque(None))?;
    let (x, w, t) = (opaque_slice(&b.x), opaque_slice(&b.w), opaque_slice(t));
    six_entry_points!(fl, b, x, t, w, reduction);
    Ok(())
}

/// Every entry point of the sigmoid form's options ([`ExtendedSigmoidFocal`](focal_loss::ExtendedSigmoidFocal): Poly-1, and
/// reduced with normalised) with targets `t`.
fn sigmoid_options<T: BinaryTarget>(
    b: &mut Buffers,
    kernel: Kernel,
    reduction: Reduction,
    t: &[T],
) -> Result<(), FocalError> {
    let fl = SigmoidFocal::new(opaque(2.0), opaque(Some(0.25)))?.with_kernel(kernel);
    let (x, w, t) = (opaque_slice(&b.x), opaque_slice(&b.w), opaque_slice(t));
    let poly = fl.with_poly1(opaque(1.0))?;
    six_entry_points!(poly, b, x, t, w, reduction);
    let reduced = fl.with_reduced_threshold(opaque(0.5))?.normalized();
    six_entry_points!(reduced, b, x, t, w, reduction);
    Ok(())
}

/// The six entry points (`loss`, `loss_per_element`, `loss_and_grad`, each plain and
/// `_weighted`) of the loss `$fl` on the buffers `$b`; the first error returns it.
macro_rules! six_entry_points {
    ($fl:expr, $b:expr, $x:expr, $t:expr, $w:expr, $reduction:expr) => {{
        let (fl, x, t, w, reduction) = ($fl, $x, $t, $w, $reduction);
        opaque(fl.loss(x, t, reduction)?);
        opaque(fl.loss_weighted(x, t, w, reduction)?);
        fl.loss_per_element(x, t, opaque_slice_mut(&mut $b.out))?;
        fl.loss_per_element_weighted(x, t, w, opaque_slice_mut(&mut $b.out))?;
        opaque(fl.loss_and_grad(x, t, reduction, opaque_slice_mut(&mut $b.grad))?);
        let grad = opaque_slice_mut(&mut $b.grad);
        opaque(fl.loss_and_grad_weighted(x, t, w, reduction, grad)?);
    }};
}
use six_entry_points;

/// Every entry point of [`SoftmaxFocal`] with targets `t` (class indices, or probabilities
/// for `f32`), with α, an ignore index and an opaque layout.
fn softmax<T: SoftmaxTarget>(
    b: &mut Buffers,
    kernel: Kernel,
    reduction: Reduction,
    t: &[T],
) -> Result<(), FocalError> {
    let alpha = opaque([0.25f32; CLASSES]);
    let layout = opaque(Layout::ChannelsFirst { spatial: 2 });
    let fl = SoftmaxFocal::new(opaque(CLASSES), opaque(2.0))?.with_gamma(opaque(1.5))?;
    let fl = fl
        .with_alpha(opaque_slice(&alpha))?
        .with_ignore_index(opaque(-100));
    let fl = fl.with_layout(layout)?.with_kernel(kernel);
    let rows = N / CLASSES;
    let (x, t) = (opaque_slice(&b.x), opaque_slice(t));
    let t = t.get(..opaque(rows)).unwrap_or(t);
    let w = b.w.get(..opaque(rows)).unwrap_or(&b.w);
    opaque(fl.loss(x, t, reduction)?);
    opaque(fl.loss_weighted(x, t, w, reduction)?);
    let out = b.out.get_mut(..opaque(rows)).unwrap_or(&mut []);
    fl.loss_per_element(x, t, out)?;
    fl.loss_per_element_weighted(x, t, w, out)?;
    opaque(fl.loss_and_grad(x, t, reduction, opaque_slice_mut(&mut b.grad))?);
    let grad = opaque_slice_mut(&mut b.grad);
    opaque(fl.loss_and_grad_weighted(x, t, w, reduction, grad)?);
    // Poly-1 (hard targets only: soft targets are `PolyWithSoftTargets`, an error this run
    // ignores).
    let poly = fl.with_poly1(opaque(1.0))?;
    opaque(poly.loss(x, t, reduction).ok());
    opaque(
        poly.loss_and_grad(x, t, reduction, opaque_slice_mut(&mut b.grad))
            .ok(),
    );
    Ok(())
}

/// Every entry point of the variants whose targets are 0 / 1 ([`FocalStar`],
/// [`Asymmetric`]) with targets `t`.
fn variants<T: BinaryTarget>(
    b: &mut Buffers,
    kernel: Kernel,
    reduction: Reduction,
    t: &[T],
) -> Result<(), FocalError> {
    let (x, t) = (opaque_slice(&b.x), opaque_slice(t));
    let star = FocalStar::new(opaque(2.0), opaque(1.0), opaque(Some(0.25)))?.with_kernel(kernel);
    opaque(star.loss(x, t, reduction)?);
    star.loss_per_element(x, t, opaque_slice_mut(&mut b.out))?;
    opaque(star.loss_and_grad(x, t, reduction, opaque_slice_mut(&mut b.grad))?);
    let asl = Asymmetric::new(opaque(1.0), opaque(4.0), opaque(0.05))?.with_kernel(kernel);
    opaque(asl.loss(x, t, reduction)?);
    asl.loss_per_element(x, t, opaque_slice_mut(&mut b.out))?;
    opaque(asl.loss_and_grad(x, t, reduction, opaque_slice_mut(&mut b.grad))?);
    Ok(())
}
